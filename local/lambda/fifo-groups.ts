import type { Message } from '@aws-sdk/client-sqs';

/** A received message the mapping holds, and when it was received (its visibility started). */
interface Held {
  message: Message;
  receivedAt: number;
  /** Its batch failed: it runs again only once the queue hands it out again. */
  failed: boolean;
}

/** Before its visibility timeout ends, a message is not started any more (its delete could fail). */
const STALE_GUARD_MS = 250;
/** After its visibility timeout, a message not handed out again is presumed gone (dead-letter queue). */
const GONE_MARGIN_MS = 1000;

/**
 * The message-group lock of a FIFO event source mapping. SQS never hands out a message while an
 * earlier one of its group is in flight or waiting to be retried; local-aws-sqs does (and its
 * SequenceNumber stops growing at the 10th message of a group), so the mapping orders and holds
 * messages here:
 *
 * - A group's messages are ordered by when the mapping first saw them: the emulator returns them
 *   in send order, so first sight is send order.
 * - `takeReady` builds a batch from groups with no batch in flight, taking each group's messages
 *   from the oldest on, and stopping at a message that cannot run yet: one whose batch failed
 *   (until the queue hands it out again) or whose visibility timeout is about to end (until it is
 *   handed out again with a fresh receipt handle). Such a message that does not come back within
 *   a second after its visibility timeout is presumed moved to the dead-letter queue and dropped.
 *
 * @example
 * const groups = new FifoGroups({ batchSize: 10, visibilityTimeoutMs: 30_000 });
 * groups.add(received);
 * const batch = groups.takeReady(); // at most 10 messages, the oldest of each idle group
 * // ... invoke, delete ...
 * if (batch) groups.finish(batch, deletedIds);
 */
export class FifoGroups {
  readonly #batchSize: number;
  readonly #visibilityMs: number;
  readonly #firstSeen = new Map<string, number>();
  #seen = 0;
  readonly #waiting = new Map<string, Held[]>();
  readonly #inFlight = new Map<string, Held>();
  readonly #busy = new Set<string>();

  constructor(options: { batchSize: number; visibilityTimeoutMs: number }) {
    this.#batchSize = options.batchSize;
    this.#visibilityMs = options.visibilityTimeoutMs;
  }

  /** Messages held and not in flight, for back-pressure on receiving. */
  get held(): number {
    let count = 0;
    for (const list of this.#waiting.values()) count += list.length;
    return count;
  }

  /** Milliseconds until a held message that blocks its group is presumed gone, if any. */
  msUntilChange(now = Date.now()): number | undefined {
    let first: number | undefined;
    for (const list of this.#waiting.values()) {
      for (const held of list) {
        if (this.#runnable(held, now)) continue;
        first = Math.min(first ?? Number.POSITIVE_INFINITY, Math.max(0, this.#goneAt(held) - now));
      }
    }
    return first;
  }

  /** Takes in freshly received messages; a copy already held is replaced (newest receipt handle). */
  add(messages: Message[], now = Date.now()): void {
    for (const message of messages) this.#insert({ message, receivedAt: now, failed: false });
  }

  /** A batch of the oldest runnable messages of idle groups (which become busy), if any. */
  takeReady(now = Date.now()): Message[] | undefined {
    const batch: Message[] = [];
    for (const [group, list] of this.#waiting) {
      if (batch.length >= this.#batchSize) break;
      if (this.#busy.has(group)) continue;
      while (list.length > 0 && batch.length < this.#batchSize) {
        const head = list[0] as Held;
        if (now >= this.#goneAt(head)) {
          list.shift();
          this.#firstSeen.delete(idOf(head.message));
          continue;
        }
        if (!this.#runnable(head, now)) break;
        list.shift();
        this.#inFlight.set(idOf(head.message), head);
        batch.push(head.message);
        this.#busy.add(group);
      }
      if (list.length === 0) this.#waiting.delete(group);
    }
    return batch.length > 0 ? batch : undefined;
  }

  /** Ends a batch; `deleted` holds the ids removed from the queue. */
  finish(batch: Message[], deleted: ReadonlySet<string>): void {
    for (const message of batch) {
      const id = idOf(message);
      const held = this.#inFlight.get(id);
      this.#inFlight.delete(id);
      this.#busy.delete(groupOf(message));
      if (deleted.has(id)) {
        this.#firstSeen.delete(id);
        this.#remove(message);
        continue;
      }
      // Not deleted: it is back on the queue after its visibility timeout and blocks its group
      // until then. If it was already handed out again meanwhile, that copy waits in its place.
      if (held && !this.#isWaiting(message)) this.#insert({ ...held, failed: true });
    }
  }

  #insert(held: Held): void {
    const id = idOf(held.message);
    if (!this.#firstSeen.has(id)) this.#firstSeen.set(id, this.#seen++);
    const group = groupOf(held.message);
    const list = (this.#waiting.get(group) ?? []).filter((other) => idOf(other.message) !== id);
    const order = this.#orderOf(held);
    const at = list.findIndex((other) => this.#orderOf(other) > order);
    list.splice(at < 0 ? list.length : at, 0, held);
    this.#waiting.set(group, list);
  }

  #remove(message: Message): void {
    const group = groupOf(message);
    const list = this.#waiting.get(group)?.filter((held) => idOf(held.message) !== idOf(message)) ?? [];
    if (list.length > 0) this.#waiting.set(group, list);
    else this.#waiting.delete(group);
  }

  #isWaiting(message: Message): boolean {
    return this.#waiting.get(groupOf(message))?.some((held) => idOf(held.message) === idOf(message)) ?? false;
  }

  #runnable(held: Held, now: number): boolean {
    return !held.failed && now < held.receivedAt + this.#visibilityMs - STALE_GUARD_MS;
  }

  #goneAt(held: Held): number {
    return held.receivedAt + this.#visibilityMs + GONE_MARGIN_MS;
  }

  #orderOf(held: Held): number {
    return this.#firstSeen.get(idOf(held.message)) ?? Number.POSITIVE_INFINITY;
  }
}

function idOf(message: Message): string {
  return message.MessageId ?? '';
}

function groupOf(message: Message): string {
  return message.Attributes?.MessageGroupId ?? '';
}
