import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../core/dynamo-db-lock.js';
import { acquireState, extendState, releaseState } from '../../core/steps/states.js';
import type { LocalAws } from '../../local/start-local-aws.js';
import { dynamoDbClient, uniqueResource } from '../support/dynamodb.js';
import { createStateMachine, localAws, startExecution, waitForExecution } from '../support/local-aws.js';

let aws: LocalAws;

beforeAll(async () => {
  aws = await localAws();
}, 60_000);

describe('long holds', () => {
  it('extends a held lease with the extend step, and answers Lock.Lost once the slot is gone', async () => {
    const resourceId = uniqueResource('extend');
    const arn = await createStateMachine(
      {
        StartAt: 'Acquire',
        States: {
          Acquire: acquireState({
            functionArn: aws.functions.acquire,
            resourceId,
            leaseSeconds: 2,
            next: 'Extend',
          }),
          Extend: extendState({ functionArn: aws.functions.extend, leaseSeconds: 600, next: 'Release' }),
          Release: releaseState({ functionArn: aws.functions.release, next: 'ExtendAfterRelease' }),
          ExtendAfterRelease: extendState({
            functionArn: aws.functions.extend,
            leaseSeconds: 600,
            resultPath: '$.late',
            catch: [{ ErrorEquals: ['Lock.Lost'], ResultPath: '$.lost', Next: 'Done' }],
            next: 'Done',
          }),
          Done: { Type: 'Succeed' },
        },
      },
      'extend',
    );
    const result = await waitForExecution(await startExecution(arn, {}));
    expect(result.status).toBe('SUCCEEDED');
    const output = JSON.parse(result.output ?? '{}');
    // The extended lease ends about 600 s from now, not 2 s.
    expect(Date.parse(output.lock.expiresAt) - Date.now()).toBeGreaterThan(590_000);
    expect(output.release).toEqual({ released: true });
    expect(output.lost.Error).toBe('Lock.Lost');
    expect(output.late).toBeUndefined();
  });

  it('keeps a waiting acquire with HeartbeatSeconds alive past that time through the retry loop heartbeats', async () => {
    const resourceId = uniqueResource('heartbeat');
    const holder = new DynamoDbLock(resourceId, {
      tableName: aws.tableName,
      client: dynamoDbClient(),
      duration: 60,
    });
    await holder.acquire();
    const arn = await createStateMachine(
      {
        StartAt: 'Acquire',
        States: {
          // The test's retry cap is 2 s: heartbeats come at most 2 s apart, well inside 4 s.
          Acquire: acquireState({
            functionArn: aws.functions.acquire,
            resourceId,
            heartbeatSeconds: 4,
            next: 'Release',
          }),
          Release: releaseState({ functionArn: aws.functions.release, end: true }),
        },
      },
      'heartbeat',
    );
    const execution = await startExecution(arn, {});
    // Hold for three heartbeat periods, then free the slot: the waiter must still be there.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    await holder.release();
    const result = await waitForExecution(execution, 15_000);
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '{}').lock.waitedMs).toBeGreaterThan(11_000);
  }, 40_000);
});
