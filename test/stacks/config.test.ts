import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { existingTableProblems, lockTable, ownerIndexCommand } from '../../stacks/table.js';
import {
  account,
  existingTables,
  loadStacks,
  type Output,
  type Registered,
  region,
  registeredCount,
  resolved,
  root,
  settled,
} from './pulumi-mocks.js';

interface SstConfig {
  app(input: { stage: string }): { name: string; removal: string; protect: boolean; home: string };
  run(): Promise<Record<string, Output<string>>>;
}

/** `sst.config.ts` as SST evaluates it: `$config` hands the object back. */
async function sstConfig(): Promise<SstConfig> {
  await loadStacks();
  (globalThis as Record<string, unknown>).$config = (config: SstConfig) => config;
  return ((await import(/* @vite-ignore */ join(root, 'sst.config.ts'))) as { default: SstConfig }).default;
}

describe('sst.config.ts', () => {
  it('keeps the tables of every stage when the stage is removed, and refuses `sst remove` on prod', async () => {
    const { app } = await sstConfig();
    expect(app({ stage: 'prod' })).toMatchObject({
      name: 'dynamo-dlm',
      home: 'aws',
      removal: 'retain',
      protect: true,
    });
    expect(app({ stage: 'dev' })).toMatchObject({ removal: 'retain', protect: false });
  });

  it('deploys the service and outputs the function ARNs, the table, the queue and the example', async () => {
    // `sst deploy` reads its settings from the environment, which other test files share.
    const saved = { ...process.env };
    for (const name of ['DLM_TABLE_NAME', 'DLM_EXISTING_TABLE', 'DLM_ALARM_TOPIC_ARN', 'DLM_REMOVE_TABLES'])
      delete process.env[name];
    const outputs = await (await sstConfig()).run().finally(() => Object.assign(process.env, saved));
    const values = Object.fromEntries(
      await Promise.all(Object.entries(outputs).map(async ([key, output]) => [key, await resolved(output)])),
    );
    const functionArn = (name: string) =>
      `arn:aws:lambda:${region}:${account}:function:dynamo-dlm-test-${name}`;
    expect(values).toEqual({
      tableName: 'dynamo-dlm-test-locks',
      requestTableName: 'dynamo-dlm-test-requests',
      retryQueueUrl: `https://sqs.${region}.amazonaws.com/${account}/dynamo-dlm-test-retry`,
      deadLetterQueueUrl: `https://sqs.${region}.amazonaws.com/${account}/dynamo-dlm-test-retry-dead-letter`,
      acquireFunctionArn: functionArn('acquire'),
      releaseFunctionArn: functionArn('release'),
      countFunctionArn: functionArn('count'),
      extendFunctionArn: functionArn('extend'),
      retryFunctionArn: functionArn('retry'),
      cleanupFunctionArn: functionArn('cleanup'),
      sweeperFunctionArn: functionArn('sweeper'),
      exampleStateMachineArn: `arn:aws:states:${region}:${account}:stateMachine:dynamo-dlm-test-example`,
    });
  }, 60_000);
});

describe('deploy settings', () => {
  it('come from the environment of `sst deploy`, per stage', async () => {
    const { deploySettings } = await loadStacks();
    expect(deploySettings({})).toEqual({ existingTable: false, removeTables: false });
    expect(
      deploySettings({
        DLM_TABLE_NAME: 'locks_dev',
        DLM_EXISTING_TABLE: 'true',
        DLM_ALARM_TOPIC_ARN: 'arn:topic',
        DLM_REMOVE_TABLES: 'true',
      }),
    ).toEqual({
      tableName: 'locks_dev',
      existingTable: true,
      alarmTopicArn: 'arn:topic',
      removeTables: true,
    });
    expect(() => deploySettings({ DLM_EXISTING_TABLE: 'yes' })).toThrow(
      /DLM_EXISTING_TABLE to be true or false/,
    );
  });
});

describe('DynamoDlm, the reusable component', () => {
  const pythonTable = {
    id: 'python_locks',
    name: 'python_locks',
    arn: `arn:aws:dynamodb:${region}:${account}:table/python_locks`,
    hashKey: 'resource_id',
    rangeKey: 'concurrency_id',
    globalSecondaryIndexes: [{ name: 'owner-index', hashKey: 'owner' }],
    ttl: { attributeName: 'expires', enabled: true },
  };

  async function deploy(
    args: Record<string, unknown>,
  ): Promise<{ resources: Registered[]; tableArn: string }> {
    const { DynamoDlm } = await loadStacks();
    const mark = registeredCount();
    const locks = new DynamoDlm('Shared', { namePrefix: 'shared', ...args });
    return { resources: await settled([locks], mark), tableArn: await resolved(locks.tableArn) };
  }

  it('uses an existing table, shared with Python dynamo-dlm, without creating or owning it', async () => {
    existingTables.set('python_locks', pythonTable);
    const { resources, tableArn } = await deploy({ tableName: 'python_locks', existingTable: true });
    // Only the request table, which is never shared.
    expect(
      resources
        .filter((resource) => resource.type === 'aws:dynamodb/table:Table')
        .map((table) => table.inputs.name),
    ).toEqual(['python_locks_requests']);
    expect(tableArn).toBe(pythonTable.arn);
    const acquire = resources.find((resource) => resource.name === 'SharedAcquirePolicy');
    expect(JSON.parse(String(acquire?.inputs.policy)).Statement[0].Resource).toEqual([pythonTable.arn]);
    const sweeper = resources.find((resource) => resource.name === 'SharedSweeperPolicy');
    expect(
      JSON.parse(String(sweeper?.inputs.policy)).Statement.find(
        (statement: { Sid: string }) => statement.Sid === 'DueIndex',
      )?.Resource,
    ).toEqual([`arn:aws:dynamodb:${region}:${account}:table/python_locks_requests/index/due-index`]);
  }, 60_000);

  it('narrows the task answers to the state machines it is given, and passes the retry back-off', async () => {
    const callers = [`arn:aws:states:${region}:${account}:stateMachine:orders-*`];
    const { resources } = await deploy({
      callerStateMachineArns: callers,
      retryBackoff: { baseSeconds: 2, capSeconds: 120 },
    });
    const retryPolicy = JSON.parse(
      String(resources.find((resource) => resource.name === 'SharedRetryPolicy')?.inputs.policy),
    ) as { Statement: { Sid: string; Resource: string[] }[] };
    expect(retryPolicy.Statement.find((statement) => statement.Sid === 'AnswerTasks')?.Resource).toEqual(
      callers,
    );
    const retry = resources.find((resource) => resource.name === 'SharedRetry');
    expect(
      (retry?.inputs.environment as { variables?: Record<string, string> } | undefined)?.variables,
    ).toMatchObject({
      DLM_RETRY_BASE_SECONDS: '2',
      DLM_RETRY_CAP_SECONDS: '120',
    });
  }, 60_000);

  it('refuses a name prefix that would make a function name too long', async () => {
    const { DynamoDlm } = await loadStacks();
    expect(() => new DynamoDlm('TooLong', { namePrefix: 'x'.repeat(57) })).toThrow(TypeError);
  });
});

describe('an existing table', () => {
  const fits = {
    name: 'python_locks',
    hashKey: 'resource_id',
    rangeKey: 'concurrency_id',
    globalSecondaryIndexes: [{ name: 'owner-index' }],
    ttl: { attributeName: 'expires', enabled: true },
  };

  it('fits when it has the dynamo-dlm keys and the owner index (the due index is in the request table)', () => {
    expect(existingTableProblems(fits)).toEqual([]);
  });

  it('without the owner index is refused with the command that adds it', () => {
    const problems = existingTableProblems({ ...fits, globalSecondaryIndexes: [{ name: 'due-index' }] });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(ownerIndexCommand('python_locks'));
    expect(ownerIndexCommand('python_locks')).toContain(`"IndexName":"${lockTable.ownerIndex}"`);
  });

  it('with other keys is refused as not a dynamo-dlm table', () => {
    expect(existingTableProblems({ ...fits, hashKey: 'pk', rangeKey: '' })[0]).toMatch(
      /not a dynamo-dlm table/,
    );
  });
});
