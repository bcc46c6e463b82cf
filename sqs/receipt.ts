import type { SQSRecord } from 'aws-lambda';
import { isFifo, type Lineage, lineageOf } from './attempts.js';
import { claimCopy } from './copy-claims.js';
import type { ThrottleSettings } from './options.js';
import type { QueueFacts } from './queue-url.js';

/**
 * What the throttle does with a standard-queue record before it looks for a slot.
 *
 * @example
 * if (admission.verdict === 'run') console.log('next copy', admission.lineage.requeues + 1);
 */
export type Admission =
  /** Run it (or re-queue it); `lineage` is what its next copy continues from. */
  | { verdict: 'run'; lineage: Lineage }
  /** Another message holds this copy's identity: the same copy delivered twice. Dropped. */
  | { verdict: 'duplicate' }
  /** The key's holder is running this copy's parked twin: reported failed, it asks again later. */
  | { verdict: 'busy' }
  /** Its line failed `maxAttempts` deliveries: moved to the dead-letter queue, not run. */
  | { verdict: 'exhausted'; lineage: Lineage };

/**
 * Checks a standard-queue record on receipt. A copy claims its identity (origin, generation);
 * a record delivered again (receive count above 1) may be one whose re-queue answer was lost,
 * so that copies of the next generation exist: it claims that generation too, and its own next
 * copy goes one further. Either claim refused: a duplicate. Then the line's failed deliveries, this
 * copy's earlier receives included, against `maxAttempts` (default: the queue's
 * maxReceiveCount). A first delivery of an original costs nothing; each claim one write.
 *
 * @example
 * const admission = await admit(record, settings, () => queueUrls.facts(record.eventSourceARN));
 */
export async function admit(
  record: SQSRecord,
  settings: ThrottleSettings,
  factsOf: () => Promise<QueueFacts>,
): Promise<Admission> {
  const lineage = lineageOf(record);
  if (isFifo(record)) return { verdict: 'run', lineage };
  const { store } = settings;
  if (lineage.isCopy) {
    const claim = await claimCopy(store, lineage.origin, lineage.requeues, record.messageId);
    if (claim !== 'mine') return { verdict: claim === 'busy' ? 'busy' : 'duplicate' };
  }
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? 1);
  let admitted = lineage;
  if (receiveCount > 1) {
    // Each earlier delivery of this message may have sent copies of the next generation whose
    // answer was lost: delivery n stands for generation requeues + n - 1, the copies of delivery
    // n - 1 had that generation, and the claim keeps only one of them.
    const generation = lineage.requeues + receiveCount - 1;
    const claim = await claimCopy(store, lineage.origin, generation, record.messageId);
    if (claim !== 'mine') return { verdict: claim === 'busy' ? 'busy' : 'duplicate' };
    admitted = { ...lineage, requeues: generation };
  }
  // A message that never failed is not asked about: the queue is read only when it matters.
  if (admitted.failures === 0) return { verdict: 'run', lineage: admitted };
  const maxAttempts = settings.maxAttempts ?? (await factsOf()).maxReceiveCount;
  if (maxAttempts !== undefined && admitted.failures >= maxAttempts) {
    return { verdict: 'exhausted', lineage: admitted };
  }
  return { verdict: 'run', lineage: admitted };
}
