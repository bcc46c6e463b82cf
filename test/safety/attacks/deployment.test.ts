import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces, userInfo } from 'node:os';
import { GetItemCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../../core/dynamo-db-lock.js';
import { acquireState } from '../../../core/steps/states.js';
import { countResource } from '../../../core/waiting/count-resource.js';
import type { LocalAws } from '../../../local/start-local-aws.js';
import { existingTableProblems } from '../../../stacks/table.js';
import { runDlm } from '../../cli/run-dlm.js';
import {
  account,
  deployedService,
  existingTables,
  loadStacks,
  type Registered,
  region,
  registeredCount,
  resolved,
  settled,
} from '../../stacks/pulumi-mocks.js';
import { dynamoDbClient, freshLockTable, uniqueResource } from '../../support/dynamodb.js';
import { createStateMachine, eventually, localAws, startExecution } from '../../support/local-aws.js';
import { recordingLogger } from '../../support/recording-logger.js';
import { tableStore } from '../support/workflow-kit.js';

/**
 * The attacks of issue 15 on the deployment's trust boundaries, each replayed as the attacker
 * would: someone inside the AWS account, with the deployed roles or the operator's CLI. IAM,
 * rules and removal are read from the program under Pulumi's mocks (what it asks AWS to
 * create); the cleanup and `dlm` run against the local AWS.
 */

interface Statement {
  Sid: string;
  Action: string[];
  Resource: string[];
}

const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;
const policyStatements = (resource: Registered | undefined): Statement[] =>
  JSON.parse(String(resource?.inputs.policy)).Statement;

describe('attack 1: a status event that Step Functions never sent frees what its "execution" holds', () => {
  let aws: LocalAws;
  const cleanup = () => aws.functions.acquire.replace('dynamo-dlm-acquire', 'dynamo-dlm-cleanup');
  // An owner nobody runs: DescribeExecution answers ExecutionDoesNotExist, which counts as ended.
  const ghost = 'arn:aws:states:us-east-1:000000000000:execution:ghost:never-ran';
  const statusEvent = (overrides: Record<string, unknown>, detail: Record<string, unknown> = {}) => ({
    version: '0',
    id: 'forged',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [ghost],
    detail: {
      executionArn: ghost,
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:ghost',
      status: 'FAILED',
      ...detail,
    },
    ...overrides,
  });
  const holderOf = (resourceId: string, owner: string) =>
    new DynamoDbLock(resourceId, {
      tableName: aws.tableName,
      client: dynamoDbClient(),
      duration: 60,
      owner,
      logger: recordingLogger(),
    });
  const held = async (resourceId: string) => (await countResource(tableStore(aws), resourceId)).held;
  const withCallers = async <T>(callers: string, body: () => Promise<T>): Promise<T> => {
    const saved = process.env.DLM_CALLER_STATE_MACHINE_ARNS;
    process.env.DLM_CALLER_STATE_MACHINE_ARNS = callers;
    try {
      return await body();
    } finally {
      if (saved === undefined) delete process.env.DLM_CALLER_STATE_MACHINE_ARNS;
      else process.env.DLM_CALLER_STATE_MACHINE_ARNS = saved;
    }
  };

  beforeAll(async () => {
    aws = await localAws();
  }, 60_000);

  it('frees nothing for an event of another source, another account, or without either', async () => {
    const resourceId = uniqueResource('forged-source');
    const holder = holderOf(resourceId, ghost);
    await holder.acquire();
    for (const forged of [
      statusEvent({ source: 'attacker.app' }),
      statusEvent({ account: '999999999999' }),
      statusEvent({ source: undefined, account: undefined }),
    ]) {
      expect(await aws.lambda.invoke(cleanup(), forged), JSON.stringify(forged.source)).toEqual({
        released: 0,
        withdrawn: 0,
      });
      expect(await held(resourceId)).toBe(1);
    }
    await holder.release();
  });

  it('frees nothing for an execution of a state machine that is not a caller, when callers are configured', async () => {
    const resourceId = uniqueResource('forged-machine');
    const holder = holderOf(resourceId, ghost);
    await holder.acquire();
    const answer = await withCallers('arn:aws:states:us-east-1:000000000000:stateMachine:orders-*', () =>
      aws.lambda.invoke(cleanup(), statusEvent({})),
    );
    expect(answer).toEqual({ released: 0, withdrawn: 0 });
    expect(await held(resourceId)).toBe(1);
    await holder.release();
  });

  it('frees nothing of a running execution, whatever the event says (DescribeExecution decides)', async () => {
    const resourceId = uniqueResource('forged-running');
    const machine = await createStateMachine(
      {
        StartAt: 'Acquire',
        States: {
          Acquire: acquireState({
            functionArn: aws.functions.acquire,
            resourceId: { path: '$.resourceId' },
            leaseSeconds: 60,
            next: 'Hold',
          }),
          Hold: { Type: 'Wait', Seconds: 3, End: true },
        },
      },
      'attack-running',
    );
    const running = await startExecution(machine, { resourceId });
    await eventually(async () => (await held(resourceId)) === 1, 5_000, 'the execution holds its slot');
    const answer = await aws.lambda.invoke(
      cleanup(),
      statusEvent({ resources: [running] }, { executionArn: running, stateMachineArn: machine }),
    );
    expect(answer).toEqual({ released: 0, withdrawn: 0 });
    expect(await held(resourceId)).toBe(1);
  });

  it("still frees a caller's failed execution from the local status event, source and account matching the local Lambda's", async () => {
    const resourceId = uniqueResource('genuine');
    const machine = await createStateMachine(
      {
        StartAt: 'Acquire',
        States: {
          Acquire: acquireState({
            functionArn: aws.functions.acquire,
            resourceId: { path: '$.resourceId' },
            leaseSeconds: 300,
            next: 'Crash',
          }),
          Crash: { Type: 'Fail', Error: 'Crashed' },
        },
      },
      'attack-genuine',
    );
    await withCallers(machine, async () => {
      await startExecution(machine, { resourceId });
      await eventually(async () => (await held(resourceId)) === 0, 5_000, 'the failed execution freed');
    });
  });

  it('is routed by an EventBridge rule that names the account and the caller state machines', async () => {
    const { resources } = await deployedService();
    const rule = resources.find((resource) => resource.name === 'LocksExecutionFailedRule');
    const pattern = JSON.parse(String(rule?.inputs.eventPattern));
    expect(pattern).toMatchObject({ source: ['aws.states'], account: [account] });
    expect(pattern.detail.stateMachineArn).toEqual([arn('states', 'stateMachine:dynamo-dlm-test-example')]);
    const cleanupFunction = resources.find((resource) => resource.name === 'LocksCleanup') as Registered;
    expect(
      (cleanupFunction.inputs.environment as { variables: Record<string, string> }).variables
        .DLM_CALLER_STATE_MACHINE_ARNS,
    ).toBe(arn('states', 'stateMachine:dynamo-dlm-test-example'));
  }, 60_000);
});

describe('attack 2: `sst remove` of a stage deletes the table that Python services share', () => {
  interface Seen {
    type: string;
    name: string;
    retainOnDelete: boolean | undefined;
  }

  async function deployWatched(name: string, args: Record<string, unknown>) {
    const { DynamoDlm } = await loadStacks();
    const seen: Seen[] = [];
    const mark = registeredCount();
    // A component's transformations see every child's options, as SST's own `removal` does.
    const locks = new (DynamoDlm as unknown as new (n: string, a: object, o: object) => object)(
      name,
      { namePrefix: name.toLowerCase(), ...args },
      {
        transformations: [
          (resource: { type: string; name: string; opts: { retainOnDelete?: boolean } }) => {
            seen.push({
              type: resource.type,
              name: resource.name,
              retainOnDelete: resource.opts.retainOnDelete,
            });
            return undefined;
          },
        ],
      },
    );
    const resources = await settled([locks], mark);
    return { seen, resources };
  }

  it('keeps every stage\'s tables on removal (SST "retain"), not only prod, and still protects prod', async () => {
    const { join } = await import('node:path');
    const { root } = await import('../../stacks/pulumi-mocks.js');
    (globalThis as Record<string, unknown>).$config = (config: unknown) => config;
    const config = (
      (await import(/* @vite-ignore */ join(root, 'sst.config.ts'))) as {
        default: { app(input: { stage: string }): { removal: string; protect: boolean } };
      }
    ).default;
    for (const stage of ['dev', 'staging', 'pr-42', 'prod']) {
      expect(config.app({ stage }).removal, stage).toBe('retain');
    }
    expect(config.app({ stage: 'prod' }).protect).toBe(true);
  });

  it('retains its tables and turns deletion protection on by default; functions and queues stay removable', async () => {
    const { seen, resources } = await deployWatched('RetainDefault', {});
    const tables = seen.filter((resource) => resource.type === 'aws:dynamodb/table:Table');
    expect(tables.map((table) => table.name).sort()).toEqual([
      'RetainDefaultRequestTable',
      'RetainDefaultTable',
    ]);
    for (const table of tables) expect(table.retainOnDelete, table.name).toBe(true);
    for (const table of resources.filter((resource) => resource.type === 'aws:dynamodb/table:Table')) {
      expect(table.inputs.deletionProtectionEnabled, table.name).toBe(true);
    }
    for (const other of seen.filter((resource) =>
      ['aws:lambda/function:Function', 'aws:sqs/queue:Queue'].includes(resource.type),
    )) {
      expect(other.retainOnDelete, other.name).toBeUndefined();
    }
  }, 60_000);

  it('deletes its tables only on an explicit opt-out: retainTable and deletionProtection false', async () => {
    const { seen, resources } = await deployWatched('RetainOff', {
      retainTable: false,
      deletionProtection: false,
    });
    for (const table of seen.filter((resource) => resource.type === 'aws:dynamodb/table:Table')) {
      expect(table.retainOnDelete, table.name).toBe(false);
    }
    for (const table of resources.filter((resource) => resource.type === 'aws:dynamodb/table:Table')) {
      expect(table.inputs.deletionProtectionEnabled, table.name).toBe(false);
    }
    const { deploySettings } = await loadStacks();
    expect(deploySettings({})).toMatchObject({ removeTables: false });
    expect(deploySettings({ DLM_REMOVE_TABLES: 'true' })).toMatchObject({ removeTables: true });
    expect(() => deploySettings({ DLM_REMOVE_TABLES: 'yes' })).toThrow(
      /DLM_REMOVE_TABLES to be true or false/,
    );
  }, 60_000);
});

describe('attack 3: the functions may answer the tasks of every state machine of the account', () => {
  it("answers only the example's own state machine in this repository's deployment", async () => {
    const { resources } = await deployedService();
    const answering = resources
      .filter((resource) => resource.type === 'aws:iam/rolePolicy:RolePolicy')
      .flatMap((policy) => policyStatements(policy).filter((statement) => statement.Sid === 'AnswerTasks'));
    expect(answering.length).toBeGreaterThan(0);
    for (const statement of answering) {
      expect(statement.Resource).toEqual([arn('states', 'stateMachine:dynamo-dlm-test-example')]);
    }
  }, 60_000);
});

describe('attack 4: `dlm --endpoint http://…` sends signed requests over the network in clear text', () => {
  // An address of this machine that is not loopback: a stand-in for any host on the network.
  const lanAddress = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
  const received: IncomingMessage['headers'][] = [];
  const eavesdropper = createServer((request, response) => {
    received.push(request.headers);
    response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
    response.end('{"__type":"com.amazon.coral.validate#ValidationException","message":"no"}');
  });
  let port = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => eavesdropper.listen(0, '0.0.0.0', resolve));
    port = (eavesdropper.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => eavesdropper.close(resolve));
  });

  it.skipIf(!lanAddress)(
    'refuses a plain-http endpoint that is not loopback, before sending anything',
    async () => {
      received.length = 0;
      const { code, stderr } = await runDlm('count', 'r', '--endpoint', `http://${lanAddress}:${port}`);
      expect(received.map((headers) => headers.authorization)).toEqual([]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/refuses plain http:\/\/ to .* not loopback.*https:\/\//);
    },
  );

  it.skipIf(!lanAddress)('refuses it from AWS_ENDPOINT_URL_DYNAMODB too', async () => {
    received.length = 0;
    const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://${lanAddress}:${port}`;
    try {
      const { code } = await runDlm('count', 'r');
      expect(received).toEqual([]);
      expect(code).toBe(2);
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
    }
  });

  it('accepts loopback over http (127.0.0.0/8, ::1, localhost) and anything over https', async () => {
    const { endpointProblem } = await import('../../../cli/endpoint-check.js');
    for (const ok of [
      'http://127.0.0.1:8000',
      'http://127.9.8.7:8000',
      'http://[::1]:8000',
      'http://localhost:8000',
      'https://dynamodb.eu-west-1.amazonaws.com',
      'https://10.0.0.5:8443',
    ]) {
      expect(endpointProblem(ok), ok).toBeUndefined();
    }
    for (const bad of [
      'http://10.0.0.5:8000',
      'http://0.0.0.0:8000',
      'http://localhost.evil.example',
      'ftp://x',
    ]) {
      expect(endpointProblem(bad), bad).toBeDefined();
    }
  });
});

describe('attack 5: `dlm release --force` leaves no record of who forced it', () => {
  let tableName: string;
  const item = async (resourceId: string, slot: number) =>
    (
      await dynamoDbClient().send(
        new GetItemCommand({
          TableName: tableName,
          Key: { resource_id: { S: resourceId }, concurrency_id: { N: String(slot) } },
          ConsistentRead: true,
        }),
      )
    ).Item ?? {};

  beforeAll(async () => {
    tableName = await freshLockTable('attack_cli');
    // A forced release leaves the item expired, and DynamoDB Local's TTL sweep deleted one
    // before the test read who forced it (AWS deletes expired items within days, not seconds):
    // here the record must stay to be read.
    await dynamoDbClient().send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: 'expires', Enabled: false },
      }),
    );
  });

  async function forced(...extra: string[]) {
    const resourceId = uniqueResource('forced');
    const holder = new DynamoDbLock(resourceId, {
      tableName,
      client: dynamoDbClient(),
      duration: 600,
      owner: 'stuck-worker',
      logger: recordingLogger(),
    });
    const lease = await holder.acquire();
    const before = Date.now();
    const { code, stdout, stderr } = await runDlm(
      'release',
      resourceId,
      '--slot',
      String(lease.concurrencyId),
      '--force',
      '--table',
      tableName,
      '--json',
      ...extra,
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    // The CLI's own account first: a slot it found free (exit 0 too) names why.
    expect(JSON.parse(stdout)).toMatchObject({ released: true, previous: { owner: 'stuck-worker' } });
    return {
      resourceId,
      slot: lease.concurrencyId,
      before,
      stored: await item(resourceId, lease.concurrencyId),
    };
  }

  it('records who forced the release and when, and the slot stays free by both rules', async () => {
    const { resourceId, before, stored } = await forced('--forced-by', 'alice@ops-laptop');
    expect(stored.forced_by?.S).toBe('alice@ops-laptop');
    const at = Number(stored.forced_at_ms?.N);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    // Free for us (expires_ms < now_ms) and for Python dynamo-dlm (expires <= now_s).
    expect(Number(stored.expires_ms?.N)).toBeLessThan(Date.now());
    expect(Number(stored.expires?.N)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const status = await runDlm('status', resourceId, '--table', tableName, '--json');
    const report = JSON.parse(status.stdout);
    expect(report.held).toBe(0);
    expect(report.forcedReleases).toEqual([
      { slot: 0, forcedBy: 'alice@ops-laptop', forcedAt: new Date(at).toISOString() },
    ]);
    expect((await runDlm('status', resourceId, '--table', tableName)).stdout).toContain(
      'forced free by alice@ops-laptop',
    );
  });

  it('names the operator as user@host when --forced-by is not given', async () => {
    const { stored } = await forced();
    expect(stored.forced_by?.S).toBe(`${userInfo().username}@${hostname()}`);
  });
});

describe('the request table is reachable only by the functions', () => {
  const pythonTable = {
    id: 'shared_locks',
    name: 'shared_locks',
    arn: arn('dynamodb', 'table/shared_locks'),
    hashKey: 'resource_id',
    rangeKey: 'concurrency_id',
    // No due-index: the lock table no longer needs it.
    globalSecondaryIndexes: [{ name: 'owner-index', hashKey: 'owner' }],
    ttl: { attributeName: 'expires', enabled: true },
  };

  it('is created, also next to an existing lock table, with its keys, indexes, TTL and protection', async () => {
    existingTables.set(pythonTable.name, pythonTable);
    expect(
      existingTableProblems({ ...pythonTable, globalSecondaryIndexes: [{ name: 'owner-index' }] }),
    ).toEqual([]);
    const { DynamoDlm } = await loadStacks();
    const mark = registeredCount();
    const locks = new DynamoDlm('SharedRequests', {
      namePrefix: 'shared-requests',
      tableName: pythonTable.name,
      existingTable: true,
    });
    const resources = await settled([locks], mark);
    const tables = resources.filter((resource) => resource.type === 'aws:dynamodb/table:Table');
    expect(tables.map((table) => table.inputs.name)).toEqual(['shared_locks_requests']);
    expect(tables[0]?.inputs).toMatchObject({
      billingMode: 'PAY_PER_REQUEST',
      hashKey: 'resource_id',
      rangeKey: 'concurrency_id',
      ttl: { attributeName: 'expires', enabled: true },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: true,
      globalSecondaryIndexes: [
        {
          name: 'owner-index',
          keySchemas: [{ attributeName: 'owner', keyType: 'HASH' }],
          projectionType: 'INCLUDE',
          nonKeyAttributes: ['release_code'],
        },
        {
          name: 'due-index',
          keySchemas: [
            { attributeName: 'due_shard', keyType: 'HASH' },
            { attributeName: 'due_ms', keyType: 'RANGE' },
          ],
          projectionType: 'INCLUDE',
          nonKeyAttributes: ['retry_chain'],
        },
      ],
    });
    for (const fn of resources.filter((resource) => resource.type === 'aws:lambda/function:Function')) {
      expect(
        (fn.inputs.environment as { variables: Record<string, string> }).variables.DLM_REQUEST_TABLE_NAME,
        fn.name,
      ).toBe('shared_locks_requests');
    }
    expect(await resolved((locks as unknown as { requestTableName: never }).requestTableName)).toBe(
      'shared_locks_requests',
    );
  }, 60_000);

  it("appears in no policy but the lock functions' own, each with its lock-table actions; the lock table has no due-index", async () => {
    const { resources } = await deployedService();
    const created = resources.find((resource) => resource.name === 'LocksTable') as Registered;
    // The tables' names carry the app and stage (`dynamo-dlm-test-locks`): read them from the stack.
    const lockTable = arn('dynamodb', `table/${created.inputs.name}`);
    const requestTable = arn(
      'dynamodb',
      `table/${String(created.inputs.name).replace(/-locks$/, '-requests')}`,
    );
    expect((created.inputs.globalSecondaryIndexes as { name: string }[]).map((index) => index.name)).toEqual([
      'owner-index',
    ]);
    const onRequestTable = (statement: Statement) =>
      statement.Resource.some((resource) => resource.startsWith(requestTable));
    const policies = resources.filter((resource) => resource.type === 'aws:iam/rolePolicy:RolePolicy');
    const reaching = policies
      .filter((policy) => policyStatements(policy).some(onRequestTable))
      .map((policy) => policy.name)
      .sort();
    expect(reaching).toEqual(
      ['Acquire', 'Cleanup', 'Count', 'Extend', 'Release', 'Retry', 'Sweeper'].map(
        (key) => `Locks${key}Policy`,
      ),
    );
    for (const policy of policies.filter((policy) => reaching.includes(policy.name))) {
      const statements = policyStatements(policy);
      const actionsOn = (tableArn: string) =>
        statements.filter((statement) => statement.Resource.includes(tableArn)).flatMap((s) => s.Action);
      // The same actions on both tables, but the count step's GetItem of the rate's item (lock table only).
      const rateRead = policy.name === 'LocksCountPolicy' ? ['dynamodb:GetItem'] : [];
      expect([...actionsOn(requestTable), ...rateRead].sort(), policy.name).toEqual(
        [...actionsOn(lockTable)].sort(),
      );
      const indexes = statements
        .flatMap((statement) => statement.Resource)
        .filter((resource) => resource.includes('/index/'))
        .sort();
      const expected: Record<string, string[]> = {
        LocksCleanupPolicy: [`${lockTable}/index/owner-index`, `${requestTable}/index/owner-index`],
        LocksSweeperPolicy: [`${requestTable}/index/due-index`],
      };
      expect(indexes, policy.name).toEqual(expected[policy.name] ?? []);
    }
    // Resource-based policies would open it to other principals: the stack creates none.
    expect(
      resources.filter((resource) => resource.type === 'aws:dynamodb/resourcePolicy:ResourcePolicy'),
    ).toEqual([]);
  }, 60_000);
});
