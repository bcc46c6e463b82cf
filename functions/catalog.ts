/**
 * The service's functions and what each may do: names, handlers, timeouts and permissions, read
 * by the deployment (`stacks/`) and the local AWS (`local/functions.ts`) alike, so neither
 * depends on the other. Handlers are named by path (never imported): `stacks/` only bundles them. `test/stacks/permissions.test.ts` bundles each handler and checks
 * that the AWS calls its code can make are exactly the ones granted here.
 */

/** DynamoDB actions on a table's items. A transaction needs the action of each of its items. */
export type TableAction =
  | 'UpdateItem'
  | 'PutItem'
  | 'DeleteItem'
  | 'ConditionCheckItem'
  | 'Query'
  | 'GetItem';

/** Step Functions actions on a waiting task. */
export type TaskAnswer = 'SendTaskSuccess' | 'SendTaskFailure' | 'SendTaskHeartbeat';

// Grants and timeouts answer with success and failure; the retry loop (and the sweeper, which
// re-drives a request as its retry turn would) also sends heartbeats to learn whether a task
// still waits before it queues the request again.
const grantsAndTimeouts: TaskAnswer[] = ['SendTaskSuccess', 'SendTaskFailure'];
const grantsAndHeartbeats: TaskAnswer[] = [...grantsAndTimeouts, 'SendTaskHeartbeat'];

/** What one function is and may do. */
export interface FunctionSpec {
  /** Source file of the handler, relative to the source root; it exports `handler`. */
  source: string;
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** DynamoDB actions on the lock table's items (its ARN), the table Python dynamo-dlm shares. */
  table: TableAction[];
  /**
   * DynamoDB actions on the request table's items: waiting requests, their task tokens and the
   * queue, which no role but the functions' may read.
   */
  requestTable: TableAction[];
  /** `dynamodb:Query` on the lock table's `owner-index` (finds what a failed execution holds). */
  ownerIndex: boolean;
  /** `dynamodb:Query` on the request table's `owner-index` (finds what a failed execution waits for). */
  requestOwnerIndex: boolean;
  /** `dynamodb:Query` on the request table's `due-index` (finds the requests whose next step is overdue). */
  requestDueIndex: boolean;
  /** Puts requests on the retry queue: `sqs:SendMessage`, and `DLM_RETRY_QUEUE_URL` in its environment. */
  sendsRetries: boolean;
  /** The `states:` calls that answer waiting workflow tasks (a heartbeat asks whether a task still waits). */
  taskAnswers: TaskAnswer[];
  /**
   * `states:DescribeExecution` on the executions of the account in the region: asks Step
   * Functions whether an execution still runs before anything of it is freed.
   */
  describesExecutions: boolean;
}

// A grant pass reads the head of the queue and the slots (Query) and each request it tries
// (GetItem), grants in a transaction (Update + ConditionCheck + Delete of the queue entry),
// drops stale entries and forgets requests (DeleteItem), and a regrant puts an entry back (Put).
const grantsWaiting: TableAction[] = [
  'UpdateItem',
  'DeleteItem',
  'ConditionCheckItem',
  'Query',
  'GetItem',
  'PutItem',
];
// Acquire also takes a slot outright (its first attempt is a PutItem) and records a waiting
// request (a transaction that Puts it and its queue entry, with a ConditionCheck).
const recordsWaiting: TableAction[] = grantsWaiting;

/**
 * The cleanup's environment variable with the caller state machines (comma-separated ARNs, `*`
 * a wildcard), whose failed executions alone it heeds; `functions/lib/status-event-origin.ts`
 * reads it, and `test/stacks` checks that the names agree.
 */
export const callerStateMachinesVariable = 'DLM_CALLER_STATE_MACHINE_ARNS';

/** Seconds: the retry consumer's timeout. The queue's visibility timeout is six times this. */
export const retryTimeoutSeconds = 10;

// While waiting requests move from the lock table to the request table (issue 15), each function
// has the same actions on both; narrow each table's once the code no longer touches it there.

/**
 * The lock service's functions by name. The names are the local AWS's (`dynamo-dlm-<name>`) and
 * the keys of `DynamoDlm.functions`.
 */
export const lockFunctions = {
  acquire: {
    source: 'functions/acquire.ts',
    description: 'dynamo-dlm acquire step (waitForTaskToken): grants a slot or queues the request',
    timeoutSeconds: 10,
    memoryMb: 256,
    table: recordsWaiting,
    requestTable: recordsWaiting,
    ownerIndex: false,
    requestOwnerIndex: false,
    requestDueIndex: false,
    sendsRetries: true,
    taskAnswers: grantsAndTimeouts,
    describesExecutions: true,
  },
  retry: {
    source: 'functions/retry.ts',
    description: 'dynamo-dlm retry queue consumer: retries waiting requests with back-off',
    timeoutSeconds: retryTimeoutSeconds,
    memoryMb: 256,
    table: grantsWaiting,
    requestTable: grantsWaiting,
    ownerIndex: false,
    requestOwnerIndex: false,
    requestDueIndex: false,
    sendsRetries: true,
    taskAnswers: grantsAndHeartbeats,
    describesExecutions: true,
  },
  release: {
    source: 'functions/release.ts',
    description: 'dynamo-dlm release step: frees the slot and hands it to the oldest waiter',
    timeoutSeconds: 10,
    memoryMb: 256,
    table: grantsWaiting,
    requestTable: grantsWaiting,
    ownerIndex: false,
    requestOwnerIndex: false,
    requestDueIndex: false,
    sendsRetries: true,
    taskAnswers: grantsAndTimeouts,
    describesExecutions: true,
  },
  count: {
    source: 'functions/count.ts',
    description: 'dynamo-dlm count step: holders and waiting requests of a resource',
    timeoutSeconds: 5,
    memoryMb: 256,
    // GetItem: the rate's item, for `nextStartAt`.
    table: ['GetItem', 'Query'],
    requestTable: ['Query'],
    ownerIndex: false,
    requestOwnerIndex: false,
    requestDueIndex: false,
    sendsRetries: false,
    taskAnswers: [],
    describesExecutions: false,
  },
  extend: {
    source: 'functions/extend.ts',
    description: 'dynamo-dlm extend step: moves the end of a held lease',
    timeoutSeconds: 5,
    memoryMb: 256,
    table: ['UpdateItem'],
    requestTable: ['UpdateItem'],
    ownerIndex: false,
    requestOwnerIndex: false,
    requestDueIndex: false,
    sendsRetries: false,
    taskAnswers: [],
    describesExecutions: false,
  },
  cleanup: {
    source: 'functions/cleanup.ts',
    description: 'dynamo-dlm cleanup: frees what a failed, timed-out or aborted execution holds',
    timeoutSeconds: 30,
    memoryMb: 256,
    table: grantsWaiting,
    requestTable: grantsWaiting,
    ownerIndex: true,
    requestOwnerIndex: true,
    requestDueIndex: false,
    sendsRetries: true,
    taskAnswers: grantsAndTimeouts,
    describesExecutions: true,
  },
  sweeper: {
    source: 'functions/sweeper.ts',
    description: 'dynamo-dlm sweeper (once a minute): re-drives requests whose next step is overdue',
    timeoutSeconds: 60,
    memoryMb: 256,
    table: grantsWaiting,
    requestTable: grantsWaiting,
    ownerIndex: false,
    requestOwnerIndex: false,
    requestDueIndex: true,
    sendsRetries: true,
    taskAnswers: grantsAndHeartbeats,
    describesExecutions: true,
  },
} as const satisfies Record<string, FunctionSpec>;

/** A function of the lock service. */
export type LockFunctionName = keyof typeof lockFunctions;

/** The example workflow's work: holds the slot for `workMs`. Not part of the reusable component. */
export const exampleWorkFunction: FunctionSpec = {
  source: 'functions/example-work.ts',
  description: 'dynamo-dlm example work: holds the slot for workMs milliseconds',
  timeoutSeconds: 70,
  memoryMb: 128,
  table: [],
  requestTable: [],
  ownerIndex: false,
  requestOwnerIndex: false,
  requestDueIndex: false,
  sendsRetries: false,
  taskAnswers: [],
  describesExecutions: false,
};
