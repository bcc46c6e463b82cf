import { type AttributeValue, GetItemCommand, type GetItemCommandOutput } from '@aws-sdk/client-dynamodb';
import { InvalidLockOptionError } from './errors.js';
import { slotKey } from './item.js';
import { sendWithRetry } from './send.js';
import type { LockStore } from './store.js';

/*
 * A resource's start rate (issue 20): at most `limit` grants per `periodSeconds`, up to `burst`
 * at once, by the generic cell rate algorithm (GCRA). Its one piece of state, the theoretical
 * arrival time (TAT), lives in the item at the reserved key -2 of the lock table and is checked
 * and advanced in the same transaction as the grant, so a start is counted exactly when a slot
 * is granted (never at release). Python dynamo-dlm never reads it: its clients ignore the rate.
 *
 * Times are whole microseconds: the emission interval (period / limit) is rounded up, which only
 * makes the limit stricter, and integer arithmetic keeps the window bound exact.
 */

/** A start rate: at most `limit` grants per `periodSeconds`, with up to `burst` at once. */
export interface Rate {
  /** Grants per period: an integer from 1 to 1,000,000. */
  limit: number;
  /** The period in seconds: above 0, at most 86,400 (a day); fractions allowed. */
  periodSeconds: number;
  /** How many may start at once after an idle spell: an integer from 1 to 1000. Default 1 (evenly spaced). */
  burst?: number;
}

/** The sort key of a resource's rate item: per-resource state, below the slots and the limit item. */
export const rateKey = -2;

export const rateAttribute = {
  /** The theoretical arrival time, epoch µs: the next start may come at `tat - tolerance`. */
  tat: 'rate_tat_us',
  /** The emission interval of the rate that wrote last, µs (for readers: `dlm status`). */
  interval: 'rate_interval_us',
  /** Its burst tolerance, µs: (burst - 1) × interval. */
  tolerance: 'rate_tolerance_us',
} as const;

/** A rate as the transaction uses it, in whole microseconds. */
export interface RateCell {
  intervalUs: number;
  toleranceUs: number;
}

const rateFields = ['limit', 'periodSeconds', 'burst'];

/** The bounds of a rate, for every check of one (the library's options, the steps' input). */
export const rateBounds = { limitMax: 1_000_000, periodSecondsMax: 86_400, burstMax: 1000 } as const;

/**
 * Checks a rate option: an object with an integer `limit` of 1..1e6, `periodSeconds` above 0 and
 * at most 86400, an integer `burst` of 1..1000 (default 1), and no other field.
 *
 * @example
 * validateRate({ limit: 5, periodSeconds: 1, burst: 5 });
 */
export function validateRate(value: unknown, field = 'rate'): Required<Rate> {
  if (typeof value !== 'object' || value === null)
    throw new InvalidLockOptionError(field, 'an object { limit, periodSeconds, burst }', value);
  const rate = value as Record<string, unknown>;
  for (const name of Object.keys(rate))
    if (!rateFields.includes(name))
      throw new InvalidLockOptionError(
        `${field}.${name}`,
        `absent (the fields are ${rateFields.join(', ')})`,
        'set',
      );
  const { limit, periodSeconds, burst = 1 } = rate;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > rateBounds.limitMax)
    throw new InvalidLockOptionError(`${field}.limit`, `an integer from 1 to ${rateBounds.limitMax}`, limit);
  if (
    typeof periodSeconds !== 'number' ||
    !(periodSeconds > 0 && periodSeconds <= rateBounds.periodSecondsMax)
  )
    throw new InvalidLockOptionError(
      `${field}.periodSeconds`,
      `a number of seconds above 0 and at most ${rateBounds.periodSecondsMax}`,
      periodSeconds,
    );
  if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 1 || burst > rateBounds.burstMax)
    throw new InvalidLockOptionError(`${field}.burst`, `an integer from 1 to ${rateBounds.burstMax}`, burst);
  return { limit, periodSeconds, burst };
}

/**
 * The rate in the transaction's terms: the emission interval rounded up to a whole µs, and the
 * tolerance that lets `burst` start at once.
 *
 * @example
 * rateCell({ limit: 5, periodSeconds: 1, burst: 5 }); // { intervalUs: 200000, toleranceUs: 800000 }
 */
export function rateCell(rate: Required<Rate>): RateCell {
  const intervalUs = Math.ceil((rate.periodSeconds * 1_000_000) / rate.limit);
  return { intervalUs, toleranceUs: (rate.burst - 1) * intervalUs };
}

/**
 * Which form the rate's update takes. DynamoDB has no `max()`: the new TAT is `now + interval`
 * when the cell is idle (TAT in the past) and `TAT + interval` when it is busy, so the taker
 * guesses a form and the condition refuses a wrong guess (the refusal returns the TAT).
 */
export type RateForm = 'idle' | 'busy';

/**
 * The TAT one start leaves, as `rateUpdate` writes it: from now when the cell was idle, one
 * interval on from the last TAT when busy (undefined: that TAT was not read).
 *
 * @example
 * tatAfterStart(cell, 'idle', Date.now()); // now in µs + one interval
 */
export function tatAfterStart(
  cell: RateCell,
  form: RateForm,
  nowMs: number,
  lastTatUs?: number,
): number | undefined {
  if (form === 'idle') return nowMs * 1000 + cell.intervalUs;
  return lastTatUs === undefined ? undefined : lastTatUs + cell.intervalUs;
}

/** The transaction item that counts one start against the rate, or is refused. */
export function rateUpdate(
  tableName: string,
  resourceId: string,
  cell: RateCell,
  form: RateForm,
  nowMs: number,
) {
  const nowUs = nowMs * 1000;
  // Idle: the last theoretical arrival is past (or none), so this start sets it from now.
  const idle = 'attribute_not_exists(#tat) OR #tat <= :nowUs';
  // Busy but within the burst: the next start's moment (TAT - tolerance) has come.
  const busy = '#tat > :nowUs AND #tat <= :latestTatUs';
  return {
    TableName: tableName,
    Key: slotKey(resourceId, rateKey),
    UpdateExpression: `SET #tat = ${form === 'idle' ? ':idleTatUs' : '#tat + :intervalUs'}, #interval = :intervalUs, #tolerance = :toleranceUs`,
    ConditionExpression: form === 'idle' ? idle : busy,
    ExpressionAttributeNames: {
      '#tat': rateAttribute.tat,
      '#interval': rateAttribute.interval,
      '#tolerance': rateAttribute.tolerance,
    },
    ExpressionAttributeValues: {
      ':nowUs': { N: String(nowUs) },
      ':intervalUs': { N: String(cell.intervalUs) },
      ':toleranceUs': { N: String(cell.toleranceUs) },
      ...(form === 'idle'
        ? { ':idleTatUs': { N: String(tatAfterStart(cell, 'idle', nowMs)) } }
        : { ':latestTatUs': { N: String(nowUs + cell.toleranceUs) } }),
    },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

/**
 * What a refused rate update says: the form to retry with at once (the guess was wrong), or the
 * epoch ms from which the rate allows the next start.
 */
export function rateRefusal(
  item: Record<string, AttributeValue> | undefined,
  cell: RateCell,
  nowMs: number,
): { retryAs: RateForm } | { notBeforeMs: number } {
  const tat = Number(item?.[rateAttribute.tat]?.N ?? 0);
  const nowUs = nowMs * 1000;
  if (tat <= nowUs) return { retryAs: 'idle' };
  if (tat <= nowUs + cell.toleranceUs) return { retryAs: 'busy' };
  return { notBeforeMs: Math.ceil((tat - cell.toleranceUs) / 1000) };
}

/** The form to guess from the TAT last seen: busy while it is ahead of now. */
export function guessRateForm(lastTatUs: number | undefined, nowMs: number): RateForm {
  return lastTatUs !== undefined && lastTatUs > nowMs * 1000 ? 'busy' : 'idle';
}

/** A resource's rate state as the last grant left it. */
export interface RateState {
  /** The earliest epoch ms at which the rate allows the next start (now or past: at once). */
  nextStartAtMs: number;
  intervalUs: number;
  toleranceUs: number;
}

/**
 * The rate item of a resource, read consistently, or undefined when no rate-limited grant was
 * ever made on it.
 *
 * @example
 * const state = await readRateState(store, 'partner-api');
 * if (state) console.log(new Date(state.nextStartAtMs));
 */
export async function readRateState(store: LockStore, resourceId: string): Promise<RateState | undefined> {
  const output = await sendWithRetry<GetItemCommandOutput>(
    store,
    new GetItemCommand({
      TableName: store.tableName,
      Key: slotKey(resourceId, rateKey),
      ConsistentRead: true,
    }),
  );
  const item = output.Item;
  const tat = item?.[rateAttribute.tat]?.N;
  if (item === undefined || tat === undefined) return undefined;
  const intervalUs = Number(item[rateAttribute.interval]?.N ?? 0);
  const toleranceUs = Number(item[rateAttribute.tolerance]?.N ?? 0);
  return { nextStartAtMs: Math.ceil((Number(tat) - toleranceUs) / 1000), intervalUs, toleranceUs };
}
