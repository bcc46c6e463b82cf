import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshLockTable } from '../support/dynamodb.js';
import { commandArbitraries } from './model/commands.js';
import { type Model, type Real, setUp, tearDown } from './model/world.js';
import { chaosSettings, countFigure, figureLines } from './support/chaos-settings.js';

const settings = chaosSettings();
let tableName: string;

beforeAll(async () => {
  tableName = await freshLockTable('model');
});

afterAll(() => {
  console.log(`model-based test (seed ${settings.seed}):\n  ${figureLines('model.').join('\n  ')}`);
});

describe('the semaphore against its model', () => {
  it(
    'never has more than K unexpired holders nor K believed leases with clocks apart by up to the bound, never lets a former holder touch the new one, and counts like the model',
    async () => {
      // Three resources, each with its own concurrency and lease length, four clients each.
      // Every client's clock runs ahead of the shared one by up to the bound (100 ms, or a tenth
      // of the lease): within it, a taker never comes in while a holder believes it holds.
      const offsets = fc.array(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 4, maxLength: 4 }), {
        minLength: 3,
        maxLength: 3,
      });
      const resources = fc.record({
        concurrency: fc.tuple(fc.constantFrom(1, 2), fc.constantFrom(1, 2, 3), fc.constantFrom(2, 3, 5)),
        durationMs: fc.tuple(
          fc.constantFrom(1_000, 2_500),
          fc.constantFrom(1_000, 4_000),
          fc.constantFrom(1_500, 3_000),
        ),
      });
      const property = fc.asyncProperty(
        resources,
        offsets,
        fc.commands(commandArbitraries, { maxCommands: settings.modelCommands, size: 'max' }),
        async ({ concurrency, durationMs }, clockOffsets, commands) => {
          countFigure('model.runs');
          let world: { model: Model; real: Real } | undefined;
          try {
            await fc.asyncModelRun(() => {
              world = setUp(tableName, [...concurrency], [...durationMs], clockOffsets);
              return world;
            }, commands);
          } finally {
            if (world) await tearDown(world.real);
          }
        },
      );
      const details = await fc.check(property, {
        seed: settings.seed,
        numRuns: settings.modelRuns,
        // Runs against DynamoDB Local take time: past the budget no run starts, and a failure
        // found by then is reported with the smallest counterexample shrunk so far.
        interruptAfterTimeLimit: settings.modelSeconds * 1000,
        markInterruptAsFailure: false,
      });
      if (details.failed) {
        throw new Error(fc.defaultReportMessage(details) ?? 'the model test failed');
      }
      expect(details.numRuns).toBeGreaterThanOrEqual(Math.min(5, settings.modelRuns));
    },
    (settings.modelSeconds + 60) * 1000,
  );
});
