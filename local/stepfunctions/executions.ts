import './polyfill.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError } from 'aws-local-stepfunctions';
import { type ArnScope, assertArn, assertName, executionArn } from './arns.js';
import { type JsonValue as EngineJson, type HistoryEvent, runExecution } from './engine/index.js';
import { SfnError, UncatchableError } from './errors.js';
import {
  detailsKey,
  type EngineEvent,
  ExecutionHistory,
  historyTranslator,
  type WireHistoryEvent,
} from './history.js';
import type { StateMachineRecord } from './state-machines.js';
import type { ExecutionRecord } from './status-events.js';
import { buildTaskHandlers, buildTaskRunner } from './task-handlers.js';
import type { TaskTokens } from './task-tokens.js';
import type { TimeoutErrors } from './timeout-errors.js';
import type { ExecutionStatus, JsonValue, LambdaInvoker } from './types.js';

const MAX_PAYLOAD_BYTES = 262_144;
// Ended executions kept for Describe/List; beyond this the oldest ended ones are forgotten, so a
// long-running local session or a benchmark cannot grow memory without bound.
const MAX_EXECUTIONS = 50_000;

/**
 * What executions need from the rest of the endpoint.
 *
 * @example
 * new Executions({ scope, lambda, tokens, timeouts, onStatusChange: (r) => bus.publish(toStatusChangeEvent(r, scope)) });
 */
export interface ExecutionsDeps {
  scope: ArnScope;
  lambda: LambdaInvoker;
  tokens: TaskTokens;
  timeouts: TimeoutErrors;
  onStatusChange: (record: ExecutionRecord) => void;
}

interface Entry {
  record: ExecutionRecord;
  /** The state machine as it was when the execution started (an update does not change it). */
  machine: StateMachineRecord;
  // Aborted when the execution ends: closes its tokens and refuses new task invocations.
  closed: AbortController;
  abortRun: () => void;
  /** The own engine's events as it numbers them, or the other engine's log translated. */
  history: HistoryEvent[] | ExecutionHistory;
}

const FAIL_STATE_DEFAULT_CAUSE = 'Execution failed because of a Fail state';

// The engine names a Fail state without Error "FailStateError" and gives it a stock message;
// AWS reports neither.
function failureOf(error: unknown): { error?: string; cause?: string } {
  const cause = error instanceof ExecutionError ? error.cause : error;
  if (!(cause instanceof Error)) return { error: 'States.Runtime', cause: String(cause) };
  const isFailState = cause.constructor.name === 'FailStateError';
  const name = isFailState && cause.name === 'FailStateError' ? undefined : cause.name || undefined;
  const message = isFailState && cause.message === FAIL_STATE_DEFAULT_CAUSE ? undefined : cause.message;
  return { error: name, cause: message };
}

/**
 * The executions of one endpoint: starts them on the engine, tracks their status, stops them,
 * and reports every status change.
 *
 * @example
 * const record = executions.start(machine, undefined, '{"orderId":1}');
 * executions.get(record.executionArn).status; // 'RUNNING'
 */
export class Executions {
  readonly #deps: ExecutionsDeps;
  readonly #byArn = new Map<string, Entry>();

  constructor(deps: ExecutionsDeps) {
    this.#deps = deps;
  }

  /** StartExecution. Idempotent for a running execution with the same name and input. */
  start(machine: StateMachineRecord, name: string | undefined, input: string): ExecutionRecord {
    const executionName = name ?? randomUUID();
    assertName(executionName);
    const arn = executionArn(this.#deps.scope, machine.name, executionName);
    const existing = this.#byArn.get(arn);
    if (existing) {
      const { record } = existing;
      if (record.status === 'RUNNING' && record.input === input) return record;
      throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(input) as JsonValue;
    } catch (error) {
      throw new SfnError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: '${(error as Error).message}'`,
      );
    }
    const record: ExecutionRecord = {
      executionArn: arn,
      stateMachineArn: machine.arn,
      name: executionName,
      status: 'RUNNING',
      input,
      startDate: Date.now(),
    };
    const entry: Entry = {
      record,
      machine,
      closed: new AbortController(),
      abortRun: () => {},
      // The own engine logs its own start; the other's log starts with the first state.
      history: machine.engine === 'own' ? [] : startedHistory(record, machine),
    };
    // Every waiting task listens on it: a wide Map legitimately exceeds the default of 10.
    setMaxListeners(0, entry.closed.signal);
    this.#byArn.set(arn, entry);
    if (this.#byArn.size > MAX_EXECUTIONS) this.#forgetOldestEnded();
    this.#deps.onStatusChange({ ...record });
    if (machine.engine === 'own') this.#runOwn(machine, entry, parsed);
    else this.#run(machine, entry, parsed);
    return record;
  }

  #finishWithOutput(entry: Entry, output: unknown): void {
    const text = JSON.stringify(output ?? null);
    if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
      this.#finish(entry, 'FAILED', {
        error: 'States.DataLimitExceeded',
        cause:
          'The state/task returned a result with a size exceeding the maximum number of bytes service limit.',
      });
    } else {
      this.#finish(entry, 'SUCCEEDED', { output: text });
    }
  }

  // The own engine: StopExecution aborts `closed`, which the run, its tasks and tokens share.
  #runOwn(machine: StateMachineRecord, entry: Entry, input: JsonValue): void {
    const { record } = entry;
    const { lambda, tokens, timeouts, scope } = this.#deps;
    const run = runExecution(machine.parsed, input as EngineJson, {
      tasks: buildTaskRunner({ lambda, tokens, timeouts }),
      execution: {
        Id: record.executionArn,
        Name: record.name,
        RoleArn: machine.roleArn,
        StartTime: new Date(record.startDate).toISOString(),
        RedriveCount: 0,
      },
      stateMachine: { Id: machine.arn, Name: machine.name },
      region: scope.region,
      signal: entry.closed.signal,
      onEvent: (event) => {
        if (Array.isArray(entry.history)) entry.history.push(event);
      },
    });
    run.then((result) => {
      if (result.status === 'SUCCEEDED') this.#finishWithOutput(entry, result.output);
      else if (result.status === 'TIMED_OUT') this.#finish(entry, 'TIMED_OUT', { error: 'States.Timeout' });
      else if (result.status === 'FAILED')
        this.#finish(entry, 'FAILED', { error: result.error, cause: result.cause });
      else this.#finish(entry, 'ABORTED', {});
    });
  }

  #run(machine: StateMachineRecord, entry: Entry, input: JsonValue): void {
    const { record } = entry;
    const { lambda, tokens, timeouts } = this.#deps;
    // Stands for $$.Task.Token; each callback task swaps it for a fresh token.
    const sentinel = `__local_sfn_task_token_${randomBytes(12).toString('hex')}__`;
    const handlers = buildTaskHandlers(machine.tasks, {
      lambda,
      tokens,
      timeouts,
      signal: entry.closed.signal,
      sentinel,
    });
    const context = {
      Execution: {
        Id: record.executionArn,
        Name: record.name,
        RoleArn: machine.roleArn,
        StartTime: new Date(record.startDate).toISOString(),
        RedriveCount: 0,
      },
      StateMachine: { Id: machine.arn, Name: machine.name },
      Task: { Token: sentinel },
    };
    // Handlers may run synchronously inside run(): the entry is registered before this call.
    const run = (machine.machine as NonNullable<StateMachineRecord['machine']>).run(input as never, {
      overrides: { taskResourceLocalHandlers: handlers },
      context,
    });
    entry.abortRun = run.abort;
    if (entry.history instanceof ExecutionHistory)
      void recordHistory(entry.history, machine.tasks, run.eventLogs);
    run.result.then(
      (output) => this.#finishWithOutput(entry, output),
      (error: unknown) => {
        if (error instanceof ExecutionTimeoutError)
          this.#finish(entry, 'TIMED_OUT', { error: 'States.Timeout' });
        else if (error instanceof ExecutionAbortedError) this.#finish(entry, 'ABORTED', {});
        else this.#finish(entry, 'FAILED', failureOf(error));
      },
    );
  }

  #finish(entry: Entry, status: ExecutionStatus, fields: Partial<ExecutionRecord>, notify = true): void {
    const { record } = entry;
    if (record.status !== 'RUNNING') return;
    Object.assign(record, fields, { status, stopDate: Date.now() });
    // The own engine logs the end itself.
    if (entry.history instanceof ExecutionHistory) entry.history.end(endEvent(record));
    entry.closed.abort(new UncatchableError('States.Runtime', `The execution has ended (${status})`));
    if (notify) this.#deps.onStatusChange({ ...record });
  }

  #forgetOldestEnded(): void {
    const target = Math.floor(MAX_EXECUTIONS * 0.9);
    for (const [arn, { record }] of this.#byArn) {
      if (this.#byArn.size <= target) return;
      if (record.status !== 'RUNNING') this.#byArn.delete(arn);
    }
  }

  /** DescribeExecution. */
  get(arn: string): ExecutionRecord {
    return this.#entry(arn).record;
  }

  /**
   * GetExecutionHistory: the execution's events so far, numbered, each with its details under
   * AWS's field name (`taskScheduledEventDetails`, ...); `timestamp` in epoch ms.
   */
  history(arn: string): WireHistoryEvent[] {
    const entry = this.#entry(arn);
    if (Array.isArray(entry.history))
      return entry.history.map((event) => ({ ...event, timestamp: event.timestamp.getTime() }));
    return entry.history.events().map(({ type, timestamp, details, id, previousEventId }) => ({
      type,
      id,
      previousEventId,
      timestamp,
      ...(details ? { [detailsKey(type)]: details } : {}),
    }));
  }

  /** DescribeStateMachineForExecution: the state machine the execution started with. */
  machineOf(arn: string): StateMachineRecord {
    return this.#entry(arn).machine;
  }

  #entry(arn: string): Entry {
    assertArn(arn, 'execution');
    const entry = this.#byArn.get(arn);
    if (!entry) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return entry;
  }

  /** ListExecutions: newest first, optionally of one status. */
  list(stateMachineArn: string, status?: ExecutionStatus): ExecutionRecord[] {
    const found: ExecutionRecord[] = [];
    for (const { record } of this.#byArn.values()) {
      if (record.stateMachineArn === stateMachineArn && (!status || record.status === status))
        found.push(record);
    }
    return found.reverse();
  }

  /** StopExecution: ABORTED at once; pending tasks are rejected and new ones refused. */
  stop(arn: string, error?: string, cause?: string): ExecutionRecord {
    const record = this.get(arn);
    const entry = this.#byArn.get(arn) as Entry;
    this.#finish(entry, 'ABORTED', { error, cause });
    entry.abortRun();
    return record;
  }

  /** Aborts every running execution without notifying anyone (endpoint shutdown). */
  stopAll(): void {
    for (const entry of this.#byArn.values()) {
      this.#finish(entry, 'ABORTED', { cause: 'The local Step Functions endpoint was stopped' }, false);
      entry.abortRun();
    }
  }
}

/** Copies the engine's log of a run into the execution's history, as AWS names its events. */
async function recordHistory(
  history: ExecutionHistory,
  tasks: StateMachineRecord['tasks'],
  log: AsyncGenerator<EngineEvent>,
): Promise<void> {
  const translate = historyTranslator(tasks);
  for (;;) {
    let next: IteratorResult<EngineEvent>;
    try {
      next = await log.next();
    } catch {
      // The log ends with the run; a run that ended by an error has told the endpoint already.
      return;
    }
    if (next.done) return;
    for (const added of translate(next.value)) history.add(added);
  }
}

/** The other engine's history of a run, opened by the endpoint with the execution's start. */
function startedHistory(record: ExecutionRecord, machine: StateMachineRecord): ExecutionHistory {
  const history = new ExecutionHistory();
  history.add({
    type: 'ExecutionStarted',
    timestamp: record.startDate,
    details: { input: record.input, inputDetails: { truncated: false }, roleArn: machine.roleArn },
  });
  return history;
}

/** The history event that records how an execution ended. */
function endEvent(record: ExecutionRecord) {
  const timestamp = record.stopDate ?? Date.now();
  const failure = { error: record.error, cause: record.cause };
  switch (record.status) {
    case 'SUCCEEDED':
      return {
        type: 'ExecutionSucceeded',
        timestamp,
        details: { output: record.output, outputDetails: { truncated: false } },
      };
    case 'TIMED_OUT':
      return { type: 'ExecutionTimedOut', timestamp, details: failure };
    case 'ABORTED':
      return { type: 'ExecutionAborted', timestamp, details: failure };
    default:
      return { type: 'ExecutionFailed', timestamp, details: failure };
  }
}
