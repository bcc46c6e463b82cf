import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '../../functions/lib/logger.js';
import { dynamoDbClient, freshWaitingTables, uniqueResource } from '../support/dynamodb.js';
import type { CallFault, Service } from './simulation/services.js';
import { type Scenario, simulated, World } from './simulation/world.js';
import { chaosSettings, countFigure, figureLines } from './support/chaos-settings.js';
import { restoreFunctionClients } from './support/workflow-kit.js';

const settings = chaosSettings();
const savedEnv = { ...process.env };
let tableName: string;

beforeAll(async () => {
  const tables = await freshWaitingTables('protocol');
  tableName = tables.tableName;
  Object.assign(process.env, {
    DLM_TABLE_NAME: tableName,
    DLM_REQUEST_TABLE_NAME: tables.requestTableName,
    DLM_RETRY_QUEUE_URL: 'https://sqs.simulated/000000000000/retry',
    DLM_RETRY_BASE_SECONDS: String(simulated.retryBaseSeconds),
    DLM_RETRY_CAP_SECONDS: String(simulated.retryCapSeconds),
  });
  // Lost answers make the store warn at every retry; the simulation counts them instead.
  logger.setLogLevel('CRITICAL');
});

afterAll(() => {
  for (const name of [
    'DLM_TABLE_NAME',
    'DLM_REQUEST_TABLE_NAME',
    'DLM_RETRY_QUEUE_URL',
    'DLM_RETRY_BASE_SECONDS',
    'DLM_RETRY_CAP_SECONDS',
  ]) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
  logger.setLogLevel('WARN');
  restoreFunctionClients();
  console.log(`protocol simulation (seed ${settings.seed}):\n  ${figureLines('protocol.').join('\n  ')}`);
});

const lostAnswers: CallFault[] = ['lost-request', 'lose-answer', 'duplicate'];
const crashes: CallFault[] = ['crash', 'crash-after'];

/** A few executions on one resource, a library client sometimes, and faults on any calls. */
function scenarios(sweeper: boolean): fc.Arbitrary<Scenario> {
  // CHAOS_FAULTS=crash,lose-answer narrows a run to some kinds of fault (with the sweeper).
  const chosen = process.env.CHAOS_FAULTS?.split(',') as CallFault[] | undefined;
  const kinds = sweeper ? (chosen ?? [...lostAnswers, ...crashes, ...crashes]) : lostAnswers;
  const fault = fc.constantFrom(...kinds);
  return fc.record(
    {
      // Three slots sometimes: room for requests of 2 and 3 permits beside requests of 1.
      concurrency: fc.constantFrom(1, 1, 2, 3),
      leaseSeconds: fc.constantFrom(5, 10),
      executions: fc.array(
        fc.record(
          {
            startMs: fc.integer({ min: 0, max: 4_000 }),
            workMs: fc.integer({ min: 100, max: 12_000 }),
            waitSeconds: fc.integer({ min: 2, max: 40 }),
            skipsRelease: fc.boolean(),
            stopAfterMs: fc.integer({ min: 0, max: 15_000 }),
            // At most the concurrency (the world clamps it): mixed sizes on one queue.
            permits: fc.constantFrom(1, 1, 2, 3),
          },
          { requiredKeys: ['startMs', 'workMs', 'waitSeconds', 'skipsRelease'] },
        ),
        { minLength: 2, maxLength: 5 },
      ),
      library: fc.record({
        atMs: fc.integer({ min: 0, max: 10_000 }),
        holdMs: fc.integer({ min: 100, max: 8_000 }),
        everyMs: fc.constantFrom(1_000, 2_500),
      }),
      sweeper: fc.constant(sweeper),
      faults: fc.array(
        fc.record({ service: fc.constantFrom<Service>('dynamodb', 'sqs', 'sfn'), at: fc.nat(15), fault }),
        { maxLength: 8 },
      ),
    },
    { requiredKeys: ['concurrency', 'leaseSeconds', 'executions', 'sweeper', 'faults'] },
  );
}

/** Runs the simulation on `arbitrary`; throws the shrunk counterexample with its trace. */
async function simulate(label: string, arbitrary: fc.Arbitrary<Scenario>, numRuns: number) {
  const property = fc.asyncProperty(fc.scheduler(), arbitrary, async (scheduler, scenario) => {
    countFigure(`protocol.${label}.runs`);
    countFigure(`protocol.${label}.executions`, scenario.executions.length);
    const world = new World(scheduler, scenario, uniqueResource('sim'), tableName, dynamoDbClient());
    try {
      await world.run();
    } finally {
      countFigure(`protocol.${label}.faults`, world.gate.injected.length);
      countFigure(`protocol.${label}.interleaved-calls`, world.gate.calls);
      restoreFunctionClients();
    }
  });
  const details = await fc.check(property, {
    seed: settings.seed,
    numRuns,
    // CHAOS_REPLAY_PATH (with CHAOS_SEED) replays a reported counterexample at once.
    ...(process.env.CHAOS_REPLAY_PATH ? { path: process.env.CHAOS_REPLAY_PATH, endOnFailure: true } : {}),
    interruptAfterTimeLimit: settings.protocolSeconds * 1000,
    markInterruptAsFailure: false,
  });
  if (details.failed) {
    // The shrunk scenario and the violation with its trace; the scheduler's full report after.
    const [, scenario] = details.counterexample ?? [];
    throw new Error(
      `${(details.errorInstance as Error)?.message}\nscenario: ${JSON.stringify(scenario)}\n\n${fc.defaultReportMessage(details)}`,
    );
  }
  if (!process.env.CHAOS_REPLAY_PATH) expect(details.numRuns).toBeGreaterThanOrEqual(Math.min(10, numRuns));
}

describe('the waiting protocol, simulated', () => {
  it(
    'never puts two on one slot nor more permits than the concurrency in use, grants in arrival order (requests of 1, 2 and 3 permits), answers every request within its wait plus the bound, and leaves no request behind, under any interleaving, lost answers and crashes',
    () => simulate('with-sweeper', scenarios(true), settings.protocolRuns),
    600_000,
  );

  it(
    'keeps every retry loop alive by itself when answers are lost or duplicated (no sweeper)',
    () => simulate('loop-alone', scenarios(false), Math.ceil(settings.protocolRuns / 2)),
    600_000,
  );
});
