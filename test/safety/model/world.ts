import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { DynamoDbLock } from '../../../core/dynamo-db-lock.js';
import { LockTimeoutError } from '../../../core/errors.js';
import type { Lease } from '../../../core/lease.js';
import type { LockStore } from '../../../core/store.js';
import { uniqueResource } from '../../support/dynamodb.js';
import { recordingLogger } from '../../support/recording-logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { FaultInjector } from '../support/fault-injector.js';

/** The model of one slot item, as the table should hold it. `endMs` 0: released. */
export interface ModelSlot {
  code: string;
  /** The stored lease end (on the holder's clock, which wrote it). */
  endMs: number;
  token: number;
  owner: string;
  /** The shared clock's time until which its holder believes it holds the slot (its told end). */
  believedUntilMs: number;
}

/** What one client believes: the lease its lock object holds, and whether it waits. */
export interface ModelClient {
  lease?: Lease;
  waiting: boolean;
  generation: number;
}

/**
 * The model of the semaphore: per resource, the slot items and every release code a slot ever
 * had; per client, its lease. A slot is held while `endMs >= now` (the end is inclusive).
 */
export interface Model {
  /** The shared clock (this is the time the model judges by). */
  nowMs: number;
  /** How far each client's clock runs ahead of the shared one, per resource: within its bound. */
  offsetMs: number[][];
  concurrency: number[];
  durationMs: number[];
  slots: Map<string, ModelSlot>;
  pastCodes: Map<string, string[]>;
  clients: ModelClient[][];
}

/** A pending `acquire` that waits in the background. */
export interface Waiter {
  resource: number;
  client: number;
  generation: number;
  deadlineMs: number;
  controller: AbortController;
  outcome?:
    | { kind: 'granted'; lease: Lease }
    | { kind: 'timeout' }
    | { kind: 'aborted' }
    | { kind: 'error'; error: unknown };
}

/** The system under test: real locks on DynamoDB Local, sharing one fake clock. */
export interface Real {
  clock: FakeClock;
  resourceIds: string[];
  locks: DynamoDbLock[][];
  observers: DynamoDbLock[];
  waiters: Set<Waiter>;
  store: LockStore;
}

export const clientsPerResource = 4;
const poolClients: Array<{ client: DynamoDBClient; faults: FaultInjector }> = [];

/** One DynamoDB client (with its fault injector) per model client, shared across runs. */
export function clientFor(
  resource: number,
  client: number,
): { client: DynamoDBClient; faults: FaultInjector } {
  const index = resource * clientsPerResource + client;
  while (poolClients.length <= index) {
    const faults = new FaultInjector();
    // The library retries throttling and lost answers itself; the SDK's own retries would only slow the run.
    const dynamodb = new DynamoDBClient({
      endpoint: inject('dynamodbEndpoint'),
      region: 'us-east-1',
      maxAttempts: 1,
    });
    poolClients.push({ client: faults.attach(dynamodb, 'dynamodb'), faults });
  }
  return poolClients[index] as { client: DynamoDBClient; faults: FaultInjector };
}

export const slotKey = (resource: number, slot: number) => `${resource}/${slot}`;

export function ownerOf(resource: number, client: number, generation: number): string {
  return `r${resource}-c${client}-g${generation}`;
}

/**
 * The clock bound of a resource's locks: its holders are told a lease ending this much before
 * the stored end, which the model tracks; each client's clock runs ahead of the shared one by
 * up to it (`offsetOf`).
 */
export function skewMs(model: Model, resource: number): number {
  return Math.min(100, Math.floor((model.durationMs[resource] as number) / 10));
}

/** How far a client's clock runs ahead of the shared one (0 for observers). */
export function offsetOf(model: Model, resource: number, client: number | undefined): number {
  return client === undefined ? 0 : (model.offsetMs[resource]?.[client] ?? 0);
}

/** A new lock object for a client (a new generation after a crash). */
export function newLock(real: Real, model: Model, resource: number, client: number): DynamoDbLock {
  const generation = model.clients[resource]?.[client]?.generation ?? 0;
  const { client: dynamodb } = clientFor(resource, client);
  return new DynamoDbLock(real.resourceIds[resource] as string, {
    client: dynamodb,
    tableName: real.store.tableName,
    concurrency: model.concurrency[resource] as number,
    duration: (model.durationMs[resource] as number) / 1000,
    owner: ownerOf(resource, client, generation),
    clock: () => real.clock.now() + offsetOf(model, resource, client),
    maxClockSkewMs: skewMs(model, resource),
    logger: recordingLogger(),
    backoff: { baseMs: 2, capMs: 20 },
  });
}

/** A fresh model and system for one run: new resource ids, a new clock. */
export function setUp(
  tableName: string,
  concurrency: number[],
  durationMs: number[],
  /** Per resource and client, how far ahead its clock runs; clamped to the resource's bound. */
  offsets: number[][] = [],
): { model: Model; real: Real } {
  const clock = new FakeClock();
  const observerClient = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1' });
  const model: Model = {
    nowMs: clock.now(),
    offsetMs: [],
    concurrency,
    durationMs,
    slots: new Map(),
    pastCodes: new Map(),
    clients: concurrency.map(() =>
      Array.from({ length: clientsPerResource }, () => ({ waiting: false, generation: 0 })),
    ),
  };
  model.offsetMs = concurrency.map((_, resource) =>
    Array.from({ length: clientsPerResource }, (_, client) =>
      Math.min(offsets[resource]?.[client] ?? 0, skewMs(model, resource)),
    ),
  );
  const real: Real = {
    clock,
    resourceIds: concurrency.map((k) => uniqueResource(`model-k${k}`)),
    locks: [],
    observers: [],
    waiters: new Set(),
    store: { client: observerClient, tableName, clock: clock.now, logger: recordingLogger() },
  };
  for (const [resource, k] of concurrency.entries()) {
    real.locks.push(
      Array.from({ length: clientsPerResource }, (_, client) => newLock(real, model, resource, client)),
    );
    real.observers.push(
      new DynamoDbLock(real.resourceIds[resource] as string, {
        client: observerClient,
        tableName,
        concurrency: k,
        clock: clock.now,
        logger: recordingLogger(),
      }),
    );
    for (let client = 0; client < clientsPerResource; client++) clientFor(resource, client).faults.calm();
  }
  return { model, real };
}

/** Held slots of a resource as a client sees them on its own clock (default: the shared one). */
export function heldSlots(model: Model, resource: number, client?: number): number[] {
  const nowMs = model.nowMs + offsetOf(model, resource, client);
  const held: number[] = [];
  for (let slot = 0; slot < (model.concurrency[resource] as number); slot++) {
    const item = model.slots.get(slotKey(resource, slot));
    if (item && item.endMs >= nowMs) held.push(slot);
  }
  return held;
}

/** Free slots of a resource as a client sees them on its own clock (default: the shared one). */
export const freeCount = (model: Model, resource: number, client?: number) =>
  (model.concurrency[resource] as number) - heldSlots(model, resource, client).length;

/** A violation of the semaphore's contract; its message is the counterexample's explanation. */
export class Violation extends Error {
  override name = 'Violation';
}

export function expectThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Violation(message);
}

/**
 * Records a grant to `client` in the model, after checking it is allowed: the slot exists, it
 * was free on the taker's clock, its former holder no longer believes it holds it (on the shared
 * clock: never more than K believed leases, whatever the clocks within the bound), the lease is
 * told to end one duration less the bound from the taker's now, and the fencing token grew.
 */
export function applyGrant(
  model: Model,
  resource: number,
  lease: Lease,
  owner: string,
  client: number,
): void {
  const offsetMs = offsetOf(model, resource, client);
  const takerNowMs = model.nowMs + offsetMs;
  const k = model.concurrency[resource] as number;
  const key = slotKey(resource, lease.concurrencyId);
  const before = model.slots.get(key);
  expectThat(
    Number.isInteger(lease.concurrencyId) && lease.concurrencyId >= 0 && lease.concurrencyId < k,
    `granted slot ${lease.concurrencyId} outside 0..${k - 1}`,
  );
  expectThat(
    !before || before.endMs < takerNowMs,
    `slot ${key} granted to ${owner} while held by ${before?.owner} until ${before?.endMs} (its clock at ${takerNowMs})`,
  );
  expectThat(
    !before || before.endMs === 0 || before.believedUntilMs < model.nowMs,
    `slot ${key} granted to ${owner} at ${model.nowMs} while ${before?.owner} believes it holds it until ${before?.believedUntilMs}`,
  );
  const toldEndMs = takerNowMs + (model.durationMs[resource] as number) - skewMs(model, resource);
  expectThat(
    lease.expiresAtMs === toldEndMs,
    `lease of ${owner} ends at ${lease.expiresAtMs}, expected ${toldEndMs}`,
  );
  expectThat(
    !before || lease.fencingToken > before.token,
    `fencing token of slot ${key} went from ${before?.token} to ${lease.fencingToken}`,
  );
  if (before) model.pastCodes.set(key, [...(model.pastCodes.get(key) ?? []), before.code]);
  model.slots.set(key, {
    code: lease.releaseCode,
    endMs: lease.expiresAtMs + skewMs(model, resource),
    token: lease.fencingToken,
    owner,
    believedUntilMs: lease.expiresAtMs - offsetMs,
  });
}

/** Starts a background acquire for a client. */
export function startWaiter(
  real: Real,
  model: Model,
  resource: number,
  client: number,
  waitMs: number,
): Waiter {
  const controller = new AbortController();
  const waiter: Waiter = {
    resource,
    client,
    generation: model.clients[resource]?.[client]?.generation ?? 0,
    deadlineMs: model.nowMs + waitMs,
    controller,
  };
  real.waiters.add(waiter);
  const lock = real.locks[resource]?.[client] as DynamoDbLock;
  lock.acquire({ timeoutMs: waitMs, signal: controller.signal }).then(
    (lease) => {
      waiter.outcome = { kind: 'granted', lease };
    },
    (error: unknown) => {
      if (error instanceof LockTimeoutError) waiter.outcome = { kind: 'timeout' };
      else if (controller.signal.aborted && error === controller.signal.reason)
        waiter.outcome = { kind: 'aborted' };
      else waiter.outcome = { kind: 'error', error };
    },
  );
  return waiter;
}

/** Applies a settled waiter's outcome to the model. */
function applyWaiter(model: Model, waiter: Waiter): void {
  const outcome = waiter.outcome;
  const state = model.clients[waiter.resource]?.[waiter.client] as ModelClient;
  const current = state.generation === waiter.generation;
  if (current) state.waiting = false;
  const who = ownerOf(waiter.resource, waiter.client, waiter.generation);
  if (outcome?.kind === 'granted') {
    applyGrant(model, waiter.resource, outcome.lease, who, waiter.client);
    if (current) state.lease = outcome.lease;
  } else if (outcome?.kind === 'timeout') {
    expectThat(
      model.nowMs >= waiter.deadlineMs,
      `acquire of ${who} timed out at ${model.nowMs}, before its deadline ${waiter.deadlineMs}`,
    );
  } else if (outcome?.kind === 'aborted') {
    expectThat(waiter.controller.signal.aborted, `acquire of ${who} aborted without an abort`);
  } else {
    throw new Violation(`acquire of ${who} failed: ${String((outcome as { error?: unknown })?.error)}`);
  }
}

/**
 * Lets the background acquires react to what the last command did, until the system is stable:
 * no waiter may still pend while its resource has a free slot (liveness), nor past its deadline.
 * Each settled waiter is checked and applied to the model.
 */
export async function settle(model: Model, real: Real, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    for (const waiter of real.waiters) {
      if (!waiter.outcome) continue;
      real.waiters.delete(waiter);
      applyWaiter(model, waiter);
    }
    const unstable = [...real.waiters].filter(
      (waiter) =>
        waiter.controller.signal.aborted ||
        waiter.deadlineMs <= model.nowMs ||
        freeCount(model, waiter.resource, waiter.client) > 0,
    );
    if (unstable.length === 0) return;
    if (Date.now() > deadline) {
      const who = unstable.map((waiter) => ownerOf(waiter.resource, waiter.client, waiter.generation));
      throw new Violation(`acquires of ${who.join(', ')} neither granted nor timed out within ${limitMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}

/**
 * Compares the table with the model: the same held slots on every resource, with the same
 * lease ends, fencing tokens and owners; `count()` equals the model; never more than K.
 */
export async function verify(model: Model, real: Real): Promise<void> {
  for (const [resource, observer] of real.observers.entries()) {
    const holders = await observer.holders();
    const count = await observer.count();
    const expected = heldSlots(model, resource);
    const k = model.concurrency[resource] as number;
    expectThat(count <= k, `${count} unexpired holders of resource ${resource}, concurrency ${k}`);
    expectThat(
      count === expected.length,
      `count() of resource ${resource} is ${count}, the model has ${expected.length} (slots ${expected.join(',')})`,
    );
    const seen = holders.map((holder) => holder.concurrencyId).sort((a, b) => a - b);
    expectThat(
      seen.join(',') === expected.join(','),
      `resource ${resource} holds slots [${seen.join(',')}], the model [${expected.join(',')}]`,
    );
    for (const holder of holders) {
      const item = model.slots.get(slotKey(resource, holder.concurrencyId)) as ModelSlot;
      expectThat(
        holder.expiresAtMs === item.endMs &&
          holder.fencingToken === item.token &&
          holder.owner === item.owner,
        `slot ${resource}/${holder.concurrencyId} is ${JSON.stringify(holder)}, the model ${JSON.stringify(item)}`,
      );
    }
  }
}

/** Stops every background acquire of a run and waits for them. */
export async function tearDown(real: Real): Promise<void> {
  for (const waiter of real.waiters) waiter.controller.abort(new Error('end of the run'));
  const deadline = Date.now() + 5_000;
  while ([...real.waiters].some((waiter) => !waiter.outcome) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  real.waiters.clear();
  (real.store.client as DynamoDBClient).destroy();
}
