import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import type { StoredRequest } from '../../core/waiting/request.js';
import { now, sqsClient } from './clients.js';
import { type FunctionConfig, maxDelaySeconds } from './config.js';

/** A retry message: which request to look at again, under which chain, which turn. */
export const retryMessage = z.strictObject({
  resourceId: z.string().min(1),
  requestKey: z.number().int().negative(),
  retryChain: z.string().min(1),
  /**
   * The chain the sender moved the request from: the send comes before that move lands, so a
   * turn that finds the request still under it carries on (the move is in flight).
   */
  previousChain: z.string().min(1).optional(),
  attempt: z.number().int().min(0),
});
export type RetryMessage = z.infer<typeof retryMessage>;

/** A fresh chain id: each turn of the loop moves the request to a new one, so duplicates drop out. */
export const newRetryChain = (): string => randomUUID();

/**
 * How long after its message's delay a turn may be late before the sweeper re-drives it: two
 * consumer timeouts (a turn that is cut off comes back only after the visibility timeout, and
 * the sweeper's re-drive supersedes it).
 */
export const turnGraceMs = 20_000;

/**
 * Puts the request on the retry queue for its next turn, `delaySeconds` from now (the schedule
 * is `turn-schedule.ts`'s); answers when that turn is due at the latest (the `due_ms` the
 * sweeper watches).
 *
 * @example
 * const dueMs = await enqueueRetry(config, request, chain, { attempt: 0, delaySeconds: 10 });
 */
export async function enqueueRetry(
  config: FunctionConfig,
  request: Pick<StoredRequest, 'resourceId' | 'requestKey'>,
  retryChain: string,
  { attempt, delaySeconds, previousChain }: { attempt: number; delaySeconds: number; previousChain?: string },
): Promise<number> {
  if (!config.retryQueueUrl) throw new Error('DLM_RETRY_QUEUE_URL is not set: the acquire step cannot wait');
  const message: RetryMessage = {
    resourceId: request.resourceId,
    requestKey: request.requestKey,
    retryChain,
    ...(previousChain === undefined ? {} : { previousChain }),
    attempt,
  };
  const sentMs = now();
  const delay = Math.min(Math.max(0, Math.round(delaySeconds)), maxDelaySeconds);
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: config.retryQueueUrl,
      MessageBody: JSON.stringify(message),
      DelaySeconds: delay,
    }),
  );
  return sentMs + delay * 1000 + turnGraceMs;
}
