import { defaultSourceRoot } from './bundle.js';
import { type FunctionSpec, type LockFunctionName, lockFunctions, retryTimeoutSeconds } from './functions.js';
import { type DeployedFunction, deployFunction } from './lambda.js';
import { functionPolicy } from './policies.js';
import { existingTableProblems, lockTable } from './table.js';

/** Options of `DynamoDlm`. Every one has a default: `new DynamoDlm('Locks')` deploys the service. */
export interface DynamoDlmArgs {
  /** The lock table's name. Default `dynamo_dlm_locks`, Python dynamo-dlm's default. */
  tableName?: string;
  /**
   * Use the table `tableName` that exists already (for example one shared with Python
   * dynamo-dlm) instead of creating it. It must have the dynamo-dlm keys, the `owner-index` and
   * the `due-index`; the deployment stops with the commands that add the indexes when they are
   * missing.
   */
  existingTable?: boolean;
  /** Prefix of the functions', queues' and alarm's names. Default `<app>-<stage>` under SST. */
  namePrefix?: string;
  /** `POWERTOOLS_LOG_LEVEL` of the functions. Default `INFO`. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Days the functions' logs are kept. Default 30. */
  logRetentionDays?: number;
  /** Back-off of the retry loop (`DLM_RETRY_BASE_SECONDS`, `DLM_RETRY_CAP_SECONDS`). Default: the functions' own (1 s, 60 s). */
  retryBackoff?: { baseSeconds?: number; capSeconds?: number };
  /** Where the dead-letter alarm notifies (for example an SNS topic ARN). Default: nowhere. */
  alarmActions?: $util.Input<string>[];
  /**
   * The state machines whose waiting tasks the functions may answer. Default: every state machine
   * of the account in the region (`arn:<partition>:states:<region>:<account>:stateMachine:*`).
   */
  callerStateMachineArns?: $util.Input<string>[];
  /** Where `functions/*.ts` are. Default: the app's root if it holds them, else the installed package. */
  sourceRoot?: string;
  /** Point-in-time recovery of a created table. Default true. */
  pointInTimeRecovery?: boolean;
  /** Deletion protection of a created table. Default false. */
  deletionProtection?: boolean;
}

/** The step functions' ARNs, for the `dynamo-dlm/steps` builders of another state machine. */
export interface StepFunctionArns {
  acquire: $util.Output<string>;
  release: $util.Output<string>;
  count: $util.Output<string>;
  extend: $util.Output<string>;
}

/** Seconds of a standard SQS queue's longest message retention, for the dead-letter queue. */
const fourteenDays = 1_209_600;

/** When the sweeper runs: the EventBridge schedule expression of `DynamoDlm.sweepRule`. */
export const sweepSchedule = 'rate(1 minute)';

/**
 * The whole dynamo-dlm service for Step Functions: the lock table (or an existing one), the
 * retry queue with its dead-letter queue and alarm, the step functions, the retry consumer, the
 * cleanup of failed executions and the sweeper of overdue requests (once a minute). Each
 * function has its own least-privilege role.
 *
 * @example
 * // sst.config.ts of another app, in run():
 * const { DynamoDlm } = await import('dynamo-dlm/sst');
 * const locks = new DynamoDlm('Locks', { tableName: 'dynamo_dlm_locks' });
 * acquireState({ functionArn: locks.steps.acquire, ... }); // inside an .apply()
 */
export class DynamoDlm extends $util.ComponentResource {
  /** The lock table's name and ARN. */
  readonly tableName: $util.Output<string>;
  readonly tableArn: $util.Output<string>;
  /** The table, when this component created it. */
  readonly table: aws.dynamodb.Table | undefined;
  readonly retryQueue: aws.sqs.Queue;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly deadLetterAlarm: aws.cloudwatch.MetricAlarm;
  /** Every function with its role, policy and log group. */
  readonly functions: Record<LockFunctionName, DeployedFunction>;
  /** The ARNs a state machine's Task states call. */
  readonly steps: StepFunctionArns;
  /** The retry queue's consumer: the retry function, batches of 10, partial batch responses. */
  readonly retryConsumer: aws.lambda.EventSourceMapping;
  /** Step Functions execution status changes (failed, timed out, aborted) to the cleanup function. */
  readonly executionFailedRule: aws.cloudwatch.EventRule;
  readonly executionFailedTarget: aws.cloudwatch.EventTarget;
  readonly executionFailedPermission: aws.lambda.Permission;
  /** The schedule (`rate(1 minute)`) that runs the sweeper, which re-drives overdue requests. */
  readonly sweepRule: aws.cloudwatch.EventRule;
  readonly sweepTarget: aws.cloudwatch.EventTarget;
  readonly sweepPermission: aws.lambda.Permission;

  constructor(name: string, args: DynamoDlmArgs = {}, opts: $util.ComponentResourceOptions = {}) {
    super('dynamo-dlm:index:DynamoDlm', name, {}, opts);
    const parent = { parent: this };
    const prefix = args.namePrefix ?? defaultPrefix();
    // Lambda function names end at 64 characters; `-cleanup` and `-sweeper` are the longest suffixes.
    if (!/^[A-Za-z0-9-_]{1,56}$/.test(prefix)) {
      throw new TypeError(
        `Expected \`namePrefix\` to be 1 to 56 letters, digits, - or _, got ${JSON.stringify(prefix)}`,
      );
    }
    const tableName = args.tableName ?? lockTable.defaultName;
    const partition = aws.getPartitionOutput({}, parent).partition;
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    if (args.existingTable) {
      this.table = undefined;
      const found = aws.dynamodb.getTableOutput({ name: tableName }, parent);
      this.tableName = found.name;
      this.tableArn = found.apply((table) => {
        const problems = existingTableProblems(table);
        if (problems.length > 0)
          throw new Error(`dynamo-dlm: table ${tableName} cannot be used: ${problems.join('; ')}`);
        return table.arn;
      });
    } else {
      this.table = new aws.dynamodb.Table(
        `${name}Table`,
        {
          name: tableName,
          billingMode: 'PAY_PER_REQUEST',
          hashKey: lockTable.partitionKey,
          rangeKey: lockTable.sortKey,
          attributes: [
            { name: lockTable.partitionKey, type: 'S' },
            { name: lockTable.sortKey, type: 'N' },
            { name: lockTable.ownerAttribute, type: 'S' },
            { name: lockTable.dueShardAttribute, type: 'S' },
            { name: lockTable.dueMsAttribute, type: 'N' },
          ],
          // Sparse (only items with an owner): what a failed execution holds or waits for.
          globalSecondaryIndexes: [
            {
              name: lockTable.ownerIndex,
              keySchemas: [{ attributeName: lockTable.ownerAttribute, keyType: 'HASH' }],
              projectionType: 'INCLUDE',
              nonKeyAttributes: [lockTable.releaseCodeAttribute],
            },
            // Sparse (only requests that have not ended): what is overdue, for the sweeper.
            {
              name: lockTable.dueIndex,
              keySchemas: [
                { attributeName: lockTable.dueShardAttribute, keyType: 'HASH' },
                { attributeName: lockTable.dueMsAttribute, keyType: 'RANGE' },
              ],
              projectionType: 'INCLUDE',
              nonKeyAttributes: [lockTable.retryChainAttribute],
            },
          ],
          ttl: { attributeName: lockTable.ttlAttribute, enabled: true },
          pointInTimeRecovery: { enabled: args.pointInTimeRecovery ?? true },
          deletionProtectionEnabled: args.deletionProtection ?? false,
        },
        parent,
      );
      this.tableName = this.table.name;
      this.tableArn = this.table.arn;
    }

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}DeadLetterQueue`,
      {
        name: `${prefix}-retry-dead-letter`,
        messageRetentionSeconds: fourteenDays,
        sqsManagedSseEnabled: true,
      },
      parent,
    );
    this.retryQueue = new aws.sqs.Queue(
      `${name}RetryQueue`,
      {
        name: `${prefix}-retry`,
        // AWS's rule for a Lambda consumer: at least six times the function's timeout.
        visibilityTimeoutSeconds: 6 * retryTimeoutSeconds,
        receiveWaitTimeSeconds: 20,
        sqsManagedSseEnabled: true,
        // A message that keeps failing (malformed, or DynamoDB down for minutes) is set aside.
        redrivePolicy: $util.jsonStringify({
          deadLetterTargetArn: this.deadLetterQueue.arn,
          maxReceiveCount: 5,
        }),
      },
      parent,
    );
    this.deadLetterAlarm = new aws.cloudwatch.MetricAlarm(
      `${name}DeadLetterAlarm`,
      {
        name: `${prefix}-retry-dead-letters`,
        alarmDescription:
          'dynamo-dlm: retry messages failed 5 times and were set aside; see the retry function logs',
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: this.deadLetterQueue.name },
        statistic: 'Maximum',
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
        alarmActions: args.alarmActions ?? [],
      },
      parent,
    );

    const callers = args.callerStateMachineArns ?? [
      $util.interpolate`arn:${partition}:states:${region}:${account}:stateMachine:*`,
    ];
    const executions = $util.interpolate`arn:${partition}:states:${region}:${account}:execution:*`;
    const sourceRoot = args.sourceRoot ?? defaultSourceRoot();
    const deployed = (key: LockFunctionName): DeployedFunction => {
      const spec: FunctionSpec = lockFunctions[key];
      return deployFunction(`${name}${capitalized(key)}`, {
        functionName: `${prefix}-${key}`,
        spec,
        sourceRoot,
        environment: this.environment(spec, args),
        policy: (logGroupArn) =>
          $util
            .all([this.tableArn, this.retryQueue.arn, logGroupArn, $util.all(callers), executions])
            .apply(([tableArn, retryQueueArn, logGroup, callerStateMachineArns, executionArns]) =>
              functionPolicy(
                spec,
                {
                  tableArn,
                  ownerIndexArn: `${tableArn}/index/${lockTable.ownerIndex}`,
                  dueIndexArn: `${tableArn}/index/${lockTable.dueIndex}`,
                  retryQueueArn,
                  logGroupArn: logGroup,
                  callerStateMachineArns,
                  executionArns: [executionArns],
                },
                { consumesRetryQueue: key === 'retry' },
              ),
            ),
        logRetentionDays: args.logRetentionDays ?? 30,
        parent: this,
      });
    };
    this.functions = {
      acquire: deployed('acquire'),
      retry: deployed('retry'),
      release: deployed('release'),
      count: deployed('count'),
      extend: deployed('extend'),
      cleanup: deployed('cleanup'),
      sweeper: deployed('sweeper'),
    };
    this.steps = {
      acquire: this.functions.acquire.function.arn,
      release: this.functions.release.function.arn,
      count: this.functions.count.function.arn,
      extend: this.functions.extend.function.arn,
    };

    this.retryConsumer = new aws.lambda.EventSourceMapping(
      `${name}RetryConsumer`,
      {
        eventSourceArn: this.retryQueue.arn,
        functionName: this.functions.retry.function.arn,
        batchSize: 10,
        functionResponseTypes: ['ReportBatchItemFailures'],
      },
      // The mapping is refused while the role cannot receive from the queue.
      { ...parent, dependsOn: [this.functions.retry.policy] },
    );

    this.executionFailedRule = new aws.cloudwatch.EventRule(
      `${name}ExecutionFailedRule`,
      {
        name: `${prefix}-execution-failed`,
        description:
          'dynamo-dlm: frees the locks of Step Functions executions that failed, timed out or were aborted',
        eventPattern: JSON.stringify(executionFailedPattern),
      },
      parent,
    );
    this.executionFailedTarget = new aws.cloudwatch.EventTarget(
      `${name}ExecutionFailedTarget`,
      { rule: this.executionFailedRule.name, arn: this.functions.cleanup.function.arn },
      parent,
    );
    this.executionFailedPermission = new aws.lambda.Permission(
      `${name}ExecutionFailedPermission`,
      {
        action: 'lambda:InvokeFunction',
        function: this.functions.cleanup.function.name,
        principal: 'events.amazonaws.com',
        sourceArn: this.executionFailedRule.arn,
      },
      parent,
    );

    this.sweepRule = new aws.cloudwatch.EventRule(
      `${name}SweepRule`,
      {
        name: `${prefix}-sweeper`,
        description:
          'dynamo-dlm: once a minute, re-drives waiting requests whose retry turn or answer is overdue',
        scheduleExpression: sweepSchedule,
      },
      parent,
    );
    this.sweepTarget = new aws.cloudwatch.EventTarget(
      `${name}SweepTarget`,
      { rule: this.sweepRule.name, arn: this.functions.sweeper.function.arn },
      parent,
    );
    this.sweepPermission = new aws.lambda.Permission(
      `${name}SweepPermission`,
      {
        action: 'lambda:InvokeFunction',
        function: this.functions.sweeper.function.name,
        principal: 'events.amazonaws.com',
        sourceArn: this.sweepRule.arn,
      },
      parent,
    );

    this.registerOutputs({
      tableName: this.tableName,
      retryQueueUrl: this.retryQueue.url,
      ...this.steps,
    });
  }

  /** A function's environment: the table, the log level, and the retry queue where it sends. */
  private environment(spec: FunctionSpec, args: DynamoDlmArgs): Record<string, $util.Input<string>> {
    return {
      DLM_TABLE_NAME: this.tableName,
      POWERTOOLS_LOG_LEVEL: args.logLevel ?? 'INFO',
      ...(spec.sendsRetries ? { DLM_RETRY_QUEUE_URL: this.retryQueue.url } : {}),
      ...(spec.sendsRetries && args.retryBackoff?.baseSeconds !== undefined
        ? { DLM_RETRY_BASE_SECONDS: String(args.retryBackoff.baseSeconds) }
        : {}),
      ...(spec.sendsRetries && args.retryBackoff?.capSeconds !== undefined
        ? { DLM_RETRY_CAP_SECONDS: String(args.retryBackoff.capSeconds) }
        : {}),
    };
  }
}

/** The EventBridge pattern of the executions whose locks the cleanup function frees. */
export const executionFailedPattern = {
  source: ['aws.states'],
  'detail-type': ['Step Functions Execution Status Change'],
  detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
};

/** `<app>-<stage>` under SST, `dynamo-dlm` in a plain Pulumi program. */
function defaultPrefix(): string {
  const app = (globalThis as { $app?: { name: string; stage: string } }).$app;
  return app ? `${app.name}-${app.stage}` : 'dynamo-dlm';
}

function capitalized(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
