import type { SQSRecord } from 'aws-lambda';
import { messageBytes } from './attempts.js';
import { keyOf, type ThrottleSettings } from './options.js';
import { park, parkedMaxBytes } from './parking.js';
import type { SentCopy } from './requeue.js';

/**
 * Parks the copies of throttled records beside their key, for the key's holder to run as soon as
 * it is done (`parking.ts`). A copy that cannot be parked (too large, or the write failed) only
 * waits for its timer, as before: parking is an optimisation, the SQS copy the guarantee.
 * Returns the keys it parked copies for, with their concurrency.
 *
 * @example
 * const parkedKeys = await parkCopies(settings, copies);
 */
export async function parkCopies(
  settings: ThrottleSettings,
  copies: SentCopy[],
): Promise<Map<string, number>> {
  const { store } = settings;
  const parkedKeys = new Map<string, number>();
  await Promise.all(
    copies.map(async ({ item, messageId, attributes, visibleFromMs }) => {
      if (!messageId || messageBytes(item.record.body, attributes) > parkedMaxBytes) return;
      try {
        const { key, concurrency } = keyOf(settings, item.record);
        const copy: SQSRecord = {
          ...item.record,
          messageId,
          receiptHandle: '',
          attributes: { ...item.record.attributes, ApproximateReceiveCount: '1' },
          messageAttributes: Object.fromEntries(
            Object.entries(attributes).map(([name, value]) => [
              name,
              {
                dataType: value.DataType ?? 'String',
                stringListValues: [],
                binaryListValues: [],
                ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
                ...(value.BinaryValue !== undefined && {
                  binaryValue: Buffer.from(value.BinaryValue).toString('base64'),
                }),
              },
            ]),
          ),
        };
        const generation = item.lineage.requeues + 1;
        // Offered until its copy may be back, not a moment longer: a holder that claims a copy
        // already received only pays a refused write (and its slot idles meanwhile).
        await park(store, key, copy, item.lineage.origin, generation, visibleFromMs);
        if (concurrency !== undefined) parkedKeys.set(key, concurrency);
      } catch (error) {
        store.logger.warn('SQS throttle: could not park a throttled copy; it waits for its timer', {
          messageId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }),
  );
  return parkedKeys;
}
