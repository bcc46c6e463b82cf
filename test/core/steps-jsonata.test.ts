import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import {
  acquireJsonataState,
  acquireState,
  countJsonataState,
  countState,
  exampleJsonataStateMachine,
  extendJsonataState,
  extendState,
  type Json,
  lambdaServiceRetry,
  releaseJsonataState,
  releaseState,
  waitTimeoutMarginSeconds,
} from '../../core/steps/index.js';

// The JSONata steps cannot run on the local Step Functions yet; here their `{% %}` expressions are
// evaluated with the jsonata package against a sample `$states`, and what they send is compared
// with what the JSONPath steps (which the workflow tests run) send for the same input.

const lease = {
  resourceId: 'partner-api',
  concurrencyId: 2,
  releaseCode: 'r-123',
  expiresAt: 1_900_000_000_000,
  fencingToken: 7,
  waitedMs: 15,
  // Every acquire output lists its slots (one here; `permits` of them for a weighted lease).
  slots: [{ concurrencyId: 2, fencingToken: 7 }],
};
const input = { tenant: 'acme', slots: 3, lock: lease };
const context = {
  Task: { Token: 'token-1' },
  Execution: { Id: 'arn:aws:states:us-east-1:123456789012:execution:orders:run-1' },
};
const bindings = { states: { input, context }, lock: lease };

/** Evaluates every `{% %}` string of a JSONata state's field, as Step Functions does. */
async function evaluated(value: Json, extra: Record<string, unknown> = {}): Promise<unknown> {
  if (typeof value === 'string') {
    const expression = /^\{%(.*)%\}$/s.exec(value)?.[1];
    return expression === undefined ? value : jsonata(expression).evaluate({}, { ...bindings, ...extra });
  }
  if (Array.isArray(value)) return Promise.all(value.map((item) => evaluated(item, extra)));
  if (value && typeof value === 'object') {
    const entries = await Promise.all(
      Object.entries(value).map(async ([key, item]) => [key, await evaluated(item, extra)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** What a JSONPath `Parameters.Payload` sends: `name.$` fields read from the input or the context. */
function jsonPathPayload(payload: Record<string, Json>): Record<string, unknown> {
  const read = (path: string): unknown => {
    const [source, rest] = path.startsWith('$$.') ? [context, path.slice(3)] : [input, path.slice(2)];
    return rest.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], source);
  };
  return Object.fromEntries(
    Object.entries(payload).map(([key, value]) =>
      key.endsWith('.$') ? [key.slice(0, -2), read(String(value))] : [key, value],
    ),
  );
}

const arn = 'arn:aws:lambda:us-east-1:123456789012:function:dlm-acquire';
const payloadOf = (state: Record<string, Json>, field: 'Arguments' | 'Parameters') =>
  (state[field] as Record<string, Record<string, Json>>).Payload as Record<string, Json>;

describe('the JSONata steps', () => {
  it('acquire sends what the JSONPath acquire sends: token and execution from the context, the request', async () => {
    const jsonataAcquire = acquireJsonataState({
      functionArn: arn,
      resourceId: '{% $states.input.tenant %}',
      concurrency: '{% $states.input.slots %}',
      leaseSeconds: 60,
      waitSeconds: 120,
      heartbeatSeconds: 30,
      permits: 2,
      next: 'Work',
    });
    const jsonPathAcquire = acquireState({
      functionArn: arn,
      resourceId: { path: '$.tenant' },
      concurrency: { path: '$.slots' },
      leaseSeconds: 60,
      waitSeconds: 120,
      heartbeatSeconds: 30,
      permits: 2,
      next: 'Work',
    });
    const sent = await evaluated(payloadOf(jsonataAcquire, 'Arguments'));
    expect(sent).toEqual(jsonPathPayload(payloadOf(jsonPathAcquire, 'Parameters')));
    expect(sent).toMatchObject({
      taskToken: 'token-1',
      owner: context.Execution.Id,
      resourceId: 'acme',
      concurrency: 3,
      permits: 2,
    });
    expect(jsonataAcquire).toMatchObject({
      Type: 'Task',
      QueryLanguage: 'JSONata',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      TimeoutSeconds: 120 + waitTimeoutMarginSeconds,
      HeartbeatSeconds: 30,
      Retry: lambdaServiceRetry,
      Next: 'Work',
    });
    // The answer of SendTaskSuccess (the lease) goes to $lock; the input goes on unchanged.
    const assigned = await evaluated(jsonataAcquire.Assign as Json, {
      states: { input, context, result: lease },
    });
    expect(assigned).toEqual({ lock: lease });
    expect(await evaluated(jsonataAcquire.Output as Json)).toEqual(input);
  });

  it('release, count and extend send what their JSONPath steps send, reading the lease from $lock', async () => {
    const pairs: [Record<string, Json>, Record<string, Json>][] = [
      [releaseJsonataState({ functionArn: arn, end: true }), releaseState({ functionArn: arn, end: true })],
      [
        countJsonataState({ functionArn: arn, resourceId: '{% $states.input.tenant %}', end: true }),
        countState({ functionArn: arn, resourceId: { path: '$.tenant' }, end: true }),
      ],
      [
        extendJsonataState({ functionArn: arn, leaseSeconds: 600, end: true }),
        extendState({ functionArn: arn, leaseSeconds: 600, end: true }),
      ],
    ];
    for (const [jsonataState, jsonPathState] of pairs) {
      expect(await evaluated(payloadOf(jsonataState, 'Arguments'))).toEqual(
        jsonPathPayload(payloadOf(jsonPathState, 'Parameters')),
      );
      expect(jsonataState).toMatchObject({
        QueryLanguage: 'JSONata',
        Resource: 'arn:aws:states:::lambda:invoke',
        Retry: lambdaServiceRetry,
        End: true,
      });
    }
  });

  it('count and extend assign the function answer (lambda:invoke wraps it in Payload) to their variables', async () => {
    const answer = { ...lease, expiresAt: 1_900_000_600_000 };
    const result = { Payload: answer, StatusCode: 200 };
    const states = { input, context, result };
    expect(
      await evaluated(extendJsonataState({ functionArn: arn, leaseSeconds: 600, end: true }).Assign as Json, {
        states,
      }),
    ).toEqual({ lock: answer });
    expect(
      await evaluated(
        countJsonataState({ functionArn: arn, resourceId: 'x', assignTo: 'busy', end: true }).Assign as Json,
        { states },
      ),
    ).toEqual({ busy: answer });
  });

  it('refuse a variable name Step Functions would not take, naming the field', () => {
    expect(() =>
      acquireJsonataState({ functionArn: arn, resourceId: 'x', assignTo: '1lock', end: true }),
    ).toThrow(/`assignTo`/);
    expect(() => releaseJsonataState({ functionArn: arn, lease: 'my-lock', end: true })).toThrow(/`lease`/);
  });
});

describe('the JSONata example state machine', () => {
  const definition = exampleJsonataStateMachine({
    functions: { acquire: arn, release: 'release-arn' },
    workFunctionArn: 'work-arn',
  });

  it('is JSONata throughout, and every Next and Catch goes to a state of the machine', () => {
    expect(definition.QueryLanguage).toBe('JSONata');
    const names = Object.keys(definition.States);
    for (const state of Object.values(definition.States)) {
      expect(state).not.toHaveProperty('Parameters');
      expect(state).not.toHaveProperty('ResultPath');
      if (state.Next) expect(names).toContain(state.Next);
      for (const rule of (state.Catch as { Next: string }[] | undefined) ?? [])
        expect(names).toContain(rule.Next);
    }
  });

  it('releases the lease acquire assigned, on success and after a failed work step, and fails with the cause', async () => {
    const { Acquire, Release, ReleaseAfterFailure, Work, WorkFailed, NoSlotInTime } = definition.States;
    expect(Acquire?.Catch).toEqual([
      { ErrorEquals: ['Lock.Timeout'], Output: '{% $states.errorOutput %}', Next: 'NoSlotInTime' },
    ]);
    expect(Work?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], Output: '{% $states.errorOutput %}', Next: 'ReleaseAfterFailure' },
    ]);
    expect(Release?.End).toBe(true);
    expect(ReleaseAfterFailure?.Next).toBe('WorkFailed');
    const released = await evaluated(payloadOf(ReleaseAfterFailure as Record<string, Json>, 'Arguments'));
    expect(released).toEqual({
      resourceId: lease.resourceId,
      concurrencyId: lease.concurrencyId,
      releaseCode: lease.releaseCode,
      slots: lease.slots,
    });
    // The work's error output passes through the release to the Fail state's cause.
    const error = { Error: 'Boom', Cause: 'the partner said no' };
    const afterRelease = await evaluated(ReleaseAfterFailure?.Output as Json, {
      states: { input: error, context },
    });
    expect(await evaluated(WorkFailed?.Cause as Json, { states: { input: afterRelease, context } })).toBe(
      'the partner said no',
    );
    expect(await evaluated(NoSlotInTime?.Cause as Json, { states: { input: error, context } })).toBe(
      'the partner said no',
    );
    const start = { resourceId: 'demo', concurrency: 2, workMs: 10 };
    expect(
      await evaluated(payloadOf(Acquire as Record<string, Json>, 'Arguments'), {
        states: { input: start, context },
      }),
    ).toEqual({
      taskToken: 'token-1',
      owner: context.Execution.Id,
      resourceId: 'demo',
      concurrency: 2,
      leaseSeconds: 300,
    });
  });
});
