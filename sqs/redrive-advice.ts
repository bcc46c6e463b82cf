import type { ThrottleSettings } from './options.js';
import type { QueueFacts } from './queue-url.js';

/** Queues already told about, once per process (a warm container): one line, not one per batch. */
const advised = new Set<string>();

/**
 * Warns, once per queue, when a FIFO queue's redrive leaves no room for throttling: SQS counts
 * each throttled return as a receive and moves the message after `maxReceiveCount` receives,
 * while the throttle counts only the handler's failures against `maxAttempts`. With
 * `maxAttempts` unset (it is then the queue's maxReceiveCount) or not below it, a message
 * throttled often enough reaches the dead-letter queue unrun.
 *
 * @example
 * adviseOnFifoRedrive(settings, queueArn, facts);
 */
export function adviseOnFifoRedrive(settings: ThrottleSettings, queueArn: string, facts: QueueFacts): void {
  const { maxReceiveCount } = facts;
  if (maxReceiveCount === undefined || advised.has(queueArn)) return;
  if (settings.maxAttempts !== undefined && settings.maxAttempts < maxReceiveCount) return;
  advised.add(queueArn);
  settings.store.logger.warn(
    "SQS throttle: this FIFO queue moves a message to its dead-letter queue after maxReceiveCount receives, and each throttle is one; set the throttle's maxAttempts to the failures you allow and the queue's maxReceiveCount well above it (up to 1000)",
    { queueArn, maxReceiveCount, maxAttempts: settings.maxAttempts ?? null },
  );
}
