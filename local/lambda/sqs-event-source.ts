import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { FifoGroups } from './fifo-groups.js';
import { describeError, type LocalLogger } from './logger.js';
import { type BatchOutcome, batchOutcome, toSqsRecord } from './sqs-event.js';
import { type SqsEventSourceOptions, withDefaults } from './sqs-event-source-options.js';

/**
 * What a mapping needs from the runtime.
 *
 * @example
 * const deps: MappingDependencies = { invoke: (name, event) => runtime.invoke(name, event),
 *   logger: console.error, region: 'us-east-1', stopGraceMs: 5000 };
 */
export interface MappingDependencies {
  invoke(functionName: string, event: unknown): Promise<unknown>;
  logger: LocalLogger;
  region: string;
  /** How long stop() waits for batches in flight: the function's timeout plus a margin. */
  stopGraceMs: number;
}

const MAX_LONG_POLL_SECONDS = 20;

/**
 * Polls a queue and invokes a function with batches of its messages, as Lambda's event source
 * mapping does: long polling, batch size and window, partial batch responses, at most
 * `maxConcurrency` batches in flight, and for FIFO queues one batch per message group at a time.
 * The queue's own RedrivePolicy moves messages that keep failing to its dead-letter queue.
 *
 * @example
 * const mapping = new SqsEventSourceMapping({ functionName: 'worker', queueUrl }, dependencies);
 * mapping.start();
 * await mapping.stop();
 */
export class SqsEventSourceMapping {
  readonly #options: Required<Omit<SqsEventSourceOptions, 'sqsEndpoint'>>;
  readonly #deps: MappingDependencies;
  readonly #client: SQSClient;
  readonly #abort = new AbortController();
  readonly #isFifo: boolean;
  /** Set once the queue's attributes are known: its ARN, and for FIFO the group lock. */
  #fifo: FifoGroups | undefined;
  readonly #running = new Set<Promise<void>>();
  readonly #label: string;
  #waiters: Array<() => void> = [];
  #queueArn: string | undefined;
  #inFlight = 0;
  #loop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: SqsEventSourceOptions, dependencies: MappingDependencies) {
    this.#options = withDefaults(options);
    this.#deps = dependencies;
    this.#isFifo = options.queueUrl.endsWith('.fifo');
    this.#label = `sqs ${options.queueUrl.split('/').pop()} -> ${options.functionName}`;
    this.#client = new SQSClient({
      region: dependencies.region,
      ...(options.sqsEndpoint && { endpoint: options.sqsEndpoint }),
      // Local servers take any key; without one the SDK would search for credentials for seconds.
      credentials: {
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      },
    });
  }

  /** Starts polling. */
  start(): void {
    this.#loop ??= this.#poll().catch((error: unknown) => {
      this.#deps.logger(`${this.#label}: poller stopped: ${describeError(error)}`);
    });
  }

  /** Stops polling at once (an open long poll is aborted) and waits, bounded, for batches in flight. */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutDown();
    return this.#stopping;
  }

  get #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  async #shutDown(): Promise<void> {
    this.#abort.abort();
    this.#notify();
    await this.#loop;
    const grace = new AbortController();
    await Promise.race([
      Promise.allSettled([...this.#running]),
      sleep(this.#deps.stopGraceMs, undefined, { signal: grace.signal }).catch(() => {}),
    ]);
    grace.abort();
    this.#client.destroy();
  }

  async #poll(): Promise<void> {
    const { maxConcurrency, batchSize } = this.#options;
    let failures = 0;
    while (!this.#stopped) {
      if (this.#inFlight >= maxConcurrency) {
        await this.#changed();
        continue;
      }
      const ready = this.#fifo?.takeReady();
      if (ready) {
        this.#dispatch(ready);
        continue;
      }
      // FIFO: the emulator also hands out later messages of busy groups; hold a bounded number.
      // With nothing in flight, receive anyway: a failed message must come back to unblock its group.
      if (this.#inFlight > 0 && (this.#fifo?.held ?? 0) >= batchSize * maxConcurrency) {
        await this.#changed();
        continue;
      }
      let messages: Message[];
      try {
        if (this.#queueArn === undefined) await this.#fetchQueueAttributes();
        messages = await this.#receiveBatch();
        if (failures > 0) this.#deps.logger(`${this.#label}: polling again`);
        failures = 0;
      } catch (error) {
        if (this.#stopped) break;
        // One line per outage, not per attempt; back off up to 5 s (queue deleted, server gone).
        if (++failures === 1)
          this.#deps.logger(`${this.#label}: poll failed, backing off: ${describeError(error)}`);
        await sleep(Math.min(5000, 100 * 2 ** failures), undefined, { signal: this.#abort.signal }).catch(
          () => {},
        );
        continue;
      }
      if (this.#fifo) this.#fifo.add(messages);
      else if (messages.length > 0) this.#dispatch(messages);
    }
  }

  async #fetchQueueAttributes(): Promise<void> {
    const { Attributes } = await this.#client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.#options.queueUrl,
        AttributeNames: ['QueueArn', 'VisibilityTimeout'],
      }),
      { abortSignal: this.#abort.signal },
    );
    if (!Attributes?.QueueArn) throw new Error('GetQueueAttributes returned no QueueArn');
    if (this.#isFifo) {
      const visibilityTimeoutMs = Number(Attributes.VisibilityTimeout ?? 30) * 1000;
      this.#fifo = new FifoGroups({ batchSize: this.#options.batchSize, visibilityTimeoutMs });
    }
    this.#queueArn = Attributes.QueueArn;
  }

  /** One long poll; with a batching window, more receives until the batch is full or the window ends. */
  async #receiveBatch(): Promise<Message[]> {
    const { batchSize, maximumBatchingWindowSeconds, queueUrl } = this.#options;
    const messages: Message[] = [];
    // A blocked FIFO group may unblock without any new message: do not sleep through that.
    const changeMs = this.#fifo?.msUntilChange();
    const firstWaitMs = Math.min(
      MAX_LONG_POLL_SECONDS * 1000,
      changeMs === undefined ? Infinity : changeMs + 999,
    );
    let deadline: number | undefined;
    while (messages.length < batchSize) {
      const remainingMs = deadline === undefined ? firstWaitMs : deadline - Date.now();
      if (deadline !== undefined && remainingMs <= 0) break;
      const { Messages } = await this.#client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, batchSize - messages.length),
          WaitTimeSeconds: Math.min(MAX_LONG_POLL_SECONDS, Math.floor(remainingMs / 1000)),
          // Both names: the SDK's current one and the deprecated one that local-aws-sqs reads.
          MessageSystemAttributeNames: ['All'],
          AttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: this.#abort.signal },
      );
      messages.push(...(Messages ?? []));
      if (messages.length === 0 || maximumBatchingWindowSeconds === 0) break;
      deadline ??= Date.now() + maximumBatchingWindowSeconds * 1000;
    }
    return messages;
  }

  #dispatch(batch: Message[]): void {
    this.#inFlight++;
    const run = this.#runBatches(batch).finally(() => {
      this.#inFlight--;
      this.#running.delete(run);
      this.#notify();
    });
    this.#running.add(run);
  }

  /** Runs a batch; for FIFO, then the batches its groups unblocked, keeping the same slot. */
  async #runBatches(first: Message[]): Promise<void> {
    let batch: Message[] | undefined = first;
    while (batch) {
      let deleted = new Set<string>();
      try {
        deleted = await this.#runBatch(batch);
      } catch (error) {
        this.#deps.logger(`${this.#label}: batch handling failed: ${describeError(error)}`);
      }
      if (!this.#fifo) return;
      this.#fifo.finish(batch, deleted);
      this.#notify();
      batch = this.#stopped ? undefined : this.#fifo.takeReady();
    }
  }

  /** Invokes the function with one batch and deletes what succeeded; returns the deleted ids. */
  async #runBatch(batch: Message[]): Promise<Set<string>> {
    const records = batch.map((message) => toSqsRecord(message, this.#queueArn ?? ''));
    let outcome: BatchOutcome;
    try {
      const response = await this.#deps.invoke(this.#options.functionName, { Records: records });
      outcome = batchOutcome(records, response, this.#options.reportBatchItemFailures);
      if (outcome.wholeBatchReason) {
        this.#deps.logger(`${this.#label}: batch of ${batch.length} failed: ${outcome.wholeBatchReason}`);
      }
    } catch (error) {
      // Nothing is deleted: the messages come back after their visibility timeout.
      this.#deps.logger(`${this.#label}: batch of ${batch.length} failed: ${describeError(error)}`);
      outcome = { failed: new Set(records.map((record) => record.messageId)) };
    }
    return this.#delete(batch.filter((message) => !outcome.failed.has(message.MessageId ?? '')));
  }

  async #delete(messages: Message[]): Promise<Set<string>> {
    const deleted = new Set<string>();
    for (let start = 0; start < messages.length; start += 10) {
      const chunk = messages.slice(start, start + 10);
      try {
        const { Successful = [], Failed = [] } = await this.#client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.#options.queueUrl,
            Entries: chunk.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle,
            })),
          }),
        );
        for (const entry of Successful) deleted.add(chunk[Number(entry.Id)]?.MessageId ?? '');
        if (Failed.length > 0) {
          this.#deps.logger(
            `${this.#label}: ${Failed.length} delete(s) failed: ${Failed[0]?.Code} ${Failed[0]?.Message}`,
          );
        }
      } catch (error) {
        this.#deps.logger(`${this.#label}: delete failed: ${describeError(error)}`);
      }
    }
    return deleted;
  }

  /** Resolves at the next change: a batch finished, or stop(). */
  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
