import { DynamoDbLock } from '../../../core/dynamo-db-lock.js';
import { readResource } from '../../../core/waiting/read-resource.js';
import type { StoredRequest } from '../../../core/waiting/request.js';
import type { LocalAws } from '../../../local/start-local-aws.js';
import { dynamoDbClient } from '../../support/dynamodb.js';
import { eventually } from '../../support/local-aws.js';
import { counts, sqsEvent, tableStore } from './workflow-kit.js';

/**
 * Helpers of the waiting-protocol tests on the local AWS. They use only what the first protocol
 * had too (request keys, chains, `granted`), so the path tests also run against it.
 */

/** A library lock on the run's table: it stands in for "the slot is busy" (its release hands nothing over). */
export const libraryLock = (aws: LocalAws, resourceId: string, duration = 30) =>
  new DynamoDbLock(resourceId, { tableName: aws.tableName, client: dynamoDbClient(), duration });

/** The resource's requests as stored. */
export async function requestsOf(aws: LocalAws, resourceId: string): Promise<StoredRequest[]> {
  return (await readResource(tableStore(aws), resourceId)).requests;
}

/** The request's retry message as SQS would hand it out again (after its visibility timeout). */
export function redeliver(aws: LocalAws, request: StoredRequest) {
  const message = {
    resourceId: request.resourceId,
    requestKey: request.requestKey,
    retryChain: request.retryChain,
    attempt: 1,
  };
  const retryArn = aws.functions.acquire.replace('dynamo-dlm-acquire', 'dynamo-dlm-retry');
  return aws.lambda.invoke(retryArn, sqsEvent(JSON.stringify(message)));
}

/** Waits until `count` requests of the resource wait, and answers them. */
export async function waitingRequests(
  aws: LocalAws,
  resourceId: string,
  count: number,
): Promise<StoredRequest[]> {
  await eventually(async () => (await counts(aws, resourceId)).waiting === count, 10_000, `${count} waiting`);
  return requestsOf(aws, resourceId);
}

/** Waits for a grant recorded and not answered yet, and answers its request. */
export async function grantedRequest(aws: LocalAws, resourceId: string): Promise<StoredRequest> {
  let granted: StoredRequest | undefined;
  await eventually(
    async () => {
      granted = (await requestsOf(aws, resourceId)).find(
        (request) => request.granted && request.state !== 'answered',
      );
      return granted !== undefined;
    },
    15_000,
    'a grant recorded',
  );
  return granted as StoredRequest;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
