import { hostname } from 'node:os';
import type { Context } from 'aws-lambda';
import { defaults } from '../core/defaults.js';
import { SlotMemory } from '../core/throttle/slot-memory.js';
import { SlotPool } from '../core/throttle/slot-pool.js';
import { VerifiedLimits } from '../core/throttle/verified-limits.js';
import { validateClockSkew } from '../core/validate.js';
import type { ThrottleSettings } from './options.js';

/** One per process: a warm Lambda container keeps what it learned about slots between invocations. */
const processMemory = new SlotMemory();
/** One per process too: a resource's limit is read once a minute per container, not per message. */
const processLimits = new VerifiedLimits();

/**
 * How long past the invocation's deadline a default lease lasts: the lease is compared with the
 * clocks of other machines, and the runtime needs a moment to stop the function.
 */
const deadlineMarginMs = 1_000;

/**
 * The slot pool of one invocation. Its leases last `leaseSeconds` from the start of each record
 * (never past the invocation's deadline, which no handler outlives), or, without
 * `leaseSeconds`, until that deadline: then one lease covers any number of records and is never
 * extended. Without a context (a record handler called outside Lambda) they last
 * `defaults.duration`.
 *
 * @example
 * const pool = invocationPool(settings, context);
 */
export function invocationPool(settings: ThrottleSettings, context: Context | undefined): SlotPool {
  const { store, leaseMs } = settings;
  const remainingMs =
    typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  const deadlineMs = remainingMs === undefined ? undefined : store.clock() + remainingMs + deadlineMarginMs;
  const workEndFor = (nowMs: number): number => {
    if (deadlineMs === undefined) return nowMs + (leaseMs ?? defaults.duration * 1000);
    return leaseMs === undefined ? deadlineMs : Math.min(nowMs + leaseMs, deadlineMs);
  };
  // The stored lease outlasts the work by the clock bound: another consumer whose clock runs
  // ahead by up to `defaults.maxClockSkewMs` still finds the slot held while the work runs.
  const boundMs = validateClockSkew(
    defaults.maxClockSkewMs,
    Number.POSITIVE_INFINITY,
    'defaults.maxClockSkewMs',
  );
  const leaseEndFor = (nowMs: number): number => workEndFor(nowMs) + boundMs;
  const owner = context?.functionName
    ? `${context.functionName}:${context.awsRequestId}`
    : `${hostname()}:${process.pid}`;
  return new SlotPool(store, {
    memory: processMemory,
    limits: processLimits,
    owner,
    leaseEndFor,
    ...(settings.rate ? { rate: settings.rate } : {}),
  });
}
