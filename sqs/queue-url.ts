import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import type { ThrottleSqsClient } from './options.js';

const ARN = /^arn:aws[a-z-]*:sqs:([^:]+):([0-9]{12}):([^:]+)$/;

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
