import { describe, expect, it } from 'vitest';
import type { TaskCall } from '../../../../local/stepfunctions/engine/index.js';
import { fakeTasks, output, run, taskError } from './engine-harness.js';

const LAMBDA = 'arn:aws:states:::lambda:invoke';
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function mapOf(state: Record<string, unknown>, language: 'JSONPath' | 'JSONata' = 'JSONPath') {
  return {
    QueryLanguage: language,
    StartAt: 'M',
    States: {
      M: {
        Type: 'Map',
        ItemProcessor: {
          StartAt: 'Work',
          States: {
            Work: {
              Type: 'Task',
              Resource: LAMBDA,
              ...(language === 'JSONPath'
                ? { Parameters: { FunctionName: 'f', 'item.$': '$' } }
                : { Arguments: { FunctionName: 'f', item: '{% $states.input %}' } }),
              End: true,
            },
          },
        },
        End: true,
        ...state,
      },
    },
  };
}

describe('Map', () => {
  it('JSONPath: ItemsPath and ItemSelector with $$.Map.Item (AWS inline Map example)', async () => {
    // https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
    const input = {
      'ship-date': '2016-03-14T01:59:00Z',
      detail: {
        'delivery-partner': 'UQS',
        shipped: [
          { prod: 'R31', 'dest-code': 9511, quantity: 1344 },
          { prod: 'S39', 'dest-code': 9511, quantity: 40 },
        ],
      },
    };
    const definition = {
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          ItemsPath: '$.detail.shipped',
          ItemSelector: {
            'parcel.$': '$$.Map.Item.Value',
            'courier.$': '$.detail.delivery-partner',
            'index.$': '$$.Map.Item.Index',
          },
          ItemProcessor: { StartAt: 'Ship', States: { Ship: { Type: 'Pass', End: true } } },
          ResultPath: '$.detail.shipped',
          End: true,
        },
      },
    };
    const out = (await output(definition, input)) as { detail: { shipped: unknown[] } };
    expect(out.detail.shipped).toEqual([
      { parcel: { prod: 'R31', 'dest-code': 9511, quantity: 1344 }, courier: 'UQS', index: 0 },
      { parcel: { prod: 'S39', 'dest-code': 9511, quantity: 40 }, courier: 'UQS', index: 1 },
    ]);
  });

  it('JSONata: Items, ItemSelector with $states.context.Map.Item, results in order', async () => {
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          Items: '{% $states.input.numbers %}',
          ItemSelector: {
            n: '{% $states.context.Map.Item.Value %}',
            i: '{% $states.context.Map.Item.Index %}',
          },
          ItemProcessor: {
            StartAt: 'Square',
            States: {
              Square: {
                Type: 'Pass',
                Output: '{% $states.input.n * $states.input.n + $states.input.i %}',
                End: true,
              },
            },
          },
          End: true,
        },
      },
    };
    expect(await output(definition, { numbers: [1, 2, 3] })).toEqual([1, 5, 11]);
  });

  it('Map over falsy items: [0, 1] with "item.$": "$"', async () => {
    const tasks = fakeTasks({ Work: (call) => (call.input as { item: number }).item });
    expect(await output(mapOf({}), [0, 1], tasks)).toEqual([0, 1]);
  });

  it('MaxConcurrency bounds the iterations running at once', async () => {
    let running = 0;
    let peak = 0;
    const tasks = fakeTasks({
      Work: async (call: TaskCall) => {
        running++;
        peak = Math.max(peak, running);
        await delay(20);
        running--;
        return (call.input as { item: number }).item * 2;
      },
    });
    for (const language of ['JSONPath', 'JSONata'] as const) {
      peak = 0;
      const items = Array.from({ length: 9 }, (_, i) => i);
      expect(await output(mapOf({ MaxConcurrency: 2 }, language), items, tasks)).toEqual(
        items.map((i) => i * 2),
      );
      expect(peak).toBe(2);
    }
    peak = 0;
    await output(mapOf({}), [1, 2, 3, 4, 5], tasks);
    expect(peak).toBe(5);
  });

  it('one failed iteration fails the Map with its error and aborts the others', async () => {
    const signals: AbortSignal[] = [];
    const tasks = fakeTasks({
      Work: (call) => {
        if ((call.input as { item: number }).item === 1) return Promise.reject(taskError('Item.Bad', 'one'));
        signals.push(call.signal);
        return new Promise(() => {});
      },
    });
    const { result } = await run(mapOf({}), [0, 1, 2], tasks);
    expect(result).toEqual({ status: 'FAILED', error: 'Item.Bad', cause: 'one' });
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it('ToleratedFailureCount: failures within it leave their error output; beyond it States.ExceedToleratedFailureThreshold', async () => {
    const tasks = fakeTasks({
      Work: (call) => {
        const item = (call.input as { item: number }).item;
        if (item % 2 === 1) throw taskError('Odd', String(item));
        return item;
      },
    });
    expect(await output(mapOf({ ToleratedFailureCount: 2 }), [0, 1, 2, 3], tasks)).toEqual([
      0,
      { Error: 'Odd', Cause: '1' },
      2,
      { Error: 'Odd', Cause: '3' },
    ]);
    expect((await run(mapOf({ ToleratedFailureCount: 1 }), [0, 1, 2, 3], tasks)).result).toMatchObject({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
    });
  });

  it('ToleratedFailurePercentage: 50 tolerates half, JSONata too', async () => {
    const tasks = fakeTasks({
      Work: (call) => {
        const item = (call.input as { item: number }).item;
        if (item >= 2) throw taskError('Big');
        return item;
      },
    });
    expect((await run(mapOf({ ToleratedFailurePercentage: 50 }), [0, 1, 2, 3], tasks)).result.status).toBe(
      'SUCCEEDED',
    );
    expect((await run(mapOf({ ToleratedFailurePercentage: 49 }), [0, 1, 2, 3], tasks)).result).toMatchObject({
      error: 'States.ExceedToleratedFailureThreshold',
    });
    expect(
      (await run(mapOf({ ToleratedFailurePercentage: 50 }, 'JSONata'), [0, 1, 2, 3], tasks)).result.status,
    ).toBe('SUCCEEDED');
  });

  it('a unique task token per iteration', async () => {
    const tasks = fakeTasks({ Work: (call) => call.token });
    const definition = mapOf({});
    const work = (definition.States.M.ItemProcessor as { States: { Work: Record<string, unknown> } }).States
      .Work;
    work.Resource = `${LAMBDA}.waitForTaskToken`;
    work.Parameters = { FunctionName: 'f', 'token.$': '$$.Task.Token' };
    const tokens = (await output(definition, [1, 2, 3], tasks)) as string[];
    expect(new Set(tokens).size).toBe(3);
  });

  it('JSONata Items that are not an array fail with States.QueryEvaluationError', async () => {
    expect((await run(mapOf({ Items: '{% 1 %}' }, 'JSONata'))).result).toMatchObject({
      status: 'FAILED',
      error: 'States.QueryEvaluationError',
    });
  });

  it('Items that are not an array fail with States.Runtime', async () => {
    expect((await run(mapOf({ ItemsPath: '$.x' }), { x: 1 })).result).toMatchObject({
      status: 'FAILED',
      error: 'States.Runtime',
    });
  });
});

describe('Parallel', () => {
  const parallel = (language: 'JSONPath' | 'JSONata') => ({
    QueryLanguage: language,
    StartAt: 'P',
    States: {
      P: {
        Type: 'Parallel',
        Branches: [
          {
            StartAt: 'A',
            States: {
              A: {
                Type: 'Pass',
                ...(language === 'JSONPath'
                  ? { Parameters: { 'a.$': '$.v' } }
                  : { Output: { a: '{% $states.input.v %}' } }),
                End: true,
              },
            },
          },
          { StartAt: 'B', States: { B: { Type: 'Wait', Seconds: 0, End: true } } },
        ],
        ...(language === 'JSONPath'
          ? { ResultSelector: { 'first.$': '$[0]', 'second.$': '$[1]' } }
          : { Output: { first: '{% $states.result[0] %}', second: '{% $states.result[1] %}' } }),
        End: true,
      },
    },
  });

  for (const language of ['JSONPath', 'JSONata'] as const) {
    it(`${language}: every branch gets the input; the result is their outputs in order`, async () => {
      expect(await output(parallel(language), { v: 1 })).toEqual({ first: { a: 1 }, second: { v: 1 } });
    });
  }

  it('a failing branch aborts its siblings (their tokens close at once)', async () => {
    let sibling: AbortSignal | undefined;
    const tasks = fakeTasks({
      Slow: (call) => {
        sibling = call.signal;
        return new Promise(() => {});
      },
      Bad: async () => {
        await delay(10);
        throw taskError('Bad.Error');
      },
    });
    const task = (name: string) => ({
      StartAt: name,
      States: { [name]: { Type: 'Task', Resource: LAMBDA, Parameters: { FunctionName: 'f' }, End: true } },
    });
    const definition = {
      StartAt: 'P',
      States: { P: { Type: 'Parallel', Branches: [task('Slow'), task('Bad')], End: true } },
    };
    const { result } = await run(definition, {}, tasks);
    expect(result).toMatchObject({ status: 'FAILED', error: 'Bad.Error' });
    expect(sibling?.aborted).toBe(true);
  });
});
