import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createQueue, drain, queueName, sharedSqs } from './sqs-test-kit.js';

// Where local-aws-sqs@2.0.2 (behind local/sqs) still differs from SQS. Each test pins the
// emulator's behaviour, so a failure here means the emulator changed: update the list in
// local/sqs/aws-compat.ts and the shims that work around these gaps.

let client: SQSClient;

beforeAll(async () => {
  ({ client } = await sharedSqs());
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function attributes(url: string): Promise<Record<string, string>> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
  );
  return Attributes;
}

describe('local-aws-sqs gaps (SQS does otherwise)', () => {
  it('FIFO: hands out later messages of a group while an earlier one is in flight', async () => {
    const { url } = await createQueue(client, queueName('gap-group', true), {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
      VisibilityTimeout: '30',
    });
    for (const body of ['a1', 'a2']) {
      await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageGroupId: 'a' }));
    }
    const first = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1 }));
    const second = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1 }));
    expect(first.Messages?.[0]?.Body).toBe('a1');
    expect(second.Messages?.[0]?.Body).toBe('a2'); // SQS: nothing until a1 is deleted or visible again
  });

  it('FIFO: forgets a deduplication id once its message is deleted (SQS remembers it 5 minutes)', async () => {
    const { url } = await createQueue(client, queueName('gap-dedup', true), {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
    });
    const send = () =>
      client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'same', MessageGroupId: 'g' }));
    await send();
    await send();
    const [message] = await drain(client, url);
    expect(message?.Body).toBe('same');
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message?.ReceiptHandle }));
    await send();
    await sleep(30);
    expect(await drain(client, url)).toHaveLength(1); // SQS: 0, the copy is a duplicate
  });

  it('counts messages in flight in ApproximateNumberOfMessages', async () => {
    const { url } = await createQueue(client, queueName('gap-count'), { VisibilityTimeout: '30' });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    await drain(client, url);
    const { ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible } = await attributes(url);
    expect(ApproximateNumberOfMessagesNotVisible).toBe('1');
    expect(ApproximateNumberOfMessages).toBe('1'); // SQS: 0 (visible messages only)
  });

  it('PurgeQueue takes effect only after 60 seconds', async () => {
    const { url } = await createQueue(client, queueName('gap-purge'));
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    await client.send(new PurgeQueueCommand({ QueueUrl: url }));
    await sleep(200);
    // A long poll: the emulator answers a 0 s receive before its own 10 ms scan when the machine
    // is loaded, and an empty answer would read as a purge (seen once under load 9).
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages).toHaveLength(1); // SQS: gone within moments
  });

  it('deletes a standard-queue message with an outdated receipt handle', async () => {
    const { url } = await createQueue(client, queueName('gap-handle'), { VisibilityTimeout: '1' });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    const [first] = await drain(client, url);
    await sleep(1100);
    expect(await drain(client, url)).toHaveLength(1);
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first?.ReceiptHandle }));
    expect((await attributes(url)).ApproximateNumberOfMessagesNotVisible).toBe('0'); // SQS: may keep it
  });

  it('answers even a short poll (WaitTimeSeconds 0) after about 40 ms', async () => {
    const { url } = await createQueue(client, queueName('gap-short'));
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    const started = performance.now();
    await client.send(
      new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0, MaxNumberOfMessages: 10 }),
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(35); // SQS: at once
  });
});

describe('gaps closed by local/sqs/aws-compat.ts', () => {
  it('a long poll abandoned by its client stops taking messages', async () => {
    const { url } = await createQueue(client, queueName('abandoned'), { VisibilityTimeout: '30' });
    const abort = new AbortController();
    const poll = client
      .send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5 }), { abortSignal: abort.signal })
      .catch((error: Error) => error.name);
    await sleep(100);
    abort.abort();
    expect(await poll).toBe('AbortError');
    await sleep(100);
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'for the next poll' }));
    expect((await drain(client, url)).map((m) => m.Body)).toEqual(['for the next poll']);
  });
});
