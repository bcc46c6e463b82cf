import { type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { countRequests } from '../../local/count-requests.js';
import { createLambdaContext } from '../../local/lambda/context.js';
import { toSqsRecord } from '../../local/lambda/index.js';

/** An SQS client of its own that counts the commands it sends, by name. */
export function countingSqsClient(endpoint: string): {
  client: SQSClient;
  counts: Map<string, number>;
  total(): number;
} {
  const client = new SQSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const { counts, total } = countRequests(client);
  return { client, counts, total };
}

/** A Lambda context as the local runtime builds it, with `seconds` left. */
export function lambdaContext(seconds = 30, functionName = 'throttled'): Context {
  return createLambdaContext({
    functionName,
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: 128,
    deadlineMs: Date.now() + seconds * 1000,
    environment: {},
    settle: () => {},
  });
}

/** Receives `count` messages (long polls until they are all in) and turns them into Lambda records. */
export async function receiveRecords(
  client: SQSClient,
  url: string,
  arn: string,
  count: number,
): Promise<SQSRecord[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + 10_000;
  while (messages.length < count && Date.now() < deadline) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(10, count - messages.length),
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    messages.push(...Messages);
  }
  return messages.map((message) => toSqsRecord(message, arn));
}

/** Tracks how many handlers run per key at once, and the highest count seen. */
export function concurrencyProbe() {
  const running = new Map<string, number>();
  const highest = new Map<string, number>();
  return {
    highest,
    async around<T>(key: string, work: () => Promise<T>): Promise<T> {
      const now = (running.get(key) ?? 0) + 1;
      running.set(key, now);
      highest.set(key, Math.max(highest.get(key) ?? 0, now));
      try {
        return await work();
      } finally {
        running.set(key, (running.get(key) ?? 1) - 1);
      }
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A record of a queue nobody asks: for records the throttle refuses before any SQS call. FIFO
 * when it has a message group.
 */
export function offlineRecord(messageId: string, body: string, group?: string): SQSRecord {
  const arn = `arn:aws:sqs:us-east-1:123456789012:offline${group === undefined ? '' : '.fifo'}`;
  const attributes = { ApproximateReceiveCount: '1', ...(group !== undefined && { MessageGroupId: group }) };
  return toSqsRecord({ MessageId: messageId, Body: body, Attributes: attributes }, arn);
}
