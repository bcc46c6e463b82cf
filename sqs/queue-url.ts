import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import type { ThrottleSqsClient } from './options.js';

const ARN = /^arn:aws[a-z-]*:sqs:([^:]+):([0-9]{12}):([^:]+)$/;

/** SQS's largest message, and the queue's default when it says nothing. */
export const sqsMaxMessageBytes = 1_048_576;

/**
 * What the throttle must know of a queue besides its URL: the largest message it takes, and
 * its dead-letter queue (where the throttle moves a message that failed `maxAttempts` times).
 *
 * @example
 * const facts: QueueFacts = { url, maxMessageBytes: 262_144, visibilityTimeoutMs: 30_000, maxReceiveCount: 3, deadLetterArn: 'arn:aws:sqs:…:orders-dlq' };
 */
export interface QueueFacts {
  url: string;
  maxMessageBytes: number;
  /** The queue's visibility timeout: a batch must end within it, or its records come back. */
  visibilityTimeoutMs: number;
  /** From the queue's RedrivePolicy; undefined without one. */
  maxReceiveCount?: number;
  deadLetterArn?: string;
}

/**
 * Finds queue URLs from queue ARNs (a record's `eventSourceARN`) with GetQueueUrl, once per queue
 * per container: the URL of a queue never changes, and the call would otherwise double the SQS
 * requests of a throttled batch.
 *
 * @example
 * const urls = new QueueUrls(sqsClient);
 * await urls.of('arn:aws:sqs:us-east-1:123456789012:orders'); // 'https://sqs.us-east-1.amazonaws.com/123456789012/orders'
 */
export class QueueUrls {
  readonly #client: ThrottleSqsClient;
  readonly #resolve: ((queueArn: string) => string | Promise<string>) | undefined;
  readonly #urls = new Map<string, Promise<string>>();
  readonly #facts = new Map<string, Promise<QueueFacts>>();

  constructor(client: ThrottleSqsClient, resolve?: (queueArn: string) => string | Promise<string>) {
    this.#client = client;
    this.#resolve = resolve;
  }

  /** The URL of the queue with this ARN. */
  of(queueArn: string): Promise<string> {
    let url = this.#urls.get(queueArn);
    if (!url) {
      url = this.#lookUp(queueArn);
      this.#urls.set(queueArn, url);
      // A failed look-up is tried again with the next batch, not cached.
      url.catch(() => this.#urls.delete(queueArn));
    }
    return url;
  }

  /**
   * The queue's URL, size limit, visibility timeout and redrive policy: one GetQueueAttributes per queue and
   * container, besides the URL's look-up.
   */
  facts(queueArn: string): Promise<QueueFacts> {
    let facts = this.#facts.get(queueArn);
    if (!facts) {
      facts = this.#readFacts(queueArn);
      this.#facts.set(queueArn, facts);
      facts.catch(() => this.#facts.delete(queueArn));
    }
    return facts;
  }

  async #readFacts(queueArn: string): Promise<QueueFacts> {
    const url = await this.of(queueArn);
    const { Attributes = {} } = await this.#client.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['MaximumMessageSize', 'VisibilityTimeout', 'RedrivePolicy'],
      }),
    );
    const size = Number(Attributes.MaximumMessageSize);
    // 0 is a valid timeout; only a missing or unreadable one takes SQS's default of 30 s.
    const visibilitySeconds = Number(Attributes.VisibilityTimeout ?? Number.NaN);
    const facts: QueueFacts = {
      url,
      maxMessageBytes: Number.isInteger(size) && size > 0 ? size : sqsMaxMessageBytes,
      visibilityTimeoutMs:
        (Number.isFinite(visibilitySeconds) && visibilitySeconds >= 0 ? visibilitySeconds : 30) * 1000,
    };
    if (Attributes.RedrivePolicy) {
      const policy = JSON.parse(Attributes.RedrivePolicy) as {
        deadLetterTargetArn?: string;
        maxReceiveCount?: unknown;
      };
      const count = Number(policy.maxReceiveCount);
      if (Number.isInteger(count) && count > 0) facts.maxReceiveCount = count;
      if (typeof policy.deadLetterTargetArn === 'string') facts.deadLetterArn = policy.deadLetterTargetArn;
    }
    return facts;
  }

  async #lookUp(queueArn: string): Promise<string> {
    if (this.#resolve) return this.#resolve(queueArn);
    const match = ARN.exec(queueArn);
    if (!match) throw new Error(`Not an SQS queue ARN: ${JSON.stringify(queueArn)}`);
    const [, , account, name] = match;
    const { QueueUrl } = await this.#client.send(
      new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
    );
    if (!QueueUrl) throw new Error(`GetQueueUrl returned no URL for ${queueArn}`);
    return QueueUrl;
  }
}
