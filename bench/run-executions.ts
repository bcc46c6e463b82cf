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

/** Waits until every execution has ended; throws if any did not succeed. */
export async function waitForAll(sfn: SFNClient, arns: string[]): Promise<void> {
  const statuses: string[] = [];
  for (const executionArn of arns) {
    for (;;) {
      const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (status !== 'RUNNING') {
        statuses.push(status as string);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const failed = statuses.filter((status) => status !== 'SUCCEEDED').length;
  if (failed > 0) throw new Error(`${failed} of ${arns.length} bench executions did not succeed`);
}
