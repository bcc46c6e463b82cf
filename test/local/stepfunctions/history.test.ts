import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';

/*
 * GetExecutionHistory (issue 18): a workflow's own tests assert the path an execution took, with
 * AWS's event types and details fields.
 */

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    echo: (payload) => payload,
    fail: () => {
      throw Object.assign(new Error('partner said no'), { name: 'Partner.Refused' });
    },
  });
});
afterAll(async () => {
  await h.stop();
});

async function history(executionArn: string, extra: Record<string, unknown> = {}): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await h.client.send(new GetExecutionHistoryCommand({ executionArn, nextToken, ...extra }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

const invoke = (functionName: string, next: Record<string, unknown>) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: functionName, 'Payload.$': '$' },
  OutputPath: '$.Payload',
  ...next,
});

describe('GetExecutionHistory', () => {
  it("records the path taken with AWS's event types, numbered in order, ending with the execution's end", async () => {
    const arn = await h.createMachine({
      StartAt: 'Prepare',
      States: {
        // One item: the engine logs the iterations of a wider Map in the order their promises settle.
        Prepare: { Type: 'Pass', Result: [1], ResultPath: '$.items', Next: 'Call' },
        Call: invoke('echo', { Next: 'Each' }),
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          MaxConcurrency: 1,
          ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Pass', End: true } } },
          Next: 'Done',
        },
        Done: { Type: 'Succeed' },
      },
    });
    const executionArn = await h.start(arn, { order: 7 });
    await h.waitForEnd(executionArn);
    const events = await history(executionArn);
    expect(events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'MapStateEntered',
      'MapStateStarted',
      'MapIterationStarted',
      'PassStateEntered',
      'PassStateExited',
      'MapIterationSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    // Numbered from 1; each points at an earlier event (the one it follows from: the own engine
    // points a Map's success at its start, as AWS does, the other engine at the event before).
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    for (const event of events) expect(event.previousEventId).toBeLessThan(event.id ?? 0);
    const times = events.map((event) => event.timestamp?.getTime() ?? 0);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(JSON.parse(events[0]?.executionStartedEventDetails?.input ?? '{}')).toEqual({ order: 7 });
    expect(events[1]?.stateEnteredEventDetails?.name).toBe('Prepare');
    expect(events[4]?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
    });
    expect(events[10]?.mapIterationStartedEventDetails).toMatchObject({ name: 'Each', index: 0 });
    // The Map's result is the state's output (no ResultPath): the one item.
    expect(JSON.parse(events.at(-1)?.executionSucceededEventDetails?.output ?? '{}')).toEqual([1]);
  });

  it('shows a caught task failure and a failed execution with their error and cause', async () => {
    const arn = await h.createMachine({
      StartAt: 'Call',
      States: {
        Call: invoke('fail', { Catch: [{ ErrorEquals: ['Partner.Refused'], Next: 'Stop' }], End: true }),
        Stop: { Type: 'Fail', Error: 'Workflow.Stopped', Cause: 'the partner refused' },
      },
    });
    const executionArn = await h.start(arn);
    await h.waitForEnd(executionArn);
    const events = await history(executionArn);
    expect(events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      // The Catch's exit (never a success), with the error output.
      'TaskStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
    expect(events[4]?.taskFailedEventDetails?.error).toBe('Partner.Refused');
    expect(events.at(-1)?.executionFailedEventDetails).toMatchObject({
      error: 'Workflow.Stopped',
      cause: 'the partner refused',
    });
  });

  it('pages, reverses and leaves out inputs and outputs when asked', async () => {
    const arn = await h.createMachine({
      StartAt: 'A',
      States: { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', End: true } },
    });
    const executionArn = await h.start(arn, { secret: 'input' });
    await h.waitForEnd(executionArn);
    const forward = await history(executionArn, { maxResults: 2 });
    const backward = await history(executionArn, { reverseOrder: true });
    expect(backward.map((event) => event.id)).toEqual(forward.map((event) => event.id).reverse());
    const bare = await history(executionArn, { includeExecutionData: false });
    expect(JSON.stringify(bare)).not.toContain('secret');
    expect(bare.map((event) => event.type)).toEqual(forward.map((event) => event.type));
  });
});
