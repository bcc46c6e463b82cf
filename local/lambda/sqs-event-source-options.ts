/**
 * An SQS trigger, like Lambda's CreateEventSourceMapping for a queue.
 *
 * @example
 * const mapping = runtime.addSqsEventSource({ functionName: 'worker', queueUrl, batchSize: 5 });
 * await mapping.stop();
 */
export interface SqsEventSourceOptions {
  functionName: string;
  queueUrl: string;
  /** Messages per invocation: 1..10 (FIFO), 1..10000 (standard; above 10 needs a batching window). Default 10. */
  batchSize?: number;
  /** Seconds to gather a fuller batch after the first message, 0..300. Default 0. */
  maximumBatchingWindowSeconds?: number;
  /** Batches in flight at once. Default 2 (AWS's minimum; 1 is allowed here). */
  maxConcurrency?: number;
  /** Read `batchItemFailures` from the function's answer. Default true. */
  reportBatchItemFailures?: boolean;
  /** SQS endpoint; default: the SDK's own resolution (`AWS_ENDPOINT_URL_SQS`). */
  sqsEndpoint?: string;
}

/**
 * The options with AWS's defaults filled in, checked against AWS's limits.
 *
 * @example
 * withDefaults({ functionName: 'worker', queueUrl }).batchSize; // 10
 */
export function withDefaults(
  options: SqsEventSourceOptions,
): Required<Omit<SqsEventSourceOptions, 'sqsEndpoint'>> {
  const filled = {
    functionName: options.functionName,
    queueUrl: options.queueUrl,
    batchSize: options.batchSize ?? 10,
    maximumBatchingWindowSeconds: options.maximumBatchingWindowSeconds ?? 0,
    maxConcurrency: options.maxConcurrency ?? 2,
    reportBatchItemFailures: options.reportBatchItemFailures ?? true,
  };
  validate(filled, options.queueUrl.endsWith('.fifo'));
  return filled;
}

function validate(options: Required<Omit<SqsEventSourceOptions, 'sqsEndpoint'>>, fifo: boolean): void {
  const { batchSize, maximumBatchingWindowSeconds: window, maxConcurrency } = options;
  const maxBatch = fifo ? 10 : 10_000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > maxBatch) {
    throw new RangeError(`batchSize must be an integer 1..${maxBatch}, got ${batchSize}`);
  }
  if (!Number.isInteger(window) || window < 0 || window > 300) {
    throw new RangeError(`maximumBatchingWindowSeconds must be an integer 0..300, got ${window}`);
  }
  if (batchSize > 10 && window === 0) {
    throw new RangeError('batchSize above 10 needs maximumBatchingWindowSeconds of at least 1, as on AWS');
  }
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 1000) {
    throw new RangeError(`maxConcurrency must be an integer 1..1000, got ${maxConcurrency}`);
  }
}
