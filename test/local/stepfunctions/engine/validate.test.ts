import { describe, expect, it } from 'vitest';
import { describeProblems, validate } from '../../../../local/stepfunctions/engine/index.js';

const one = (state: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
  ...top,
  StartAt: 'S',
  States: { S: state },
});

describe('validate: refuses what the engine does not run, naming the state and field', () => {
  it('accepts a sound definition in each language', () => {
    expect(validate(one({ Type: 'Pass', End: true }))).toEqual([]);
    expect(
      validate(one({ Type: 'Pass', Output: '{% $states.input %}', End: true }, { QueryLanguage: 'JSONata' })),
    ).toEqual([]);
  });

  it('Distributed Map fields and mode', () => {
    const map = {
      Type: 'Map',
      ItemReader: { Resource: 'arn:aws:states:::s3:getObject' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'W',
        States: { W: { Type: 'Succeed' } },
      },
      End: true,
    };
    const problems = validate(one(map));
    expect(problems).toContainEqual({
      state: 'S',
      field: 'ItemReader',
      message: 'Distributed Map (ItemReader) is not supported by the local engine',
    });
    expect(problems.map((p) => p.field)).toContain('ItemProcessor.ProcessorConfig.Mode');
  });

  it('fields of the other query language', () => {
    expect(validate(one({ Type: 'Pass', Output: 'x', End: true }))).toEqual([
      { state: 'S', field: 'Output', message: 'Output is not a field of a JSONPath Pass state' },
    ]);
    expect(validate(one({ Type: 'Pass', Parameters: {}, End: true }, { QueryLanguage: 'JSONata' }))).toEqual([
      { state: 'S', field: 'Parameters', message: 'Parameters is not a field of a JSONata Pass state' },
    ]);
  });

  it('unknown fields and types', () => {
    expect(validate(one({ Type: 'Pass', Colour: 'red', End: true }))[0]).toMatchObject({
      state: 'S',
      field: 'Colour',
    });
    expect(validate(one({ Type: 'Nope' }))[0]).toMatchObject({ field: 'Type' });
  });

  it('JSONata that does not compile, JSONPath filters, unknown intrinsics', () => {
    expect(
      validate(
        one({ Type: 'Pass', Output: '{% $states.input.( %}', End: true }, { QueryLanguage: 'JSONata' }),
      )[0],
    ).toMatchObject({
      state: 'S',
      field: 'Output',
    });
    expect(validate(one({ Type: 'Pass', InputPath: '$.a[?(@.b)]', End: true }))[0]).toMatchObject({
      field: 'InputPath',
    });
    expect(
      validate(one({ Type: 'Pass', Parameters: { 'a.$': 'States.Nope()' }, End: true }))[0],
    ).toMatchObject({ field: 'Parameters.a.$' });
    expect(validate(one({ Type: 'Pass', ResultPath: '$.a[*]', End: true }))[0]).toMatchObject({
      field: 'ResultPath',
    });
  });

  it('transitions: missing Next targets, both Next and End, bad StartAt', () => {
    expect(validate(one({ Type: 'Pass', Next: 'Nowhere' }))[0]).toMatchObject({ field: 'Next' });
    expect(validate(one({ Type: 'Pass', Next: 'S', End: true }))[0]).toMatchObject({ field: 'Next' });
    expect(validate({ StartAt: 'X', States: { S: { Type: 'Succeed' } } })[0]).toMatchObject({
      field: 'StartAt',
    });
  });

  it('Retry rules: States.ALL alone and last, JitterStrategy, numbers', () => {
    const task = (retry: unknown[]) =>
      one({
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'f' },
        Retry: retry,
        End: true,
      });
    expect(validate(task([{ ErrorEquals: ['States.ALL', 'X'] }]))[0]).toMatchObject({
      field: 'Retry[0].ErrorEquals',
    });
    expect(validate(task([{ ErrorEquals: ['States.ALL'] }, { ErrorEquals: ['X'] }]))[0]).toMatchObject({
      field: 'Retry[0].ErrorEquals',
    });
    expect(validate(task([{ ErrorEquals: ['X'], JitterStrategy: 'HALF' }]))[0]).toMatchObject({
      field: 'Retry[0].JitterStrategy',
    });
    expect(validate(task([{ ErrorEquals: ['X'], BackoffRate: 0.5 }]))[0]).toMatchObject({
      field: 'Retry[0].BackoffRate',
    });
  });

  it('Task resources the caller cannot run, and HeartbeatSeconds not below TimeoutSeconds', () => {
    const definition = one({
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage',
      HeartbeatSeconds: 10,
      TimeoutSeconds: 10,
      End: true,
    });
    const problems = validate(definition, {
      resource: (r) => (r.includes(':lambda:') ? undefined : `Resource '${r}' cannot run locally`),
    });
    expect(problems.map((p) => p.field)).toEqual(['Resource', 'HeartbeatSeconds']);
  });

  it('duplicate state names across branches', () => {
    const definition = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'X', States: { X: { Type: 'Succeed' } } },
            { StartAt: 'X', States: { X: { Type: 'Succeed' } } },
          ],
          End: true,
        },
      },
    };
    expect(validate(definition)[0]).toMatchObject({ state: 'P > Branches[1] > X' });
  });

  it('describeProblems gives one line per problem', () => {
    expect(describeProblems([{ state: 'S', field: 'F', message: 'm' }, { message: 'top' }])).toBe(
      "State 'S', field 'F': m; Top level: top",
    );
  });
});
