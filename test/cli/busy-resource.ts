import { DynamoDbLock } from '../../core/index.js';
import type { Lease } from '../../core/lease.js';
import { recordWaiting } from '../../core/waiting/record-waiting.js';
import type { WaitingStore } from '../../core/waiting/waiting-store.js';
import { dynamoDbClient } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';

/** The owner of the waiting request `busyResource` records. */
export const waiterOwner = 'arn:aws:states:us-east-1:123456789012:execution:demo:waiter-1';

/** A lock of 2 slots and 60 s leases on the store's table, held by `owner`. */
export function lockOn(store: WaitingStore, resourceId: string, owner: string): DynamoDbLock {
  return new DynamoDbLock(resourceId, {
    tableName: store.tableName,
    client: dynamoDbClient(),
    logger: recordingLogger(),
    concurrency: 2,
    duration: 60,
    owner,
  });
}

/**
 * Two holders (worker-a, worker-b) of a resource of 2 slots, and one waiting workflow request:
 * what the CLI's views are tried on. Answers the leases and the request's task token.
 */
export async function busyResource(
  store: WaitingStore,
  resourceId: string,
): Promise<{ leases: Lease[]; taskToken: string }> {
  const leases = [
    await lockOn(store, resourceId, 'worker-a').acquire(),
    await lockOn(store, resourceId, 'worker-b').acquire(),
  ];
  const taskToken = `AAAAKgAAAAIAAAAA-fake-task-token-${Math.random().toString(36).slice(2)}-end`;
  await recordWaiting(
    store,
    {
      resourceId,
      concurrency: 2,
      leaseMs: 30_000,
      waitUntilMs: Date.now() + 3_600_000,
      taskToken,
      owner: waiterOwner,
    },
    { retryChain: 'c1', dueMs: Date.now() + 60_000 },
  );
  return { leases, taskToken };
}
