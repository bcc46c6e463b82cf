import { describe, expect, it } from 'vitest';
import { validate } from '../../../../local/stepfunctions/engine/index.js';
import { fakeTasks, output, run } from './engine-harness.js';

// Rules from https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
describe('variables', () => {
  it('Assign sees the values from before the state: a swap works, Output reads the old value', async () => {
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { x: 1, y: 2 }, Next: 'Swap' },
        Swap: {
          Type: 'Pass',
          Assign: { x: '{% $y %}', y: '{% $x %}' },
          Output: { during: '{% $x %}' },
          Next: 'Read',
        },
        Read: {
          Type: 'Pass',
          Output: { before: '{% $states.input.during %}', x: '{% $x %}', y: '{% $y %}' },
          End: true,
        },
      },
    };
    expect(await output(definition)).toEqual({ before: 1, x: 2, y: 1 });
  });

  it('JSONPath Assign: .$ paths read the result after ResultSelector; $$ and other variables too', async () => {
    const tasks = fakeTasks({ T: () => ({ Payload: { lease: 'L-1', extra: true } }) });
    const definition = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'f' },
          ResultSelector: { 'lease.$': '$.Payload.lease' },
          Assign: { 'lease.$': '$.lease', 'exec.$': '$$.Execution.Name', constant: 5 },
          ResultPath: null,
          Next: 'Use',
        },
        Use: {
          Type: 'Pass',
          Parameters: { 'lease.$': '$lease', 'exec.$': '$exec', 'c.$': '$constant', 'in.$': '$' },
          End: true,
        },
      },
    };
    expect(await output(definition, { a: 1 }, tasks)).toEqual({
      lease: 'L-1',
      exec: 'run-1',
      c: 5,
      in: { a: 1 },
    });
  });

  it('JSONata Assign reads $states.result in a Task', async () => {
    const tasks = fakeTasks({ T: () => ({ Payload: { lease: 'L-2' } }) });
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Arguments: { FunctionName: 'f' },
          Assign: { lease: '{% $states.result.Payload.lease %}' },
          Output: '{% $states.input %}',
          Next: 'Use',
        },
        Use: { Type: 'Pass', Output: '{% $lease %}', End: true },
      },
    };
    expect(await output(definition, {}, tasks)).toBe('L-2');
  });

  it('inner scopes read outer variables; their own assignments stay inside', async () => {
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { factor: 10 }, Next: 'M' },
        M: {
          Type: 'Map',
          Items: [1, 2],
          ItemProcessor: {
            StartAt: 'Mul',
            States: {
              Mul: { Type: 'Pass', Assign: { local: '{% $states.input * $factor %}' }, Next: 'Out' },
              Out: { Type: 'Pass', Output: '{% $local %}', End: true },
            },
          },
          Next: 'After',
        },
        After: {
          Type: 'Pass',
          Output: { results: '{% $states.input %}', local: '{% $exists($local) %}' },
          End: true,
        },
      },
    };
    expect(await output(definition)).toEqual({ results: [10, 20], local: false });
  });

  it("Parallel branches do not see each other's variables", async () => {
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'A',
              States: {
                A: { Type: 'Pass', Assign: { a: 1 }, Next: 'A2' },
                A2: { Type: 'Wait', Seconds: 0, Output: '{% $exists($b) %}', End: true },
              },
            },
            {
              StartAt: 'B',
              States: {
                B: { Type: 'Pass', Assign: { b: 2 }, Next: 'B2' },
                B2: { Type: 'Wait', Seconds: 0, Output: '{% $exists($a) %}', End: true },
              },
            },
          ],
          End: true,
        },
      },
    };
    expect(await output(definition)).toEqual([false, false]);
  });

  it('refuses an inner Assign of a name an outer scope assigns', () => {
    const definition = {
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { total: 0 }, Next: 'M' },
        M: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'Add',
            States: { Add: { Type: 'Pass', Assign: { total: 1 }, End: true } },
          },
          End: true,
        },
      },
    };
    expect(validate(definition)).toEqual([
      {
        state: 'M > Add',
        field: 'Assign.total',
        message: "'total' is assigned in an outer scope; an inner scope cannot assign it",
      },
    ]);
  });

  it('a variable never assigned fails a JSONPath read with States.Runtime, a JSONata one with QueryEvaluationError', async () => {
    const jsonPath = {
      StartAt: 'S',
      States: { S: { Type: 'Pass', Parameters: { 'v.$': '$nope' }, End: true } },
    };
    expect((await run(jsonPath)).result).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    const jsonata = {
      QueryLanguage: 'JSONata',
      StartAt: 'S',
      States: { S: { Type: 'Pass', Output: '{% $nope %}', End: true } },
    };
    expect((await run(jsonata)).result).toMatchObject({
      status: 'FAILED',
      error: 'States.QueryEvaluationError',
    });
  });

  it('Choice rule Assign applies when its rule matches', async () => {
    const definition = {
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          Choices: [
            {
              Variable: '$.n',
              NumericGreaterThan: 1,
              Assign: { 'size.$': '$.n', label: 'big' },
              Next: 'Out',
            },
          ],
          Default: 'Out',
          Assign: { label: 'default' },
        },
        Out: { Type: 'Pass', Parameters: { 'label.$': '$label' }, End: true },
      },
    };
    expect(await output(definition, { n: 2 })).toEqual({ label: 'big' });
    expect(await output(definition, { n: 0 })).toEqual({ label: 'default' });
  });
});
