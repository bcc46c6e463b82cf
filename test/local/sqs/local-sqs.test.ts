import { createServer } from 'node:net';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LocalSqs, startLocalSqs } from '../../../local/sqs/index.js';
import {
  createQueue,
  createQueueWithDlq,
  drain,
  eventually,
  queueName,
  sharedSqs,
  sqsClient,
} from './sqs-test-kit.js';

let sqs: LocalSqs;
let client: SQSClient;

beforeAll(async () => {
  ({ sqs, client } = await sharedSqs());
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('startLocalSqs', () => {
  it('listens on 127.0.0.1 and puts its endpoint in queue URLs', async () => {
    expect(sqs.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { url, arn } = await createQueue(client, 'url-check');
    expect(url).toBe(`${sqs.endpoint}/123456789012/url-check`);
    expect(arn).toBe('arn:aws:sqs:us-east-1:123456789012:url-check');
  });

  it('takes another port when the preferred one is taken, and honours region and account', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    const other = await startLocalSqs({ port: taken, region: 'eu-west-1', accountId: '111122223333' });
    try {
      expect(other.endpoint).not.toBe(`http://127.0.0.1:${taken}`);
      const otherClient = sqsClient(other.endpoint);
      const { url, arn } = await createQueue(otherClient, 'q');
      otherClient.destroy();
      expect(url).toBe(`${other.endpoint}/111122223333/q`);
      expect(arn).toBe('arn:aws:sqs:eu-west-1:111122223333:q');
    } finally {
      await other.stop();
      blocker.close();
    }
  });

  it('sends with DelaySeconds and MessageAttributes', async () => {
    const { url } = await createQueue(client, queueName('delay'));
    const sentAt = Date.now();
    await client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'later',
        DelaySeconds: 1,
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'retry' },
          attempt: { DataType: 'Number', StringValue: '3' },
          blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
        },
      }),
    );
    expect(await drain(client, url)).toHaveLength(0);
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5, MessageAttributeNames: ['All'] }),
    );
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(950);
    expect(Messages[0]?.Body).toBe('later');
    expect(Messages[0]?.MessageAttributes?.kind).toEqual({ DataType: 'String', StringValue: 'retry' });
    expect(Messages[0]?.MessageAttributes?.attempt?.StringValue).toBe('3');
    expect([...(Messages[0]?.MessageAttributes?.blob?.BinaryValue ?? [])]).toEqual([1, 2, 3]);
  });

  it('answers a long poll as soon as one message arrives, with the attributes the current SDK asks for', async () => {
    const { url } = await createQueue(client, queueName('long-poll'));
    setTimeout(() => void client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })), 300);
    const started = Date.now();
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        WaitTimeSeconds: 5,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
    );
    expect(Messages).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(Messages[0]?.Attributes).toEqual({
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.any(String),
    });
  });

  it('waits the whole WaitTimeSeconds on an empty queue', async () => {
    const { url } = await createQueue(client, queueName('empty'));
    const started = Date.now();
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
    expect(Messages).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
  });

  it('deletes in batches and reports bad receipt handles per entry', async () => {
    const { url } = await createQueue(client, queueName('delete-batch'));
    for (const body of ['a', 'b', 'c'])
      await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    const received = await drain(client, url);
    const { Successful = [], Failed = [] } = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          ...received.map((message, index) => ({ Id: `m${index}`, ReceiptHandle: message.ReceiptHandle })),
          { Id: 'bad', ReceiptHandle: 'not-a-handle' },
        ],
      }),
    );
    expect(Successful.map((entry) => entry.Id).sort()).toEqual(['m0', 'm1', 'm2']);
    expect(Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid' })]);
  });

  it('makes a message visible again with ChangeMessageVisibility', async () => {
    const { url } = await createQueue(client, queueName('visibility'), { VisibilityTimeout: '30' });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again' }));
    const [first] = await drain(client, url);
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: first?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    await eventually(async () => (await drain(client, url)).length === 1, 2000);
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    const { url, dlqUrl } = await createQueueWithDlq(client, 'redrive', 2, { VisibilityTimeout: '1' });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
    const counts: string[] = [];
    await eventually(async () => {
      for (const message of await drain(client, url))
        counts.push(message.Attributes?.ApproximateReceiveCount ?? '');
      return counts.length === 2;
    }, 5000);
    expect(counts).toEqual(['1', '2']);
    const moved: Awaited<ReturnType<typeof drain>> = [];
    await eventually(async () => {
      moved.push(...(await drain(client, dlqUrl)));
      return moved.length === 1;
    }, 3000);
    expect(moved[0]?.Body).toBe('poison');
    expect(moved[0]?.Attributes?.DeadLetterQueueSourceArn).toMatch(/:redrive-/);
    expect(await drain(client, url)).toHaveLength(0);
  });

  it('counts receives only, not visibility changes, toward the receive count and the redrive', async () => {
    // SQS: ChangeMessageVisibility leaves ApproximateReceiveCount alone. The throttle hides FIFO
    // messages that way and counts their failures from it.
    // Two receives of a queue that moves a message after its third: with each hidden twice, the
    // emulator counted 5 and moved it.
    const { url, dlqUrl } = await createQueueWithDlq(client, 'cmv-count', 3, { VisibilityTimeout: '30' });
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'hidden twice' }));
    const counts: string[] = [];
    for (let receive = 0; receive < 2; receive++) {
      const [message] = await drain(client, url);
      counts.push(message?.Attributes?.ApproximateReceiveCount ?? 'none');
      for (const seconds of [5, 0]) {
        await client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: url,
            ReceiptHandle: message?.ReceiptHandle,
            VisibilityTimeout: seconds,
          }),
        );
      }
      await sleep(100);
    }
    expect(counts).toEqual(['1', '2']);
    expect(await drain(client, dlqUrl)).toHaveLength(0);
  });

  it('keeps FIFO order within a group and numbers messages', async () => {
    const { url } = await createQueue(client, queueName('order', true), {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
    });
    for (const body of ['a1', 'b1', 'a2', 'a3', 'b2']) {
      await client.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageGroupId: body[0] }),
      );
    }
    const received = await drain(client, url);
    const bodies = (group: string) =>
      received.filter((m) => m.Attributes?.MessageGroupId === group).map((m) => m.Body);
    expect(bodies('a')).toEqual(['a1', 'a2', 'a3']);
    expect(bodies('b')).toEqual(['b1', 'b2']);
    expect(received.every((message) => /^\d{20}$/.test(message.Attributes?.SequenceNumber ?? ''))).toBe(true);
  });

  it('recreates a deleted queue at once', async () => {
    const name = queueName('recreate');
    const { url } = await createQueue(client, name);
    await client.send(new DeleteQueueCommand({ QueueUrl: url }));
    await expect(client.send(new ReceiveMessageCommand({ QueueUrl: url }))).rejects.toMatchObject({
      name: 'QueueDoesNotExist',
    });
    const again = await client.send(new CreateQueueCommand({ QueueName: name }));
    expect(again.QueueUrl).toBe(url);
  });

  it('stops within a moment while a long poll is open', async () => {
    const own = await startLocalSqs();
    const ownClient = sqsClient(own.endpoint);
    const { url } = await createQueue(ownClient, 'stop-check');
    const poll = ownClient
      .send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }))
      .catch((e) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await own.stop();
    expect(Date.now() - started).toBeLessThan(500);
    expect(await poll).toBeInstanceOf(Error);
    ownClient.destroy();
    await own.stop(); // idempotent
  });
});
