import { CreateStateMachineCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rewriteDefinition } from '../../../local/stepfunctions/definition-rewrite.js';
import { type Harness, startHarness } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({});
});
afterAll(async () => {
  await h.stop();
});

const pass = { Type: 'Pass', End: true };
const ownEngine = process.env.LOCAL_SFN_ENGINE !== 'aws-local-stepfunctions';
/** What only the default engine refuses: the own engine runs these. */
const runsOnOwnEngine = new Set(['top-level JSONata', 'variables']);

async function refusal(definition: unknown): Promise<{ name: string; message: string }> {
  try {
    await h.client.send(
      new CreateStateMachineCommand({
        name: `refused-${Math.random().toString(36).slice(2, 10)}`,
        definition: typeof definition === 'string' ? definition : JSON.stringify(definition),
        roleArn: 'arn:aws:iam::000000000000:role/local',
      }),
    );
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  return { name: 'no error', message: '' };
}

describe('CreateStateMachine refuses what the local engine cannot run', () => {
  it.each([
    ['top-level JSONata', { QueryLanguage: 'JSONata', StartAt: 'A', States: { A: pass } }, /JSONata/],
    ['JSONata Output', { StartAt: 'A', States: { A: { ...pass, Output: '{% $states.input %}' } } }, /Output/],
    ['JSONata Arguments', { StartAt: 'A', States: { A: { ...pass, Arguments: {} } } }, /Arguments/],
    ['variables', { StartAt: 'A', States: { A: { ...pass, Assign: { x: 1 } } } }, /Assign/],
    [
      'ItemReader',
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemReader: { Resource: 'arn:aws:states:::s3:getObject', Parameters: { Bucket: 'b', Key: 'k' } },
            ItemProcessor: { StartAt: 'A', States: { A: pass } },
            End: true,
          },
        },
      },
      /ItemReader/,
    ],
    [
      'ItemBatcher',
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemBatcher: { MaxItemsPerBatch: 2 },
            ItemProcessor: { StartAt: 'A', States: { A: pass } },
            End: true,
          },
        },
      },
      /ItemBatcher/,
    ],
    [
      'a resource without a local handler',
      {
        StartAt: 'A',
        States: { A: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } },
      },
      /sqs:sendMessage/,
    ],
    ['malformed JSON', '{"StartAt": ', /Invalid State Machine Definition/],
    ['a missing transition target', { StartAt: 'B', States: { A: pass } }, /MISSING_TRANSITION_TARGET/],
  ])('refuses %s with InvalidDefinition', async (label, definition, message) => {
    const refused = await refusal(definition);
    // The own engine (the default) runs JSONata and variables: it accepts them.
    if (ownEngine && runsOnOwnEngine.has(label)) {
      expect(refused.name).toBe('no error');
      return;
    }
    expect(refused.name).toBe('InvalidDefinition');
    expect(refused.message).toMatch(message);
  });
});

describe('rewriteDefinition', () => {
  it('defaults and clamps durations below the setTimeout limit, and widens States.Timeout', () => {
    const lambda = 'arn:aws:lambda:us-east-1:000000000000:function:f';
    const { definition, tasks } = rewriteDefinition({
      TimeoutSeconds: 99_999_999,
      StartAt: 'Plain',
      States: {
        Plain: { Type: 'Task', Resource: lambda, Next: 'Long' },
        Long: {
          Type: 'Task',
          Resource: lambda,
          TimeoutSeconds: 99_999_999,
          Retry: [{ ErrorEquals: ['States.Timeout'], IntervalSeconds: 60, BackoffRate: 2, MaxAttempts: 30 }],
          Next: 'Pause',
        },
        Pause: { Type: 'Wait', Seconds: 5_000_000, End: true },
      },
    });
    const states = definition.States as Record<string, Record<string, unknown>>;
    expect(definition.TimeoutSeconds).toBe(2_147_483);
    expect(states.Plain?.TimeoutSeconds).toBe(2_147_483);
    expect(states.Long?.TimeoutSeconds).toBe(2_147_483);
    expect(states.Long?.Retry).toEqual([
      {
        ErrorEquals: ['States.Timeout', 'States.HeartbeatTimeout'],
        IntervalSeconds: 60,
        BackoffRate: 2,
        MaxAttempts: 30,
        MaxDelaySeconds: 2_147_483,
      },
    ]);
    expect(states.Pause?.Seconds).toBe(2_147_483);
    expect([...tasks.keys()]).toEqual(['Plain', 'Long']);
  });
});
