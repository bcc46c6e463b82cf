import type { StateMachine } from 'aws-local-stepfunctions';
import type { TaskSpec } from './types.js';

/** One event of the engine's log of a run. */
export type EngineEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer Event> ? Event : never;

/**
 * One event of GetExecutionHistory, as AWS shapes it: its type and the details field AWS names
 * after it (`taskScheduledEventDetails`, ...); `id` and `previousEventId` are given when read.
 */
export interface HistoryEvent {
  type: string;
  timestamp: number;
  details?: Record<string, unknown>;
}

/** A history event as GetExecutionHistory answers it (`timestamp` in epoch ms here). */
export interface WireHistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

/** AWS keeps at most 25,000 events per execution; so does the endpoint. */
const MAX_EVENTS = 25_000;

/**
 * The history of one execution: the events of its run in order, then the event that ended it.
 * The engine's log arrives asynchronously, possibly after the endpoint has recorded the end, so
 * the end is kept apart and always read last.
 *
 * @example
 * history.add({ type: 'ExecutionStarted', timestamp: Date.now(), details: { input: '{}' } });
 * history.events(); // [{ id: 1, previousEventId: 0, type: 'ExecutionStarted', ... }]
 */
export class ExecutionHistory {
  readonly #events: HistoryEvent[] = [];
  #end: HistoryEvent | undefined;

  add(event: HistoryEvent): void {
    if (this.#events.length < MAX_EVENTS - 1) this.#events.push(event);
  }

  /** The event that ended the execution (ExecutionSucceeded, ExecutionFailed, ...). */
  end(event: HistoryEvent): void {
    this.#end ??= event;
  }

  /** Every event so far, numbered from 1, each pointing at the one before. */
  events(): Array<HistoryEvent & { id: number; previousEventId: number }> {
    const all = this.#end ? [...this.#events, this.#end] : this.#events;
    return all.map((event, index) => ({ ...event, id: index + 1, previousEventId: index }));
  }
}

/**
 * The name AWS gives an event's details: `TaskScheduled` has `taskScheduledEventDetails`; every
 * `<Type>StateEntered` shares `stateEnteredEventDetails`, every `<Type>StateExited`
 * `stateExitedEventDetails`.
 */
export function detailsKey(type: string): string {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
}

/**
 * Turns the engine's log of one run into the history events AWS writes, in order: none for the
 * engine's events AWS has no counterpart of (a Parallel branch's start, a retry). A Task state
 * whose resource the endpoint serves itself says what it calls: `Task*` events for the
 * `lambda:invoke` integrations, `LambdaFunction*` for a plain function ARN; a Pass state the
 * endpoint rewrote into a constant task stays a Pass state. A state whose error a Catch took
 * reports its failure and its exit, never a success.
 *
 * @example
 * const translate = historyTranslator(machine.tasks);
 * translate(engineEvent); // [{ type: 'TaskStateEntered', ... }, { type: 'TaskScheduled', ... }, ...]
 */
export function historyTranslator(
  tasks: ReadonlyMap<string, TaskSpec>,
): (event: EngineEvent) => HistoryEvent[] {
  // States whose failure a Catch took, until they exit (the engine logs the exit after it).
  const caught = new Set<string>();
  return (event) => {
    const at = (type: string, details?: Record<string, unknown>): HistoryEvent => ({
      type,
      timestamp: event.timestamp,
      ...(details ? { details } : {}),
    });
    switch (event.type) {
      case 'StateEntered':
      case 'StateExited':
      case 'StateFailed': {
        const spec = tasks.get(event.state.name);
        const stateType = spec?.kind === 'constant' ? 'Pass' : event.state.type;
        const name = event.state.name;
        const task = spec && spec.kind !== 'constant' ? taskEvents(spec) : undefined;
        // Map and Parallel states also report their start and success (MapStateStarted, ...).
        const composite = stateType === 'Map' || stateType === 'Parallel';
        if (event.type === 'StateEntered') {
          const entered = at(`${stateType}StateEntered`, { name, input: json(event.state.input) });
          if (task) return [entered, at(task.scheduled, task.scheduledDetails), at(task.started)];
          return composite ? [entered, at(`${stateType}StateStarted`)] : [entered];
        }
        if (event.type === 'StateExited') {
          const output = json(event.state.output);
          const exited = at(`${stateType}StateExited`, { name, output });
          if (caught.delete(name)) return [exited];
          if (task) return [at(task.succeeded, { output }), exited];
          return composite ? [at(`${stateType}StateSucceeded`), exited] : [exited];
        }
        const cause = typeof event.Cause === 'string' ? event.Cause : json(event.Cause);
        if (task) return [at(task.failed, { error: event.Error, cause })];
        return composite ? [at(`${stateType}StateFailed`)] : [];
      }
      case 'StateCaught':
        caught.add(event.state.name);
        return [];
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        return [at(event.type, { name: event.parentState.name, index: event.index })];
      default:
        // The execution's own start and end are recorded by the endpoint (its status is theirs).
        return [];
    }
  };
}

interface TaskEvents {
  scheduled: string;
  scheduledDetails: Record<string, unknown>;
  started: string;
  succeeded: string;
  failed: string;
}

function taskEvents(spec: TaskSpec): TaskEvents {
  if (spec.kind === 'function') {
    return {
      scheduled: 'LambdaFunctionScheduled',
      scheduledDetails: { resource: spec.resource },
      started: 'LambdaFunctionStarted',
      succeeded: 'LambdaFunctionSucceeded',
      failed: 'LambdaFunctionFailed',
    };
  }
  const resource = spec.kind === 'callback' ? 'invoke.waitForTaskToken' : 'invoke';
  return {
    scheduled: 'TaskScheduled',
    scheduledDetails: { resourceType: 'lambda', resource },
    started: 'TaskStarted',
    succeeded: 'TaskSucceeded',
    failed: 'TaskFailed',
  };
}

const json = (value: unknown): string => JSON.stringify(value ?? null);
