import type { SQSRecord } from 'aws-lambda';
import { messageBytes } from './attempts.js';
import { keyOf, type ThrottleSettings } from './options.js';
import { park, parkedMaxBytes } from './parking.js';
import type { SentCopy } from './requeue.js';

/**
 * Parks the copies of throttled records beside their key, for the key's holder to run as soon as
 * it is done (`parking.ts`). A copy that cannot be parked (too large, or the write failed) only
 * waits for its timer, as before: parking is an optimisation, the SQS copy the guarantee.
 *
 * @example
 * await parkCopies(settings, copies);
 */
export async function parkCopies(settings: ThrottleSettings, copies: SentCopy[]): Promise<void> {
  const { store } = settings;
  await Promise.all(
    copies.map(async ({ item, messageId, attributes }) => {
      if (!messageId || messageBytes(item.record.body, attributes) > parkedMaxBytes) return;
      try {
        const { key } = keyOf(settings, item.record);
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
        await park(
          store,
          key,
          copy,
          item.lineage.origin,
          generation,
          store.clock() + item.delaySeconds * 1000,
        );
      } catch (error) {
        store.logger.warn('SQS throttle: could not park a throttled copy; it waits for its timer', {
          messageId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }),
  );
}
