import {
  DeleteStateMachineCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartSyncExecutionCommand,
  UpdateStateMachineCommand,
  ValidateStateMachineDefinitionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorName, type Harness, startHarness } from './harness.js';

/*
 * The state-machine actions a workflow's own tests reach for (issue 18): list, validate,
 * describe for an execution, update and delete, as the SDK calls them.
 */

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ echo: (payload) => payload });
});
afterAll(async () => {
  await h.stop();
});

const passThrough = (result: string) => ({
  StartAt: 'P',
  States: { P: { Type: 'Pass', Result: result, End: true } },
});

describe('state machine actions', () => {
  it('lists state machines, a page at a time', async () => {
    const arns = [
      await h.createMachine(passThrough('a'), 'list-a'),
      await h.createMachine(passThrough('b'), 'list-b'),
      await h.createMachine(passThrough('c'), 'list-c'),
    ];
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await h.client.send(new ListStateMachinesCommand({ maxResults: 2, nextToken }));
      expect(page.stateMachines?.length ?? 0).toBeLessThanOrEqual(2);
      for (const machine of page.stateMachines ?? []) {
        seen.push(machine.stateMachineArn as string);
        expect(machine.type).toBe('STANDARD');
        expect(machine.creationDate).toBeInstanceOf(Date);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    expect(seen).toEqual(expect.arrayContaining(arns));
  });

  it('validates a definition without creating it: OK, or FAIL with a diagnostic naming the problem', async () => {
    const ok = await h.client.send(
      new ValidateStateMachineDefinitionCommand({ definition: JSON.stringify(passThrough('x')) }),
    );
    expect(ok.result).toBe('OK');
    expect(ok.diagnostics).toEqual([]);
    const bad = await h.client.send(
      new ValidateStateMachineDefinitionCommand({
        definition: JSON.stringify({ StartAt: 'Missing', States: { P: { Type: 'Pass', End: true } } }),
      }),
    );
    expect(bad.result).toBe('FAIL');
    expect(bad.diagnostics?.[0]).toMatchObject({ severity: 'ERROR' });
    expect(bad.diagnostics?.[0]?.message).toMatch(/Missing|StartAt/);
    const listed = await h.client.send(new ListStateMachinesCommand({}));
    expect(JSON.stringify(listed)).not.toContain('Missing');
  });

  it('updates a definition: new executions run it, an execution started before keeps its own', async () => {
    const arn = await h.createMachine(passThrough('first'), 'updated');
    const before = await h.start(arn);
    const { updateDate } = await h.client.send(
      new UpdateStateMachineCommand({
        stateMachineArn: arn,
        definition: JSON.stringify(passThrough('second')),
      }),
    );
    expect(updateDate).toBeInstanceOf(Date);
    const after = await h.start(arn);
    expect((await h.waitForEnd(before)).output).toBe('"first"');
    expect((await h.waitForEnd(after)).output).toBe('"second"');
    const described = await h.client.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    expect(JSON.parse(described.definition ?? '{}').States.P.Result).toBe('second');
    const forBefore = await h.client.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: before }),
    );
    expect(forBefore.stateMachineArn).toBe(arn);
    expect(JSON.parse(forBefore.definition ?? '{}').States.P.Result).toBe('first');
    const forAfter = await h.client.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: after }),
    );
    expect(JSON.parse(forAfter.definition ?? '{}').States.P.Result).toBe('second');
    // A definition the endpoint would refuse at creation is refused here too, and changes nothing.
    expect(
      await errorName(
        h.client.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition: '{"StartAt":' })),
      ),
    ).toBe('InvalidDefinition');
  });

  it('deletes a state machine: gone for Describe and StartExecution, its executions still described', async () => {
    const arn = await h.createMachine(passThrough('x'), 'deleted');
    const ran = await h.start(arn);
    await h.waitForEnd(ran);
    await h.client.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
    expect(await errorName(h.client.send(new DescribeStateMachineCommand({ stateMachineArn: arn })))).toBe(
      'StateMachineDoesNotExist',
    );
    expect(await errorName(h.start(arn))).toBe('StateMachineDoesNotExist');
    expect((await h.waitForEnd(ran)).status).toBe('SUCCEEDED');
    // Deleting again answers as AWS does for a name it no longer has: nothing to do.
    await h.client.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
  });

  it('refuses StartSyncExecution in one line that names Express and the SDK host prefix', async () => {
    // The SDK sends StartSyncExecution to sync-<host>: without disableHostPrefix it never arrives.
    const client = new SFNClient({
      endpoint: h.sfn.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      disableHostPrefix: true,
      maxAttempts: 1,
    });
    const arn = await h.createMachine(passThrough('x'), 'sync-refused');
    const refused = await client.send(new StartSyncExecutionCommand({ stateMachineArn: arn })).then(
      () => undefined,
      (error: Error) => error,
    );
    client.destroy();
    expect(refused?.name).toBe('StateMachineTypeNotSupported');
    expect(refused?.message).toMatch(/Express/);
  });
});
