/**
 * Where the local Lambda runtime writes its one-line events (failed invocations, failed batches,
 * poller errors).
 *
 * @example
 * const lines: string[] = [];
 * const runtime = new LocalLambdaRuntime({ logger: (line) => lines.push(line) });
 */
export type LocalLogger = (line: string) => void;

/**
 * The default logger: one line on stderr, silent under vitest (which sets `VITEST`), where tests
 * that care pass their own.
 *
 * @example
 * defaultLogger('sqs retry-queue -> dynamo-dlm-acquire: batch of 3 failed');
 */
export const defaultLogger: LocalLogger = (line) => {
  if (!process.env.VITEST) console.error(`[local-lambda] ${line}`);
};

/**
 * `Name: message` of anything thrown, for one log line.
 *
 * @example
 * describeError(new TypeError('no')); // 'TypeError: no'
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
