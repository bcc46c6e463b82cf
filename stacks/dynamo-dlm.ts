import {
  callerStateMachinesVariable,
  type FunctionSpec,
  type LockFunctionName,
  lockFunctions,
  retryTimeoutSeconds,
} from '../functions/catalog.js';
import { defaultSourceRoot } from './bundle.js';
import { executionFailedPattern, ruleToFunction } from './event-rules.js';
import { type DeployedFunction, deployFunction } from './lambda.js';
import {
  metricsEnvironment,
  type Observability,
  type ObservabilityOptions,
  observe,
} from './observability.js';
import { functionPolicy } from './policies.js';
import { lockTable } from './table.js';
import { deployTables } from './tables.js';
import { type DynamoDlmTransform, transformed } from './transform.js';

/** Options of `DynamoDlm`. Every one has a default: `new DynamoDlm('Locks')` deploys the service. */
export interface DynamoDlmArgs {
  /**
   * The lock table's name. Default `<namePrefix>-locks`, so that each app and stage has its own;
   * name it on purpose to share one (Python dynamo-dlm's default is `dynamo_dlm_locks`).
   */
  tableName?: string;
  /**
   * Use a table that exists already (for example the one Python dynamo-dlm shares) instead of
   * creating it: its name, or `true` for the table `tableName`. It must have the dynamo-dlm keys
   * and the `owner-index`; the deployment stops with the command that adds the index when it is
   * missing. The component never creates, changes or removes that table.
   */
  existingTable?: string | boolean;
  /**
   * The request table's name: waiting requests, their task tokens and the queue. The stack always
   * creates it (also with `existingTable`): only the functions' roles may use it, so grant other
   * services `table/<tableName>` and `table/<tableName>/index/*`, never `table/<tableName>*`,
   * which would match this one too. Default `<tableName>_requests` when the lock table is named,
   * else `<namePrefix>-requests`.
   */
  requestTableName?: string;
  /**
   * Prefix of every physical name (functions, log groups, queues, alarm, rules, default table
   * names). Default `<app>-<stage>` under SST (`$app.name`, `$app.stage`), `<project>-<stack>` in a
   * plain Pulumi program, so that two stages or two apps never share a resource.
   */
  namePrefix?: string;
  /** `POWERTOOLS_LOG_LEVEL` of the functions. Default `INFO`. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Days the functions' logs are kept. Default 30. */
  logRetentionDays?: number;
  /** Back-off of the retry loop (`DLM_RETRY_BASE_SECONDS`, `DLM_RETRY_CAP_SECONDS`). Default: the functions' own (1 s, 60 s). */
  retryBackoff?: { baseSeconds?: number; capSeconds?: number };
  /** Where the dead-letter alarm notifies (for example an SNS topic ARN). Default: nowhere. */
  alarmActions?: $util.Input<string>[];
  /** The dashboard, the alarms on the functions' metrics and their per-resource dimensions (`stacks/observability.ts`). */
  observability?: ObservabilityOptions;
  /**
   * The state machines whose waiting tasks the functions may answer (`*` is a wildcard), and
   * whose failed executions the cleanup heeds. Default: every state machine of the account in
   * the region (`arn:<partition>:states:<region>:<account>:stateMachine:*`); name them when you
   * can, see README, "IAM".
   */
  callerStateMachineArns?: $util.Input<string>[];
  /**
   * Caller state machines by name, in this account and region: the ARN is built from the name,
   * so a state machine that calls these functions (and so depends on them) can be named here
   * without a dependency cycle. Added to `callerStateMachineArns`.
   */
  callerStateMachineNames?: string[];
  /** Where `functions/*.ts` are. Default: the app's root if it holds them, else the installed package. */
  sourceRoot?: string;
  /** Point-in-time recovery of the created tables. Default true. */
  pointInTimeRecovery?: boolean;
  /**
   * Deletion protection of the created tables. Default true: the lock table may be shared with
   * Python services, and the request table holds the requests in flight. `false` to opt out.
   */
  deletionProtection?: boolean;
  /**
   * Keep the created tables when the component is removed (`sst remove`, `pulumi destroy`),
   * whatever the app's `removal` says; the functions, queues and rules are removed. Default
   * true. `false` (with `deletionProtection: false`, deployed before the removal) deletes them.
   */
  retainTable?: boolean;
  /** Changes to the arguments of the resources the component creates, SST's `transform`. */
  transform?: DynamoDlmTransform;
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
  /** The component's type: `$transform(DynamoDlm, ...)` matches resources by it. */
  static readonly __pulumiType = 'dynamo-dlm:index:DynamoDlm';
  /** The prefix of every physical name (`namePrefix`, default `<app>-<stage>`). */
  readonly namePrefix: string;
  /** The lock table's name and ARN. */
  readonly tableName: $util.Output<string>;
  readonly tableArn: $util.Output<string>;
  /** The table, when this component created it. */
  readonly table: aws.dynamodb.Table | undefined;
  /** The request table (always created): waiting requests, only for the functions' roles. */
  readonly requestTableName: $util.Output<string>;
  readonly requestTableArn: $util.Output<string>;
  readonly requestTable: aws.dynamodb.Table;
  readonly retryQueue: aws.sqs.Queue;
  readonly deadLetterQueue: aws.sqs.Queue;
  /** Absent when `observability.deadLetterAlarm` is false. */
  readonly deadLetterAlarm?: aws.cloudwatch.MetricAlarm;
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
  readonly observability: Observability;

  constructor(name: string, args: DynamoDlmArgs = {}, opts: $util.ComponentResourceOptions = {}) {
    // The args go to the engine so that a `$transform(DynamoDlm, ...)` sees (and may edit) them;
    // everything below reads them after super().
    super(DynamoDlm.__pulumiType, name, args, opts);
    const parent = { parent: this };
    const prefix = args.namePrefix ?? defaultPrefix();
    this.namePrefix = prefix;
    // Lambda function names end at 64 characters; `-cleanup` and `-sweeper` are the longest suffixes.
    if (!/^[A-Za-z0-9-_]{1,56}$/.test(prefix)) {
      throw new TypeError(
        `Expected \`namePrefix\` to be 1 to 56 letters, digits, - or _, got ${JSON.stringify(prefix)}`,
      );
    }
    const existingTable = typeof args.existingTable === 'string' ? args.existingTable : undefined;
    if (existingTable !== undefined && args.tableName !== undefined && args.tableName !== existingTable) {
      throw new TypeError(
        `Expected \`tableName\` (${args.tableName}) to be \`existingTable\` (${existingTable}) or left out`,
      );
    }
    const namedTable = existingTable ?? args.tableName;
    const tableName = namedTable ?? `${prefix}-locks`;
    const partition = aws.getPartitionOutput({}, parent).partition;
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    const tables = deployTables(
      name,
      {
        tableName,
        requestTableName:
          args.requestTableName ??
          (namedTable ? `${namedTable}${lockTable.requestTableSuffix}` : `${prefix}-requests`),
        existingTable: existingTable !== undefined || args.existingTable === true,
        pointInTimeRecovery: args.pointInTimeRecovery ?? true,
        deletionProtection: args.deletionProtection ?? true,
        retainTable: args.retainTable ?? true,
        transform: { table: args.transform?.table, requestTable: args.transform?.requestTable },
      },
      this,
    );
    this.table = tables.lock.table;
    this.tableName = tables.lock.name;
    this.tableArn = tables.lock.arn;
    this.requestTable = tables.request.table;
    this.requestTableName = tables.request.name;
    this.requestTableArn = tables.request.arn;

    this.deadLetterQueue = new aws.sqs.Queue(
      ...transformed(
        args.transform?.deadLetterQueue,
        `${name}DeadLetterQueue`,
        {
          name: `${prefix}-retry-dead-letter`,
          messageRetentionSeconds: fourteenDays,
          sqsManagedSseEnabled: true,
        },
        parent,
      ),
    );
    this.retryQueue = new aws.sqs.Queue(
      ...transformed(
        args.transform?.retryQueue,
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
      ),
    );
    // Retry messages set aside after 5 failed turns: requests no retry loop drives any more.
    if (args.observability?.deadLetterAlarm ?? true)
      this.deadLetterAlarm = new aws.cloudwatch.MetricAlarm(
        ...transformed(
          args.transform?.deadLetterAlarm,
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
        ),
      );

    const stateMachineArn = (machineName: string) =>
      $util.interpolate`arn:${partition}:states:${region}:${account}:stateMachine:${machineName}`;
    const namedCallers = [
      ...(args.callerStateMachineArns ?? []),
      ...(args.callerStateMachineNames ?? []).map(stateMachineArn),
    ];
    // Unnamed callers: any state machine of the account may be one (README, "IAM").
    const callers = $util.all(namedCallers.length > 0 ? namedCallers : [stateMachineArn('*')]);
    const knownCallers = namedCallers.length > 0 ? callers : undefined;
    const executions = $util.interpolate`arn:${partition}:states:${region}:${account}:execution:*`;
    const sourceRoot = args.sourceRoot ?? defaultSourceRoot();
    const deployed = (key: LockFunctionName): DeployedFunction => {
      const spec: FunctionSpec = lockFunctions[key];
      return deployFunction(`${name}${capitalized(key)}`, {
        functionName: `${prefix}-${key}`,
        spec,
        sourceRoot,
        environment: {
          ...this.environment(spec, args),
          // The cleanup ignores status events of other state machines than the callers.
          ...(key === 'cleanup' && knownCallers
            ? { [callerStateMachinesVariable]: knownCallers.apply((arns) => arns.join(',')) }
            : {}),
        },
        policy: (logGroupArn) =>
          $util
            .all([this.tableArn, this.requestTableArn, this.retryQueue.arn, logGroupArn, callers, executions])
            .apply(
              ([tableArn, requestTableArn, retryQueueArn, logGroup, callerStateMachineArns, executionArns]) =>
                functionPolicy(
                  spec,
                  {
                    tableArn,
                    requestTableArn,
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
        transform: { function: args.transform?.function, role: args.transform?.role },
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

    const executionFailed = ruleToFunction(
      `${name}ExecutionFailed`,
      {
        name: `${prefix}-execution-failed`,
        description:
          'dynamo-dlm: frees the locks of Step Functions executions that failed, timed out or were aborted',
        eventPattern: $util
          .all([account, $util.output(knownCallers)])
          .apply(([accountId, callerArns]) => JSON.stringify(executionFailedPattern(accountId, callerArns))),
      },
      this.functions.cleanup.function,
      this,
      args.transform?.rule,
    );
    this.executionFailedRule = executionFailed.rule;
    this.executionFailedTarget = executionFailed.target;
    this.executionFailedPermission = executionFailed.permission;

    const sweep = ruleToFunction(
      `${name}Sweep`,
      {
        name: `${prefix}-sweeper`,
        description:
          'dynamo-dlm: once a minute, re-drives waiting requests whose retry turn or answer is overdue',
        scheduleExpression: sweepSchedule,
      },
      this.functions.sweeper.function,
      this,
      args.transform?.rule,
    );
    this.sweepRule = sweep.rule;
    this.sweepTarget = sweep.target;
    this.sweepPermission = sweep.permission;

    this.observability = observe(name, { prefix, deadLetterQueue: this.deadLetterQueue }, args, this);
    this.registerOutputs({
      tableName: this.tableName,
      requestTableName: this.requestTableName,
      retryQueueUrl: this.retryQueue.url,
      ...this.steps,
    });
  }

  /**
   * What `link: [locks]` gives an SST function: `Resource.<Name>.tableName` for the library
   * (`dynamo-dlm`, `dynamo-dlm/sqs`) and the step functions' ARNs for state machines it builds,
   * with the IAM the library's calls on the lock table need (README, "IAM"). Never the request
   * table: its task tokens are for the component's own functions.
   */
  getSSTLink() {
    return {
      properties: {
        tableName: this.tableName,
        acquireArn: this.steps.acquire,
        releaseArn: this.steps.release,
        countArn: this.steps.count,
        extendArn: this.steps.extend,
      },
      include: [
        sst.aws.permission({
          actions: linkedTableActions.map((action) => `dynamodb:${action}`),
          resources: [this.tableArn],
        }),
      ],
    };
  }

  /** A function's environment: the tables, the log level, and the retry queue where it sends. */
  private environment(spec: FunctionSpec, args: DynamoDlmArgs): Record<string, $util.Input<string>> {
    return {
      DLM_TABLE_NAME: this.tableName,
      DLM_REQUEST_TABLE_NAME: this.requestTableName,
      POWERTOOLS_LOG_LEVEL: args.logLevel ?? 'INFO',
      ...metricsEnvironment(args.namePrefix ?? defaultPrefix(), args.observability),
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

/**
 * The lock table actions of the library in a linked function: acquire, release and extend
 * (`PutItem`, `UpdateItem`), reading the slots (`Query`), and the SQS throttle's limit (`GetItem`).
 */
export const linkedTableActions = ['PutItem', 'UpdateItem', 'Query', 'GetItem'] as const;

/**
 * `<app>-<stage>` under SST, `<project>-<stack>` in a plain Pulumi program. SST replaces the
 * bare identifier `$app` when it builds `sst.config.ts` (an esbuild define, also inside this
 * package); it never sets `globalThis.$app`, so only the bare identifier can be read.
 */
export function defaultPrefix(): string {
  if (typeof $app !== 'undefined') return `${$app.name}-${$app.stage}`;
  return `${$util.getProject()}-${$util.getStack()}`;
}

function capitalized(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
