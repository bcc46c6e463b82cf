import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ThrottleSqsClient } from '../../sqs/options.js';
import { QueueUrls, sqsMaxMessageBytes } from '../../sqs/queue-url.js';
import { createQueue, createQueueWithDlq, queueName, sharedSqs } from '../local/sqs/sqs-test-kit.js';

// What the throttle reads of a queue decides how long a holder may go on running parked records
// (it must end before its batch's visibility timeout, or the batch is delivered again and runs
// twice) and when a line of copies is exhausted. Read from the local SQS, as the throttle does.

let client: SQSClient;

beforeAll(async () => {
  ({ client } = await sharedSqs());
});

describe('QueueUrls.facts', () => {
  it("reads the queue's visibility timeout, size limit and redrive policy", async () => {
    const queue = await createQueueWithDlq(client, 'facts', 4, {
      VisibilityTimeout: '6',
      MaximumMessageSize: '2048',
    });
    const facts = await new QueueUrls(client).facts(queue.arn);
    expect(facts).toMatchObject({
      url: queue.url,
      visibilityTimeoutMs: 6_000,
      maxMessageBytes: 2048,
      maxReceiveCount: 4,
    });
    expect(facts.deadLetterArn).toMatch(/:facts-dlq-/);
  });

  it("takes SQS's defaults for a queue created without attributes", async () => {
    const queue = await createQueue(client, queueName('facts-plain'));
    const facts = await new QueueUrls(client).facts(queue.arn);
    expect(facts).toEqual({
      url: queue.url,
      visibilityTimeoutMs: 30_000,
      maxMessageBytes: expect.any(Number),
    });
    expect(facts.maxMessageBytes).toBeLessThanOrEqual(sqsMaxMessageBytes);
  });

  it('reads a visibility timeout of 0 as 0, not as the default', async () => {
    // The local SQS stores 0 as 30, so SQS's answer is stood in for here.
    const answers: ThrottleSqsClient = {
      send: (async (command: unknown) =>
        command instanceof GetQueueUrlCommand
          ? { QueueUrl: 'https://sqs.local/000000000000/zero' }
          : { Attributes: { VisibilityTimeout: '0' } }) as ThrottleSqsClient['send'],
    };
    const facts = await new QueueUrls(answers).facts('arn:aws:sqs:us-east-1:000000000000:zero');
    expect(facts.visibilityTimeoutMs).toBe(0);
  });
});
