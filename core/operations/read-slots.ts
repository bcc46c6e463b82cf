import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { isHeld, leaseEndMs, toHolder } from '../item.js';
import type { Holder } from '../lease.js';
import { queryAll } from '../query-all.js';
import type { LockStore } from '../store.js';
import { attribute } from '../table.js';

/**
 * Every unexpired holder of a resource, by a strongly consistent Query over the holder range
 * (`concurrency_id >= 0`: waiting requests and other state live at negative ids).
 *
 * @example
 * const holders = await readHolders(store, 'partner-api');
 */
export async function readHolders(store: LockStore, resourceId: string): Promise<Holder[]> {
  const nowMs = store.clock();
  const items = await readSlotItems(store, resourceId);
  return items.filter((item) => isHeld(item, nowMs)).map(toHolder);
}

/** The slots below `concurrency` that are free now, and when the first held one ends. */
export interface SlotVacancy {
  free: number[];
  /** The fencing token of each slot item read: a take there must write a larger one. */
  tokens: Map<number, number>;
  /** The earliest lease end among the held slots, epoch ms; undefined when none is held. */
  nextExpiryMs?: number;
}

/**
 * Finds the free slots of a resource with one read, so that a contended acquire writes only to
 * a slot it has seen free instead of probing all of them (each refused write costs a write unit).
 *
 * @example
 * const { free } = await readVacancy(store, 'partner-api', 5);
 */
export async function readVacancy(
  store: LockStore,
  resourceId: string,
  concurrency: number,
): Promise<SlotVacancy> {
  const nowMs = store.clock();
  const held = new Map<number, number>();
  const tokens = new Map<number, number>();
  for (const item of await readSlotItems(store, resourceId, concurrency - 1)) {
    const slot = Number(item[attribute.concurrencyId]?.N);
    if (isHeld(item, nowMs)) held.set(slot, leaseEndMs(item) ?? nowMs);
    const token = item[attribute.fencingToken]?.N;
    if (token !== undefined) tokens.set(slot, Number(token));
  }
  const free: number[] = [];
  for (let slot = 0; slot < concurrency; slot++) if (!held.has(slot)) free.push(slot);
  const ends = [...held.values()];
  return ends.length === 0 ? { free, tokens } : { free, tokens, nextExpiryMs: Math.min(...ends) };
}

async function readSlotItems(
  store: LockStore,
  resourceId: string,
  maxConcurrencyId?: number,
): Promise<Record<string, AttributeValue>[]> {
  return queryAll(store, {
    ConsistentRead: true,
    KeyConditionExpression:
      maxConcurrencyId === undefined
        ? '#resourceId = :resourceId AND #concurrencyId >= :zero'
        : '#resourceId = :resourceId AND #concurrencyId BETWEEN :zero AND :max',
    ProjectionExpression: '#concurrencyId, #expires, #expiresMs, #owner, #fencingToken',
    ExpressionAttributeNames: {
      '#resourceId': attribute.resourceId,
      '#concurrencyId': attribute.concurrencyId,
      '#expires': attribute.expires,
      '#expiresMs': attribute.expiresMs,
      '#owner': attribute.owner,
      '#fencingToken': attribute.fencingToken,
    },
    ExpressionAttributeValues: {
      ':resourceId': { S: resourceId },
      ':zero': { N: '0' },
      ...(maxConcurrencyId === undefined ? {} : { ':max': { N: String(maxConcurrencyId) } }),
    },
  });
}
