import { beforeAll, describe, expect, it } from 'vitest';
import { setResourceLimit } from '../../../core/resource-limit.js';
import type { LocalAws } from '../../../local/start-local-aws.js';
import { uniqueResource } from '../../support/dynamodb.js';
import { eventually, startExecution, waitForExecution } from '../../support/local-aws.js';
import { tableStore, type WorkRecord } from '../support/workflow-kit.js';
import { attackStage, statusOf } from './attack-kit.js';

/*
 * Issue 15, attack 4: each caller named its own limit, so a caller asking for concurrency 3 got a
 * slot beside the holder of a mutex. The limit is the resource's now: recorded by its first grant.
 */

let aws: LocalAws;
let work: WorkRecord;
let machineArn: string;

beforeAll(async () => {
  ({ aws, work, machineArn } = await attackStage('limits'));
}, 60_000);

const run = (resourceId: string, concurrency: number, tag: string, workMs: number) =>
  startExecution(machineArn, { resourceId, concurrency, waitSeconds: 60, tag, workMs });

describe('the limit of a resource (issue 15, attack 4)', () => {
  it('refuses a caller that asks for more than the first grant recorded, naming both', async () => {
    const resourceId = uniqueResource('mutex');
    const holder = await run(resourceId, 1, 'holder', 3_000);
    await eventually(() => work.mostInFlight.get(resourceId) === 1);
    const wider = await waitForExecution(await run(resourceId, 3, 'wider', 50));
    // Before: the wider caller took slot 1 or 2 and worked beside the holder.
    expect(wider.status).toBe('FAILED');
    expect(wider.error).toBe('Lock.InvalidRequest');
    expect(wider.cause).toContain('concurrency 3 does not match the limit 1');
    expect(await statusOf(holder)).toBe('RUNNING');
    expect((await waitForExecution(holder)).status).toBe('SUCCEEDED');
    expect(work.mostInFlight.get(resourceId)).toBe(1);
  }, 60_000);

  it('takes a changed limit once it is changed on purpose', async () => {
    const resourceId = uniqueResource('widened');
    expect((await waitForExecution(await run(resourceId, 1, 'first', 50))).status).toBe('SUCCEEDED');
    expect(await setResourceLimit(tableStore(aws), resourceId, 2, 'test@limits')).toBe(1);
    const both = await Promise.all([run(resourceId, 2, 'a', 1_000), run(resourceId, 2, 'b', 1_000)]);
    for (const arn of both) expect((await waitForExecution(arn)).status).toBe('SUCCEEDED');
    expect(work.mostInFlight.get(resourceId)).toBe(2);
    // The old limit is refused now.
    const old = await waitForExecution(await run(resourceId, 1, 'old', 50));
    expect([old.error, old.cause]).toEqual(['Lock.InvalidRequest', expect.stringContaining('limit 2')]);
  }, 60_000);
});
