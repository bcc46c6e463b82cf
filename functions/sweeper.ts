import type { Context } from 'aws-lambda';
import { findDue } from '../core/waiting/find-due.js';
import { lockStore } from './lib/clients.js';
import { readConfig } from './lib/config.js';
import { logger } from './lib/logger.js';
import { emitMetric, metricName } from './lib/metrics.js';
import { retryTurn, type TurnOutcome } from './lib/retry-turn.js';

/** Requests one sweep re-drives at most; the next sweep, a minute later, takes the rest. */
const maxPerSweep = 500;

/** A re-driven waiter's next turn waits as long as the back-off cap (attempt 2^6 is past it). */
const redriveAttempt = 6;

/** Time kept back from the function's deadline: a sweep stops early rather than being cut off. */
const reserveMs = 5_000;

/**
 * The sweeper, on a schedule (once a minute): the backstop that keeps every request moving when
 * one retry turn or one answer was lost. It re-drives each request whose next step is overdue
 * (the `due-index`), as that request's own retry turn would: a waiter is looked at and queued
 * again under a new chain, a grant is answered (or extended, or granted afresh), a time-out is
 * told, and an answered request whose lease ended is forgotten.
 *
 * @example
 * // EventBridge schedule rate(1 minute) -> this function (locally: a timer of startLocalAws).
 */
export async function handler(_event: unknown, context?: Context): Promise<Record<TurnOutcome, number>> {
  const store = lockStore(context);
  const config = readConfig();
  const counts: Record<TurnOutcome, number> = {
    gone: 0,
    superseded: 0,
    settled: 0,
    withdrawn: 0,
    requeued: 0,
  };
  const due = await findDue(store, store.clock(), maxPerSweep);
  // Every request found here missed its own next step (a lost turn or answer): the alarm's count.
  if (due.length > 0) emitMetric(metricName.requestsStranded, due.length);
  for (const request of due) {
    if (context && context.getRemainingTimeInMillis() < reserveMs) break;
    try {
      counts[await retryTurn(store, config, { ...request, attempt: redriveAttempt })]++;
    } catch (error) {
      // One request's failure does not stop the sweep; it stays due for the next one.
      logger.warn('sweep could not re-drive a request', {
        resourceId: request.resourceId,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    }
  }
  if (due.length > 0) logger.info('swept overdue requests', { due: due.length, ...counts });
  return counts;
}
