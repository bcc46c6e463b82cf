import type { TestProject } from 'vitest/node';
import { JavaMissingError } from '../local/dynamodb/java.js';
import { type LocalDynamoDb, startDynamoDbLocal } from '../local/dynamodb/start-dynamodb-local.js';

let dynamodb: LocalDynamoDb | undefined;

/** Starts DynamoDB Local once for the whole run; the workers find it through the SDK's env variable. */
export async function setup(project: TestProject): Promise<void> {
  try {
    dynamodb = await startDynamoDbLocal();
  } catch (error) {
    if (error instanceof JavaMissingError) {
      // One line, not a stack trace: this is a setup problem the user fixes in one command.
      console.error(`\n${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamodb.endpoint;
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
}

export async function teardown(): Promise<void> {
  await dynamodb?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}
