import fc from 'fast-check';
import { LockAlreadyHeldError, LockLostError } from '../../../core/errors.js';
import { releaseSlot } from '../../../core/operations/release-slot.js';
import { newReleaseCode } from '../../../core/release-code.js';
import { countFigure } from '../support/chaos-settings.js';
import type { Fault } from '../support/fault-injector.js';
import {
  applyGrant,
  clientFor,
  clientsPerResource,
  expectThat,
  freeCount,
  type Model,
  type ModelClient,
  newLock,
  offsetOf,
  ownerOf,
  type Real,
  settle,
  skewMs,
  slotKey,
  startWaiter,
  Violation,
  verify,
} from './world.js';

type Command = fc.AsyncCommand<Model, Real>;

/** How a write of the command is delivered: normally, twice, or with its answer lost. */
export type Delivery = 'once' | Extract<Fault, 'duplicate' | 'lose-answer' | 'lost-request' | 'throttle'>;

const waitersOn = (real: Real, resource: number) =>
  [...real.waiters].some((waiter) => waiter.resource === resource);

const client = (model: Model, resource: number, index: number) =>
  model.clients[resource]?.[index] as ModelClient;

/**
 * Arms the delivery fault on the client's next write of that kind (a take or a release is a
 * PutItem, an extend an UpdateItem); answers how many requests it sent before.
 */
function arm(resource: number, index: number, delivery: Delivery, command: 'PutItem' | 'UpdateItem'): number {
  const { faults } = clientFor(resource, index);
  faults.calm();
  if (delivery !== 'once') {
    faults.arm({ command, fault: delivery });
    countFigure(`model.delivery.${delivery}`);
  }
  return faults.sentCount();
}

/** Settles the background acquires, then compares the table with the model. */
async function afterCommand(model: Model, real: Real, name: string): Promise<void> {
  for (let resource = 0; resource < model.concurrency.length; resource++) {
    for (let index = 0; index < clientsPerResource; index++) clientFor(resource, index).faults.calm();
  }
  await settle(model, real);
  await verify(model, real);
  countFigure('model.operations');
  countFigure(`model.operation.${name}`);
}

/** A command on one lock object (client `index` of `resource`); it runs while that client does not wait. */
abstract class OneClient implements Command {
  constructor(
    readonly resource: number,
    readonly index: number,
  ) {}
  check = (model: Readonly<Model>) => !client(model, this.resource, this.index).waiting;
  abstract run(model: Model, real: Real): Promise<void>;
  /** The client's state in the model. */
  protected state(model: Model) {
    return client(model, this.resource, this.index);
  }
  /** The client's real lock object. */
  protected lock(real: Real) {
    return real.locks[this.resource]?.[this.index];
  }
  /** Asserts the client sent nothing since it had sent `before` requests. */
  protected expectNoRequestSince(before: number, what: string) {
    expectThat(clientFor(this.resource, this.index).faults.sentCount() === before, `${what} sent a request`);
  }
}

/** `tryAcquire()`: true exactly when the model has a free slot (nothing else runs meanwhile). */
class TryAcquire extends OneClient {
  constructor(
    resource: number,
    index: number,
    readonly delivery: Delivery,
  ) {
    super(resource, index);
  }
  async run(model: Model, real: Real) {
    const state = this.state(model);
    const before = arm(this.resource, this.index, this.delivery, 'PutItem');
    const got = await (this.lock(real)?.tryAcquire() as Promise<boolean>);
    const lease = this.lock(real)?.lease;
    if (state.lease) {
      expectThat(!got, 'tryAcquire on a lock object that holds a lease answered true');
      this.expectNoRequestSince(before, 'tryAcquire while holding');
    } else {
      const free = freeCount(model, this.resource, this.index);
      expectThat(got === free > 0, `tryAcquire answered ${got} with ${free} free slot(s)`);
      if (got && lease) {
        applyGrant(
          model,
          this.resource,
          lease,
          ownerOf(this.resource, this.index, state.generation),
          this.index,
        );
        state.lease = lease;
      }
    }
    await afterCommand(model, real, 'tryAcquire');
  }
  override toString = () => `tryAcquire(r${this.resource}, c${this.index}, ${this.delivery})`;
}

/** `acquire({ timeoutMs })` in the background: it ends granted, or with a timeout at its deadline. */
class Acquire extends OneClient {
  constructor(
    resource: number,
    index: number,
    readonly waitMs: number,
  ) {
    super(resource, index);
  }
  async run(model: Model, real: Real) {
    const state = this.state(model);
    if (state.lease) {
      const error = await this.lock(real)
        ?.acquire({ timeoutMs: this.waitMs })
        .catch((e: unknown) => e);
      expectThat(error instanceof LockAlreadyHeldError, `acquire while holding gave ${String(error)}`);
    } else {
      state.waiting = true;
      startWaiter(real, model, this.resource, this.index, this.waitMs);
    }
    await afterCommand(model, real, 'acquire');
  }
  override toString = () => `acquire(r${this.resource}, c${this.index}, wait ${this.waitMs} ms)`;
}

/** `release()`: true while the lease is the slot's (even expired); never touches a new holder. */
class Release extends OneClient {
  constructor(
    resource: number,
    index: number,
    readonly delivery: Delivery,
  ) {
    super(resource, index);
  }
  async run(model: Model, real: Real) {
    const state = this.state(model);
    const before = arm(this.resource, this.index, this.delivery, 'PutItem');
    const released = await (this.lock(real)?.release() as Promise<boolean>);
    const lease = state.lease;
    if (!lease) {
      expectThat(!released, 'release without a lease answered true');
      this.expectNoRequestSince(before, 'release without a lease');
    } else {
      const item = model.slots.get(slotKey(this.resource, lease.concurrencyId));
      const ours = item?.code === lease.releaseCode;
      // Known: a release whose write landed but whose answer was lost, retried after a waiting
      // acquire took the freed slot, answers false. The slot is right (the table is verified
      // below against a released slot); only the answer is.
      const misreported =
        ours &&
        !released &&
        (this.delivery === 'lose-answer' || this.delivery === 'duplicate') &&
        waitersOn(real, this.resource);
      if (misreported) countFigure('model.release-false-after-lost-answer');
      else
        expectThat(
          released === ours,
          `release answered ${released}; the slot is ${ours ? '' : 'not '}this lease's`,
        );
      if (ours && item) item.endMs = 0;
      state.lease = undefined;
    }
    await afterCommand(model, real, 'release');
  }
  override toString = () => `release(r${this.resource}, c${this.index}, ${this.delivery})`;
}

/** `extend(seconds)`: moves the end while nobody else took the slot; `LockLostError` otherwise. */
class Extend extends OneClient {
  constructor(
    resource: number,
    index: number,
    readonly seconds: number,
    readonly delivery: Delivery,
  ) {
    super(resource, index);
  }
  async run(model: Model, real: Real) {
    const state = this.state(model);
    arm(this.resource, this.index, this.delivery, 'UpdateItem');
    const outcome = await this.lock(real)
      ?.extend(this.seconds)
      .then(
        (lease) => ({ lease }),
        (error: unknown) => ({ error }),
      );
    const lease = state.lease;
    const item = lease ? model.slots.get(slotKey(this.resource, lease.concurrencyId)) : undefined;
    if (lease && item && item.code === lease.releaseCode && item.endMs > 0) {
      expectThat(
        outcome !== undefined && 'lease' in outcome,
        `extend of a lease still ours failed: ${JSON.stringify(outcome)}`,
      );
      // The extender's clock writes the new end; it believes in it until its told end.
      const offsetMs = offsetOf(model, this.resource, this.index);
      item.endMs = model.nowMs + offsetMs + Math.round(this.seconds * 1000);
      const toldEndMs = item.endMs - skewMs(model, this.resource);
      item.believedUntilMs = toldEndMs - offsetMs;
      expectThat(
        outcome.lease.expiresAtMs === toldEndMs,
        `extend told ${outcome.lease.expiresAtMs}, expected ${toldEndMs}`,
      );
      state.lease = outcome.lease;
    } else {
      const error = outcome && 'error' in outcome ? outcome.error : undefined;
      expectThat(error instanceof LockLostError, `extend of a lost lease gave ${JSON.stringify(outcome)}`);
      state.lease = undefined;
    }
    await afterCommand(model, real, 'extend');
  }
  override toString = () => `extend(r${this.resource}, c${this.index}, ${this.seconds} s, ${this.delivery})`;
}

/** The holder dies: its lock object is dropped, the lease is abandoned and ends by itself. */
class Crash implements Command {
  constructor(
    readonly resource: number,
    readonly index: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const state = client(model, this.resource, this.index);
    for (const waiter of real.waiters) {
      if (waiter.resource === this.resource && waiter.client === this.index)
        waiter.controller.abort(new Error('crash'));
    }
    state.generation++;
    state.lease = undefined;
    state.waiting = false;
    (real.locks[this.resource] as unknown[])[this.index] = newLock(real, model, this.resource, this.index);
    await afterCommand(model, real, 'crash');
  }
  toString = () => `crash(r${this.resource}, c${this.index})`;
}

/**
 * The clock moves: onto the next lease end (still held), just past it, a little before it (where
 * a client whose clock runs ahead already sees it ended), or by some milliseconds.
 */
class Advance implements Command {
  constructor(readonly step: 'onto-end' | 'past-end' | { beforeEnd: number } | number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const ends = [...model.slots.values()].map((item) => item.endMs).filter((end) => end >= model.nowMs);
    const nextEnd = ends.length > 0 ? Math.min(...ends) : undefined;
    let target = model.nowMs + (typeof this.step === 'number' ? this.step : 1);
    if (this.step === 'onto-end' && nextEnd !== undefined) target = Math.max(model.nowMs, nextEnd);
    if (this.step === 'past-end' && nextEnd !== undefined) target = nextEnd + 1;
    if (typeof this.step === 'object' && nextEnd !== undefined)
      target = Math.max(model.nowMs, nextEnd - this.step.beforeEnd);
    real.clock.advanceTo(target);
    model.nowMs = target;
    await afterCommand(model, real, 'advance');
  }
  toString = () =>
    `advance(${typeof this.step === 'object' ? `${this.step.beforeEnd} ms before the end` : this.step})`;
}

/** Every idle client of a resource tries at once: grants never exceed the free slots, at least one if any. */
class Burst implements Command {
  constructor(readonly resource: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const idle = (model.clients[this.resource] as ModelClient[])
      .map((state, index) => ({ state, index }))
      .filter(({ state }) => !state.lease && !state.waiting);
    // Each client judges by its own clock: at most as many grants as the most-ahead one sees free.
    const free = Math.max(0, ...idle.map(({ index }) => freeCount(model, this.resource, index)));
    const answers = await Promise.all(
      idle.map(({ index }) => real.locks[this.resource]?.[index]?.tryAcquire()),
    );
    const winners = idle.filter((_, position) => answers[position]);
    expectThat(
      winners.length <= free,
      `${winners.length} of ${idle.length} clients got a slot, ${free} were free`,
    );
    expectThat(
      idle.length === 0 || free === 0 || winners.length >= 1,
      `no client of ${idle.length} got one of ${free} free slots`,
    );
    for (const { state, index } of winners) {
      const lease = real.locks[this.resource]?.[index]?.lease;
      if (!lease) throw new Violation('tryAcquire answered true without a lease');
      applyGrant(model, this.resource, lease, ownerOf(this.resource, index, state.generation), index);
      state.lease = lease;
    }
    await afterCommand(model, real, 'burst');
  }
  toString = () => `burst(r${this.resource})`;
}

/** A release with a guessed code, or the code of a former holder of the slot: never releases. */
class ForeignRelease implements Command {
  constructor(
    readonly resource: number,
    readonly slot: number,
    readonly kind: 'guessed' | 'stale',
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const slot = this.slot % (model.concurrency[this.resource] as number);
    const key = slotKey(this.resource, slot);
    const current = model.slots.get(key)?.code;
    const stale = (model.pastCodes.get(key) ?? []).filter((code) => code !== current);
    const code = this.kind === 'guessed' ? newReleaseCode() : stale[stale.length - 1];
    if (code !== undefined) {
      const released = await releaseSlot(real.store, {
        resourceId: real.resourceIds[this.resource] as string,
        concurrencyId: slot,
        releaseCode: code,
      });
      expectThat(!released, `a release with a ${this.kind} code released slot ${key}`);
      countFigure(`model.foreignRelease.${this.kind}`);
    }
    await afterCommand(model, real, 'foreignRelease');
  }
  toString = () => `foreignRelease(r${this.resource}, slot ${this.slot}, ${this.kind})`;
}

const resource = fc.nat({ max: 2 });
const index = fc.nat({ max: clientsPerResource - 1 });
const delivery = fc.constantFrom<Delivery>(
  'once',
  'once',
  'once',
  'duplicate',
  'lose-answer',
  'lost-request',
  'throttle',
);

/** The command arbitraries, weighted towards the operations that change holders. */
export const commandArbitraries: fc.Arbitrary<Command>[] = [
  fc.tuple(resource, index, delivery).map(([r, c, d]) => new TryAcquire(r, c, d)),
  fc.tuple(resource, index, delivery).map(([r, c, d]) => new TryAcquire(r, c, d)),
  fc.tuple(resource, index, fc.integer({ min: 1, max: 6_000 })).map(([r, c, w]) => new Acquire(r, c, w)),
  fc.tuple(resource, index, delivery).map(([r, c, d]) => new Release(r, c, d)),
  fc.tuple(resource, index, delivery).map(([r, c, d]) => new Release(r, c, d)),
  fc
    .tuple(resource, index, fc.constantFrom(0.5, 1, 2.5), delivery)
    .map(([r, c, s, d]) => new Extend(r, c, s, d)),
  fc.tuple(resource, index).map(([r, c]) => new Crash(r, c)),
  fc
    .oneof(
      fc.constantFrom<'onto-end' | 'past-end'>('onto-end', 'past-end'),
      fc.integer({ min: 1, max: 3_000 }),
    )
    .map((step) => new Advance(step)),
  fc.constantFrom<'onto-end' | 'past-end'>('onto-end', 'past-end').map((step) => new Advance(step)),
  fc.constantFrom(1, 30, 60, 99).map((beforeEnd) => new Advance({ beforeEnd })),
  resource.map((r) => new Burst(r)),
  fc
    .tuple(resource, fc.nat({ max: 2 }), fc.constantFrom<'guessed' | 'stale'>('guessed', 'stale'))
    .map(([r, s, kind]) => new ForeignRelease(r, s, kind)),
];
