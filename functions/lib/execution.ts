import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { sfnClient } from './clients.js';

/**
 * Whether Step Functions says the execution has ended (it is not running and cannot run on):
 * the durable evidence that frees what the execution held. An execution it does not know has
 * ended too; only RUNNING (or PENDING_REDRIVE) keeps its slots.
 *
 * @example
 * if (await executionEnded(owner)) await releaseAndSettle(store, lease);
 */
export async function executionEnded(executionArn: string): Promise<boolean> {
  try {
    const { status } = await sfnClient().send(new DescribeExecutionCommand({ executionArn }));
    return status !== 'RUNNING' && status !== 'PENDING_REDRIVE';
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return true;
    throw error;
  }
}

/** Owners that name an execution: the acquire state passes `$$.Execution.Id`. */
export function isExecutionArn(owner: string | undefined): owner is string {
  return owner !== undefined && /^arn:aws[\w-]*:states:[\w-]+:\d{12}:execution:/.test(owner);
}
