import type { SQSRecord } from 'aws-lambda';
import { isFifo, type Lineage, lineageOf, receiveCountOf } from './attempts.js';
import { claimCopy } from './copy-claims.js';
import type { ThrottleSettings } from './options.js';
import type { QueueFacts } from './queue-url.js';
import { returnsBefore } from './return-ledger.js';

/**
 * What the throttle does with a record before it looks for a slot.
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
 * A FIFO record, and a standard one hidden in the queue for want of room for the attribute, is
 * the same message on every receive: its earlier receives that ended with a return (throttled,
 * or held back in its group) are recorded (`return-ledger.ts`) and are not failures. They are
 * read (one Query) only when the receive count alone would reach `maxAttempts`.
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
  if (isFifo(record)) return checkFailures(record, lineage, settings, factsOf);
  const { store } = settings;
  if (lineage.isCopy) {
    const claim = await claimCopy(store, lineage.origin, lineage.requeues, record.messageId);
    if (claim !== 'mine') return { verdict: claim === 'busy' ? 'busy' : 'duplicate' };
  }
  const receiveCount = receiveCountOf(record);
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
  return checkFailures(record, admitted, settings, factsOf);
}

/**
 * The line's failures against `maxAttempts`. `lineage.failures` counts every earlier receive of
 * this message as a failure; the returns recorded among them are taken off, read only when
 * that count reaches `maxAttempts`. A record that runs keeps its lineage as it was (a FIFO
 * record's back-off counts its receives); an exhausted one carries its counted failures.
 */
async function checkFailures(
  record: SQSRecord,
  lineage: Lineage,
  settings: ThrottleSettings,
  factsOf: () => Promise<QueueFacts>,
): Promise<Admission> {
  // A message that never failed is not asked about: the queue is read only when it matters.
  if (lineage.failures === 0) return { verdict: 'run', lineage };
  const maxAttempts = settings.maxAttempts ?? (await factsOf()).maxReceiveCount;
  if (maxAttempts === undefined || lineage.failures < maxAttempts) return { verdict: 'run', lineage };
  const failures = lineage.failures - (await returnsBefore(settings.store, record));
  if (failures < maxAttempts) return { verdict: 'run', lineage };
  return { verdict: 'exhausted', lineage: { ...lineage, failures } };
}
