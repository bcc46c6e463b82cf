import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, describe, expect, it } from 'vitest';
import { chaosSettings, countFigure, figureLines, seededRandom } from '../safety/support/chaos-settings.js';
import { captureOutput, linesWithTokens } from '../safety/support/log-capture.js';
import {
  counts,
  createExampleMachine,
  deadLetterDepth,
  overlapViolations,
  registerTrackedWork,
} from '../safety/support/workflow-kit.js';
import { uniqueResource } from '../support/dynamodb.js';
import { eventually, localAws, sfnClient, startExecution, waitForExecution } from '../support/local-aws.js';

const settings = chaosSettings();

afterAll(() => {
  console.log(`workflow soak (seed ${settings.seed}):\n  ${figureLines('soak.').join('\n  ')}`);
});

/** One planned execution: drawn up front from the seed, so a run can be replayed. */
interface Plan {
  resource: number;
  workMs: number;
  fail: boolean;
  stopAfterMs: number | undefined;
}

describe('workflow soak', () => {
  it(
    `runs up to ${settings.soakExecutions} executions on three resources with random work, failures and stops: every one ends, every slot is free, the DLQ is empty`,
    async () => {
      const aws = await localAws();
      const work = registerTrackedWork(aws, 'soak-work');
      const machineArn = await createExampleMachine(aws, work.arn, 'soak', 30);
      const random = seededRandom(settings.seed);
      const resources = [1, 2, 3].map((concurrency) => ({
        resourceId: uniqueResource(`soak-k${concurrency}`),
        concurrency,
      }));
      const plans: Plan[] = Array.from({ length: settings.soakExecutions }, () => ({
        resource: Math.floor(random() * resources.length),
        // Mostly short, sometimes long: the product of two uniforms.
        workMs: Math.floor(random() * random() * 400),
        fail: random() < 0.1,
        stopAfterMs: random() < 0.1 ? Math.floor(random() * 800) : undefined,
      }));
      const sfn = await sfnClient();
      const output = captureOutput('INFO');
      const started = Date.now();
      const startUntil = started + settings.soakSeconds * 1000;
      const running = new Set<Promise<unknown>>();
      const finished: Array<{ plan: Plan; status?: string; error?: string; stopped: boolean }> = [];
      const stoppedAt = new Map<string, number>();
      try {
        for (const plan of plans) {
          if (Date.now() > startUntil) break;
          while (running.size >= 40) await Promise.race(running);
          const { resourceId, concurrency } = resources[plan.resource] as (typeof resources)[number];
          const record: (typeof finished)[number] = { plan, stopped: false };
          const tag = `soak-${finished.length}`;
          finished.push(record);
          const execution = (async () => {
            const executionArn = await startExecution(machineArn, {
              resourceId,
              concurrency,
              tag,
              workMs: plan.workMs,
              fail: plan.fail,
              waitSeconds: 120,
            });
            if (plan.stopAfterMs !== undefined) {
              setTimeout(() => {
                record.stopped = true;
                stoppedAt.set(tag, Date.now());
                sfn.send(new StopExecutionCommand({ executionArn, error: 'Soak.Stopped' })).catch(() => {});
              }, plan.stopAfterMs);
            }
            const result = await waitForExecution(executionArn, 150_000);
            record.status = result.status;
            record.error = result.error;
          })();
          running.add(execution);
          execution.finally(() => running.delete(execution)).catch(() => {});
        }
        await Promise.all(running);
        // Stops may still be on their timers: let them land before checking the end state.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        for (const { resourceId } of resources) {
          await eventually(
            async () => JSON.stringify(await counts(aws, resourceId)) === '{"held":0,"waiting":0}',
            10_000,
            `${resourceId} free`,
          );
        }
      } finally {
        output.stop();
      }
      const seconds = Math.round((Date.now() - started) / 1000);
      countFigure('soak.executions', finished.length);
      countFigure('soak.seconds', seconds);
      for (const record of finished)
        countFigure(`soak.status.${record.status}${record.error ? `.${record.error}` : ''}`);
      countFigure('soak.logLines', output.lines.length);

      // Every execution ended, as its plan says.
      for (const { plan, status, error, stopped } of finished) {
        if (status === 'ABORTED') expect(stopped).toBe(true);
        else if (status === 'FAILED') expect([plan.fail, error]).toEqual([true, 'Work.Failed']);
        else expect([status, plan.fail]).toEqual(['SUCCEEDED', false]);
      }
      // Never two executions on one slot, never more than K at work: counted under the lock,
      // that is, up to its stop for an execution stopped during its work.
      const concurrencyOf = (resourceId: string) =>
        resources.find((resource) => resource.resourceId === resourceId)?.concurrency ?? 0;
      const ours = work.intervals.filter((interval) =>
        resources.some((r) => r.resourceId === interval.resourceId),
      );
      expect(overlapViolations(ours, concurrencyOf, (tag) => stoppedAt.get(tag))).toEqual([]);
      const orphaned = overlapViolations(ours, concurrencyOf).length;
      countFigure('soak.overlaps-after-a-stop', orphaned);
      expect(await deadLetterDepth(aws)).toBe(0);
      expect(linesWithTokens(output.lines)).toEqual([]);
      expect(finished.length).toBeGreaterThanOrEqual(Math.min(100, settings.soakExecutions));
    },
    (settings.soakSeconds + 240) * 1000,
  );
});
