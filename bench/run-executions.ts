import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

/** Starts one execution per input, all at once. */
export async function startExecutions(
  sfn: SFNClient,
  stateMachineArn: string,
  inputs: unknown[],
): Promise<string[]> {
  return Promise.all(
    inputs.map(async (input) => {
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
      );
      return executionArn as string;
    }),
  );
}

/** Waits until every execution has ended; throws if any did not succeed, naming how the first ones failed. */
export async function waitForAll(sfn: SFNClient, arns: string[]): Promise<void> {
  const failures: string[] = [];
  for (const executionArn of arns) {
    for (;;) {
      const { status, error, cause } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (status !== 'RUNNING') {
        if (status !== 'SUCCEEDED') failures.push(`${status} ${error ?? ''}: ${(cause ?? '').slice(0, 200)}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  if (failures.length > 0)
    throw new Error(
      `${failures.length} of ${arns.length} bench executions did not succeed; the first:\n  ${failures.slice(0, 5).join('\n  ')}`,
    );
}
