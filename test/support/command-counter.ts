import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { countRequests, dynamoDbWriteCommands } from '../../local/count-requests.js';

/** A DynamoDB client of its own that counts the commands it sends, by name. */
export function countingClient(): { client: DynamoDBClient; counts: Map<string, number>; writes(): number } {
  const client = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1' });
  const { counts, sum } = countRequests(client);
  return { client, counts, writes: () => sum(dynamoDbWriteCommands) };
}
