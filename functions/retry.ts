import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lockStore } from './lib/clients.js';
import { readConfig } from './lib/config.js';
import { retryMessage } from './lib/retry-queue.js';
import { retryTurn } from './lib/retry-turn.js';

const processor = new BatchProcessor(EventType.SQS);

/**
 * The consumer of the retry queue (an SQS event source with `ReportBatchItemFailures`): one turn
 * of the retry loop per message. A turn that fails (a store or send error) fails alone and its
 * message comes back after the visibility timeout; a malformed message ends in the DLQ.
 *
 * @example
 * // Event source mapping: retry queue -> this function, batch size 10, ReportBatchItemFailures.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const message = retryMessage.parse(JSON.parse(record.body));
      await retryTurn(lockStore(context), readConfig(), message);
    },
    processor,
    { context },
  );
}
