import { beforeAll, describe, expect, it } from 'vitest';
import { exampleStateMachine } from '../../core/steps/index.js';
import { attribute, dueIndexName, ownerIndexName, requestAttribute } from '../../core/table.js';
import { lockFunctions } from '../../functions/catalog.js';
import type { PolicyDocument } from '../../stacks/policies.js';
import { account, deployedService, type Registered, region } from './pulumi-mocks.js';

// What `sst deploy --stage test` would ask AWS to create, recorded by Pulumi's mocks. The tables
// are named after the app and stage (Pulumi's project and stack under these mocks).
const stageTable = 'dynamo-dlm-test-locks';
const stageRequestTable = 'dynamo-dlm-test-requests';

let resources: Registered[] = [];

const ofType = (type: string) => resources.filter((resource) => resource.type === type);
const named = (type: string, name: string): Registered => {
  const found = ofType(type).find((resource) => resource.name === name);
  if (!found)
    throw new Error(`no ${type} named ${name}; have ${ofType(type).map((resource) => resource.name)}`);
  return found;
};
const lambda = (key: string) =>
  named('aws:lambda/function:Function', `Locks${key[0]?.toUpperCase()}${key.slice(1)}`);
const policyOf = (logicalName: string): PolicyDocument =>
  JSON.parse(String(named('aws:iam/rolePolicy:RolePolicy', `${logicalName}Policy`).inputs.policy));
const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;

beforeAll(async () => {
  resources = (await deployedService()).resources;
}, 60_000);

const ownerIndex = {
  name: ownerIndexName,
  keySchemas: [{ attributeName: attribute.owner, keyType: 'HASH' }],
  projectionType: 'INCLUDE',
  nonKeyAttributes: [attribute.releaseCode],
};

describe('the lock table', () => {
  it('has the keys of DESIGN.md, TTL on expires, on-demand billing and point-in-time recovery', () => {
    const { inputs } = named('aws:dynamodb/table:Table', 'LocksTable');
    expect(inputs).toMatchObject({
      name: stageTable,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: attribute.resourceId,
      rangeKey: attribute.concurrencyId,
      ttl: { attributeName: attribute.expires, enabled: true },
      pointInTimeRecovery: { enabled: true },
    });
    expect(inputs.attributes).toEqual(
      expect.arrayContaining([
        { name: attribute.resourceId, type: 'S' },
        { name: attribute.concurrencyId, type: 'N' },
      ]),
    );
  });

  it('has the owner index that the cleanup of failed executions queries, and no other index', () => {
    const { inputs } = named('aws:dynamodb/table:Table', 'LocksTable');
    expect(inputs.globalSecondaryIndexes).toEqual([ownerIndex]);
    // Exactly the key attributes of the table and its indexes: DynamoDB refuses any other.
    expect(inputs.attributes).toEqual([
      { name: attribute.resourceId, type: 'S' },
      { name: attribute.concurrencyId, type: 'N' },
      { name: attribute.owner, type: 'S' },
    ]);
  });

  it('is protected from deletion, and kept when the stage is removed', () => {
    expect(named('aws:dynamodb/table:Table', 'LocksTable').inputs.deletionProtectionEnabled).toBe(true);
  });
});

describe('the request table', () => {
  it("has the lock table's keys, TTL, billing and protection, its own name, the owner and due indexes", () => {
    const { inputs } = named('aws:dynamodb/table:Table', 'LocksRequestTable');
    expect(inputs).toMatchObject({
      name: stageRequestTable,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: attribute.resourceId,
      rangeKey: attribute.concurrencyId,
      ttl: { attributeName: attribute.expires, enabled: true },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: true,
    });
    expect(inputs.globalSecondaryIndexes).toEqual([
      ownerIndex,
      {
        name: dueIndexName,
        keySchemas: [
          { attributeName: requestAttribute.dueShard, keyType: 'HASH' },
          { attributeName: requestAttribute.dueMs, keyType: 'RANGE' },
        ],
        projectionType: 'INCLUDE',
        nonKeyAttributes: [requestAttribute.retryChain],
      },
    ]);
    expect(inputs.attributes).toEqual([
      { name: attribute.resourceId, type: 'S' },
      { name: attribute.concurrencyId, type: 'N' },
      { name: attribute.owner, type: 'S' },
      { name: requestAttribute.dueShard, type: 'S' },
      { name: requestAttribute.dueMs, type: 'N' },
    ]);
  });
});

describe('the retry queue', () => {
  it('hides a message for at least six times the consumer timeout', () => {
    const queue = named('aws:sqs/queue:Queue', 'LocksRetryQueue').inputs;
    const consumerTimeout = Number(lambda('retry').inputs.timeout);
    expect(Number(queue.visibilityTimeoutSeconds)).toBeGreaterThanOrEqual(6 * consumerTimeout);
  });

  it('sets repeatedly failing messages aside in a dead-letter queue that keeps them longer', () => {
    const queue = named('aws:sqs/queue:Queue', 'LocksRetryQueue').inputs;
    const deadLetters = named('aws:sqs/queue:Queue', 'LocksDeadLetterQueue').inputs;
    expect(JSON.parse(String(queue.redrivePolicy))).toEqual({
      deadLetterTargetArn: arn('sqs', String(deadLetters.name)),
      maxReceiveCount: 5,
    });
    // SQS keeps a moved message's first enqueue time: the dead-letter queue must keep messages longer.
    const retention = Number(queue.messageRetentionSeconds ?? 345_600);
    expect(Number(deadLetters.messageRetentionSeconds)).toBeGreaterThan(retention);
  });

  it('raises an alarm as soon as a message is in the dead-letter queue', () => {
    const deadLetters = named('aws:sqs/queue:Queue', 'LocksDeadLetterQueue').inputs;
    expect(named('aws:cloudwatch/metricAlarm:MetricAlarm', 'LocksDeadLetterAlarm').inputs).toMatchObject({
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: deadLetters.name },
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 0,
    });
  });

  it('is consumed by the retry function in batches of 10 with partial batch responses', () => {
    expect(
      named('aws:lambda/eventSourceMapping:EventSourceMapping', 'LocksRetryConsumer').inputs,
    ).toMatchObject({
      eventSourceArn: arn('sqs', String(named('aws:sqs/queue:Queue', 'LocksRetryQueue').inputs.name)),
      functionName: arn('lambda', `function:${lambda('retry').inputs.name}`),
      batchSize: 10,
      functionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('the functions', () => {
  it('run on Node 22 or newer, arm64, with the timeouts and memory of functions/catalog.ts', () => {
    for (const [key, spec] of Object.entries(lockFunctions)) {
      const { inputs } = lambda(key);
      expect(Number(/^nodejs(\d+)\.x$/.exec(String(inputs.runtime))?.[1]), key).toBeGreaterThanOrEqual(22);
      expect(inputs, key).toMatchObject({
        architectures: ['arm64'],
        handler: 'index.handler',
        timeout: spec.timeoutSeconds,
        memorySize: spec.memoryMb,
      });
    }
  });

  it('find the table, the retry queue (those that send to it) and the log level in their environment', () => {
    const queueUrl = `https://sqs.${region}.amazonaws.com/${account}/dynamo-dlm-test-retry`;
    for (const [key, spec] of Object.entries(lockFunctions)) {
      const variables = (lambda(key).inputs.environment as { variables: Record<string, string> }).variables;
      expect(variables, key).toEqual({
        DLM_TABLE_NAME: stageTable,
        DLM_REQUEST_TABLE_NAME: stageRequestTable,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // The metrics' `service` dimension: the dashboard and alarms read this stage's alone.
        DLM_METRICS_SERVICE: 'dynamo-dlm-test',
        ...(spec.sendsRetries ? { DLM_RETRY_QUEUE_URL: queueUrl } : {}),
        // The cleanup heeds the status events of the callers alone.
        ...(key === 'cleanup'
          ? { DLM_CALLER_STATE_MACHINE_ARNS: arn('states', 'stateMachine:dynamo-dlm-test-example') }
          : {}),
      });
    }
  });

  it('log to their own log group, kept 30 days', () => {
    for (const key of Object.keys(lockFunctions)) {
      const logGroup = (lambda(key).inputs.loggingConfig as { logGroup: string }).logGroup;
      const capitalized = `${key[0]?.toUpperCase()}${key.slice(1)}`;
      expect(named('aws:cloudwatch/logGroup:LogGroup', `Locks${capitalized}Logs`).inputs).toEqual({
        name: logGroup,
        retentionInDays: 30,
      });
    }
  });
});

describe('IAM', () => {
  const policies = () =>
    ofType('aws:iam/rolePolicy:RolePolicy').map((policy) => JSON.parse(String(policy.inputs.policy)));

  it('grants no wildcard action and no `*` resource anywhere', () => {
    expect(policies().length).toBe(Object.keys(lockFunctions).length + 2);
    for (const document of policies() as PolicyDocument[]) {
      for (const statement of document.Statement) {
        expect(statement.Effect).toBe('Allow');
        for (const action of statement.Action) expect(action).not.toContain('*');
        for (const resource of statement.Resource) expect(resource).toMatch(/^arn:aws:/);
      }
    }
    expect(ofType('aws:iam/rolePolicyAttachment:RolePolicyAttachment')).toEqual([]);
  });

  it('scopes every statement to the resources it is about', () => {
    const table = arn('dynamodb', `table/${stageTable}`);
    const requests = arn('dynamodb', `table/${stageRequestTable}`);
    const allowed: Record<string, (resource: string, logicalName: string, action: string) => boolean> = {
      dynamodb: (resource) =>
        resource === table ||
        resource === `${table}/index/${ownerIndexName}` ||
        resource === requests ||
        resource === `${requests}/index/${ownerIndexName}` ||
        resource === `${requests}/index/${dueIndexName}`,
      sqs: (resource) => resource === arn('sqs', 'dynamo-dlm-test-retry'),
      // SendTask* are authorized against the state machine that issued the token (here the
      // example, the only caller), DescribeExecution against the execution.
      states: (resource, _logicalName, action) =>
        resource ===
        arn(
          'states',
          action === 'states:DescribeExecution' ? 'execution:*' : 'stateMachine:dynamo-dlm-test-example',
        ),
      logs: (resource, logicalName) =>
        resource === `${arn('logs', `log-group:${lambdaName(logicalName)}`)}:*` &&
        resource.split('*').length === 2,
      lambda: (resource) =>
        resource.startsWith(arn('lambda', 'function:dynamo-dlm-test-')) && !resource.includes('*'),
    };
    for (const policy of ofType('aws:iam/rolePolicy:RolePolicy')) {
      const logicalName = policy.name.replace(/Policy$/, '');
      for (const statement of (JSON.parse(String(policy.inputs.policy)) as PolicyDocument).Statement) {
        for (const action of statement.Action) {
          const service = action.split(':')[0] as string;
          for (const resource of statement.Resource) {
            expect(
              allowed[service]?.(resource, logicalName, action),
              `${policy.name}: ${action} on ${resource}`,
            ).toBe(true);
          }
        }
      }
    }
  });

  const statementsOf = (key: string) => policyOf(`Locks${key[0]?.toUpperCase()}${key.slice(1)}`).Statement;
  const mayQuery = (key: string, index: string) =>
    statementsOf(key).some((statement) =>
      statement.Resource.some((resource) => resource.endsWith(`/index/${index}`)),
    );

  it('lets only the cleanup function query the owner index', () => {
    for (const key of Object.keys(lockFunctions))
      expect(mayQuery(key, ownerIndexName), key).toBe(key === 'cleanup');
  });

  it('lets only the sweeper query the due index', () => {
    for (const key of Object.keys(lockFunctions))
      expect(mayQuery(key, dueIndexName), key).toBe(key === 'sweeper');
  });

  it('lets only the functions that answer or free grants ask Step Functions about executions, of its account and region', () => {
    // They free a slot only once DescribeExecution says its owner's execution ended.
    const describing = ['acquire', 'retry', 'release', 'cleanup', 'sweeper'];
    for (const key of Object.keys(lockFunctions)) {
      const describes = statementsOf(key).filter((statement) =>
        statement.Action.includes('states:DescribeExecution'),
      );
      expect(describes, key).toEqual(
        describing.includes(key)
          ? [
              {
                Sid: 'DescribeExecutions',
                Effect: 'Allow',
                Action: ['states:DescribeExecution'],
                Resource: [arn('states', 'execution:*')],
              },
            ]
          : [],
      );
    }
  });

  it("gives the sweeper what a retry turn needs and the request table's due index, nothing more", () => {
    const itemActions = [
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ];
    expect(statementsOf('sweeper').map(({ Sid, Action }) => ({ Sid, Action }))).toEqual([
      { Sid: 'LockTable', Action: itemActions },
      { Sid: 'RequestTable', Action: itemActions },
      { Sid: 'DueIndex', Action: ['dynamodb:Query'] },
      { Sid: 'RetryQueue', Action: ['sqs:SendMessage'] },
      {
        Sid: 'AnswerTasks',
        Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
      },
      { Sid: 'DescribeExecutions', Action: ['states:DescribeExecution'] },
      { Sid: 'Logs', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'] },
    ]);
  });

  it('gives each function a role of its own that only Lambda can assume', () => {
    const roles = ofType('aws:iam/role:Role').filter((role) => role.name.startsWith('Locks'));
    expect(roles.map((role) => role.name).sort()).toEqual(
      Object.keys(lockFunctions)
        .map((key) => `Locks${key[0]?.toUpperCase()}${key.slice(1)}Role`)
        .sort(),
    );
    for (const role of roles) {
      expect(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
    }
  });
});

describe('failed executions', () => {
  it("send their status change events to the cleanup function, of this account's callers only", () => {
    const rule = named('aws:cloudwatch/eventRule:EventRule', 'LocksExecutionFailedRule').inputs;
    expect(JSON.parse(String(rule.eventPattern))).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      account: [account],
      detail: {
        status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        stateMachineArn: [arn('states', 'stateMachine:dynamo-dlm-test-example')],
      },
    });
    const cleanup = lambda('cleanup').inputs;
    expect(
      named('aws:cloudwatch/eventTarget:EventTarget', 'LocksExecutionFailedTarget').inputs,
    ).toMatchObject({
      rule: rule.name,
      arn: arn('lambda', `function:${cleanup.name}`),
    });
    expect(named('aws:lambda/permission:Permission', 'LocksExecutionFailedPermission').inputs).toEqual({
      action: 'lambda:InvokeFunction',
      function: cleanup.name,
      principal: 'events.amazonaws.com',
      sourceArn: arn('events', `rule/${rule.name}`),
    });
  });
});

describe('the sweeper', () => {
  it('runs once a minute, on an EventBridge schedule that may invoke it and nothing else', () => {
    const rule = named('aws:cloudwatch/eventRule:EventRule', 'LocksSweepRule').inputs;
    expect(rule).toMatchObject({ name: 'dynamo-dlm-test-sweeper', scheduleExpression: 'rate(1 minute)' });
    expect(rule.eventPattern).toBeUndefined();
    const sweeper = lambda('sweeper').inputs;
    expect(named('aws:cloudwatch/eventTarget:EventTarget', 'LocksSweepTarget').inputs).toMatchObject({
      rule: rule.name,
      arn: arn('lambda', `function:${sweeper.name}`),
    });
    expect(named('aws:lambda/permission:Permission', 'LocksSweepPermission').inputs).toEqual({
      action: 'lambda:InvokeFunction',
      function: sweeper.name,
      principal: 'events.amazonaws.com',
      sourceArn: arn('events', `rule/${rule.name}`),
    });
  });

  it('is the only function on a schedule, and the cleanup the only one on execution events', () => {
    const targets = ofType('aws:cloudwatch/eventTarget:EventTarget').map((target) => target.inputs.arn);
    expect(targets.sort()).toEqual(
      [
        arn('lambda', 'function:dynamo-dlm-test-cleanup'),
        arn('lambda', 'function:dynamo-dlm-test-sweeper'),
      ].sort(),
    );
  });
});

describe('the example state machine', () => {
  it('is the definition of dynamo-dlm/steps with the deployed functions, as a Standard workflow', () => {
    const machine = named('aws:sfn/stateMachine:StateMachine', 'ExampleStateMachine').inputs;
    const functionArn = (name: string) => arn('lambda', `function:dynamo-dlm-test-${name}`);
    expect(machine.type).toBe('STANDARD');
    expect(JSON.parse(String(machine.definition))).toEqual(
      exampleStateMachine({
        functions: { acquire: functionArn('acquire'), release: functionArn('release') },
        workFunctionArn: functionArn('example-work'),
      }),
    );
  });

  it('may invoke exactly the functions its definition calls', () => {
    const machine = named('aws:sfn/stateMachine:StateMachine', 'ExampleStateMachine').inputs;
    const called = new Set(
      Object.values(
        JSON.parse(String(machine.definition)).States as Record<
          string,
          { Parameters?: { FunctionName?: string } }
        >,
      )
        .map((state) => state.Parameters?.FunctionName)
        .filter((name) => name !== undefined),
    );
    expect(policyOf('Example').Statement).toEqual([
      { Sid: 'InvokeSteps', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: expect.any(Array) },
    ]);
    expect(new Set(policyOf('Example').Statement[0]?.Resource)).toEqual(called);
  });
});

/** The function name behind a logical name such as `LocksAcquire` or `ExampleWork`. */
function lambdaName(logicalName: string): string {
  return `/aws/lambda/${String(named('aws:lambda/function:Function', logicalName).inputs.name)}`;
}
