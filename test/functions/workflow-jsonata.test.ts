import { beforeAll, describe, expect, it } from 'vitest';
import { exampleJsonataStateMachine } from '../../core/steps/jsonata.js';
import { countResource } from '../../core/waiting/count-resource.js';
import type { LocalAws } from '../../local/start-local-aws.js';
import { tableStore } from '../safety/support/workflow-kit.js';
import { uniqueResource } from '../support/dynamodb.js';
import { createStateMachine, localAws, startExecution, waitForExecutions } from '../support/local-aws.js';

/*
 * The JSONata example state machine (what `sst.aws.StepFunctions` users write) end to end on the
 * local AWS, with the real functions: the task token and execution id from `$states.context`, the
 * lease assigned to `$lock`, the release reading it back.
 */

let aws: LocalAws;
let exampleArn: string;
let inFlight = 0;
let mostInFlight = 0;

beforeAll(async () => {
  aws = await localAws();
  const workArn = aws.lambda.register({
    name: `jsonata-work-${process.pid}`,
    timeoutSeconds: 10,
    handler: async (event: { fail?: boolean }) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 100));
      inFlight--;
      if (event.fail) throw Object.assign(new Error('work failed on purpose'), { name: 'WorkError' });
      return { done: true };
    },
  });
  exampleArn = await createStateMachine(
    exampleJsonataStateMachine({ functions: aws.functions, workFunctionArn: workArn, waitSeconds: 60 }),
    'example-jsonata',
  );
}, 60_000);

describe('the JSONata example workflow', () => {
  it('runs 12 executions on a mutex: all succeed or fail as asked, one at work at a time, nothing held after', async () => {
    const resourceId = uniqueResource('jsonata');
    const arns = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        startExecution(exampleArn, { resourceId, concurrency: 1, fail: index === 5 }),
      ),
    );
    const results = await waitForExecutions(arns, 60_000);
    const statuses = results.map((result) => result.status);
    expect(statuses.filter((status) => status === 'SUCCEEDED')).toHaveLength(11);
    // The failed work released its slot on the way out (ReleaseAfterFailure), then failed.
    expect(results[5]?.status).toBe('FAILED');
    expect(mostInFlight).toBe(1);
    expect(await countResource(tableStore(aws), resourceId)).toMatchObject({ held: 0, waiting: 0 });
  }, 90_000);
});
