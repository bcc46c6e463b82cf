import { randomUUID } from 'node:crypto';
import {
  describeProblems,
  type ExecutionResult,
  type HistoryEvent,
  runExecution,
  type TaskCall,
  type TaskRunner,
  validate,
} from '../../../../local/stepfunctions/engine/index.js';

/** A fake task: answers from the call, or throws an error built with {@link taskError}. */
export type FakeTask = (call: TaskCall) => unknown;

/** An error as a task reports it: `name` is the ASL error, `message` the cause. */
export function taskError(name: string, cause = ''): Error {
  return Object.assign(new Error(cause), { name });
}

/** Fake task runner keyed by state name; records every call. */
export function fakeTasks(byState: Record<string, FakeTask>): TaskRunner & { calls: TaskCall[] } {
  const calls: TaskCall[] = [];
  let tokens = 0;
  return {
    calls,
    newToken: () => `token-${++tokens}`,
    run: async (call) => {
      calls.push(call);
      const task = byState[call.state];
      if (!task) throw new Error(`no fake task for state ${call.state}`);
      return task(call);
    },
  };
}

export interface Ran {
  result: ExecutionResult;
  events: HistoryEvent[];
}

/** Validates (failing the test on a problem) and runs one execution. */
export async function run(
  definition: Record<string, unknown>,
  input: unknown = {},
  tasks: TaskRunner = fakeTasks({}),
  signal?: AbortSignal,
): Promise<Ran> {
  const problems = validate(definition);
  if (problems.length > 0) throw new Error(`invalid definition: ${describeProblems(problems)}`);
  const events: HistoryEvent[] = [];
  const result = await runExecution(definition, input as never, {
    tasks,
    execution: {
      Id: 'arn:aws:states:us-east-1:000000000000:execution:test:run-1',
      Name: 'run-1',
      RoleArn: 'arn:aws:iam::000000000000:role/sfn',
      StartTime: new Date().toISOString(),
      RedriveCount: 0,
    },
    stateMachine: { Id: 'arn:aws:states:us-east-1:000000000000:stateMachine:test', Name: 'test' },
    signal,
    onEvent: (event) => events.push(event),
  });
  return { result, events };
}

/** The output of a run that must succeed. */
export async function output(
  definition: Record<string, unknown>,
  input: unknown = {},
  tasks?: TaskRunner,
): Promise<unknown> {
  const { result } = await run(definition, input, tasks);
  if (result.status !== 'SUCCEEDED') throw new Error(`expected SUCCEEDED, got ${JSON.stringify(result)}`);
  return result.output;
}

/** A one-state machine in the given language. */
export function single(state: Record<string, unknown>, language: 'JSONPath' | 'JSONata' = 'JSONPath') {
  return { QueryLanguage: language, StartAt: 'S', States: { S: { ...state, End: true } } };
}

export const id = () => randomUUID();
