import type { SQSRecord } from 'aws-lambda';
import type { Lineage } from './attempts.js';
import { moveToDeadLetter } from './dead-letter.js';
import type { ThrottleSettings } from './options.js';
import type { QueueUrls } from './queue-url.js';
import { admit } from './receipt.js';
import { checkRecord } from './record-check.js';
import type { RecordOutcome } from './run-batch.js';

/**
 * What a batch's records are before any slot is taken: `settled` holds the records already
 * decided (malformed: failed; a duplicate copy: dropped, reported done; exhausted: moved to the
 * dead-letter queue), `lineages` the line each other record continues (a FIFO record is only
 * checked against `maxAttempts`).
 *
 * @example
 * const { settled, lineages } = await admitBatch(event.Records, settings, queueUrls);
 */
export async function admitBatch(
  records: SQSRecord[],
  settings: ThrottleSettings,
  queueUrls: QueueUrls,
): Promise<{ settled: Map<number, RecordOutcome>; lineages: Map<number, Lineage> }> {
  const settled = new Map<number, RecordOutcome>();
  const lineages = new Map<number, Lineage>();
  const { logger } = settings.store;
  await Promise.all(
    records.map(async (record, index) => {
      try {
        checkRecord(record);
        const factsOf = () => queueUrls.facts(record.eventSourceARN);
        const admission = await admit(record, settings, factsOf);
        if (admission.verdict === 'run') {
          lineages.set(index, admission.lineage);
          return;
        }
        if (admission.verdict === 'busy') {
          settled.set(index, {
            status: 'failed',
            error: new Error('its parked twin is running; asks again'),
          });
          return;
        }
        if (admission.verdict === 'duplicate') {
          logger.warn(
            'SQS throttle: dropped a copy whose twin already ran (a holder ran it parked, or a repeated send made two)',
            {
              messageId: record.messageId,
            },
          );
          settled.set(index, { status: 'done' });
          return;
        }
        const moved = await moveToDeadLetter(
          settings.sqs,
          queueUrls,
          await factsOf(),
          record,
          admission.lineage,
          logger,
        );
        settled.set(
          index,
          moved
            ? { status: 'done' }
            : {
                status: 'failed',
                error: new Error(`maxAttempts reached for ${record.messageId}; not moved`),
              },
        );
      } catch (error) {
        settled.set(index, { status: 'failed', error });
      }
    }),
  );
  return { settled, lineages };
}
