import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type LocalSqs, startLocalSqs } from '../../../local/sqs/index.js';

/** An SDK client for a local SQS endpoint. */
export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

let shared: Promise<{ sqs: LocalSqs; client: SQSClient }> | undefined;

/**
 * The local SQS the test files share, and a client for it: started once in the (single) test
 * worker, whose exit stops it. Queue names are unique, so no file sees another's messages.
 */
export function sharedSqs(): Promise<{ sqs: LocalSqs; client: SQSClient }> {
  shared ??= startLocalSqs().then((sqs) => ({ sqs, client: sqsClient(sqs.endpoint) }));
  return shared;
}

/** A unique queue name, so test files can share one server. */
export function queueName(prefix: string, fifo = false): string {
  return `${prefix}-${randomUUID().slice(0, 8)}${fifo ? '.fifo' : ''}`;
}

/** Creates a queue and returns its URL and ARN. */
export async function createQueue(
  client: SQSClient,
  name: string,
  attributes: Record<string, string> = {},
): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = QueueUrl ?? '';
  return { url, arn: await queueArn(client, url) };
}

/** Creates a queue whose messages move to a new dead-letter queue after `maxReceiveCount` receives. */
export async function createQueueWithDlq(
  client: SQSClient,
  prefix: string,
  maxReceiveCount: number,
  attributes: Record<string, string> = {},
): Promise<{ url: string; arn: string; dlqUrl: string }> {
  const fifo = attributes.FifoQueue === 'true';
  const dlq = await createQueue(client, queueName(`${prefix}-dlq`, fifo), fifo ? { FifoQueue: 'true' } : {});
  const queue = await createQueue(client, queueName(prefix, fifo), {
    ...attributes,
    RedrivePolicy: JSON.stringify({ maxReceiveCount, deadLetterTargetArn: dlq.arn }),
  });
  return { ...queue, dlqUrl: dlq.url };
}

/** The ARN of a queue, from GetQueueAttributes. */
export async function queueArn(client: SQSClient, url: string): Promise<string> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return Attributes?.QueueArn ?? '';
}

/** Receives everything currently visible (short polls until one comes back empty). */
export async function drain(client: SQSClient, url: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}

/** Polls `probe` until it returns true or `timeoutMs` passes. */
export async function eventually(probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
