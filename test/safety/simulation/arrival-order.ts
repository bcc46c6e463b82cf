import { AsyncLocalStorage } from 'node:async_hooks';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { isHeld } from '../../../core/item.js';
import { attribute, requestAttribute } from '../../../core/table.js';
import { readSlots } from '../../../core/waiting/queue.js';
import { readResource } from '../../../core/waiting/read-resource.js';
import { primarySlotOf } from '../../../core/waiting/request.js';
import type { WaitingStore } from '../../../core/waiting/waiting-store.js';

/*
 * First come, first served, checked at every grant the simulation lands: when a grant
 * transaction gives R its slots, no request Q that was in the queue ahead of R when R's granter
 * read the queue may still be waiting (unless Q's own deadline passed before the grant: it has
 * lost its place, though nobody has marked it timed out yet; or Q holds its primary slot through
 * a repeated first attempt, which settles it). "In the queue when
 * the granter read it" is what the granter could know: a request recorded after that read, even
 * at an earlier millisecond, is not overtaken. Every call passes the gate one at a time, so the
 * check's own reads see the table exactly as the grant left it.
 */

type Item = Record<string, AttributeValue>;

/** Which actor of the simulation makes a call: set around each actor's body. */
export const actor = new AsyncLocalStorage<string>();

interface WindowRead {
  index: number;
}

/** What a DynamoDB command of the protocol looks like to the observer. */
interface Observed {
  constructor: { name: string };
  input: {
    TableName?: string;
    ExpressionAttributeValues?: Item;
    TransactItems?: Array<{ Put?: { Item?: Item }; Update?: { Key?: Item; UpdateExpression?: string } }>;
  };
}

/** Watches the calls that land and reports a grant that overtook an older waiting request. */
export class ArrivalOrder {
  #index = 0;
  readonly #windowReads = new Map<string, WindowRead>();
  /** When each request last entered the queue (its record, or a regrant), by request key. */
  readonly #enteredAt = new Map<number, number>();

  constructor(
    readonly store: WaitingStore,
    readonly resourceId: string,
    readonly nameOf: (requestKey: number) => string,
    readonly violation: (message: string) => void,
  ) {}

  /** Called inside the gate right after `command` landed. */
  async landed(command: Observed): Promise<void> {
    const index = this.#index++;
    const { input } = command;
    const name = command.constructor.name;
    if (name === 'QueryCommand' && input.TableName === this.store.requestTableName && isQueueRead(input)) {
      const who = actor.getStore();
      if (who) this.#windowReads.set(who, { index });
      return;
    }
    if (name !== 'TransactWriteItemsCommand') return;
    for (const item of input.TransactItems ?? []) {
      const put = item.Put?.Item;
      if (put?.[requestAttribute.state]?.S === 'waiting')
        this.#enteredAt.set(Number(put[attribute.concurrencyId]?.N), index);
      const update = item.Update;
      const key = Number(update?.Key?.[attribute.concurrencyId]?.N);
      if (update?.UpdateExpression?.startsWith('SET #state = :waiting')) this.#enteredAt.set(key, index);
      if (update?.UpdateExpression?.startsWith('SET #state = :granted')) await this.#checkGrant(key);
    }
  }

  async #checkGrant(grantedKey: number): Promise<void> {
    const who = actor.getStore();
    const read = who === undefined ? undefined : this.#windowReads.get(who);
    // A grant without a read of the queue before it (none in the protocol) has nothing to compare.
    if (!read) return;
    const { requests } = await readResource(this.store, this.resourceId);
    const granted = requests.find((request) => request.requestKey === grantedKey);
    if (granted?.queueKey === undefined) return;
    for (const waiting of requests) {
      if (waiting.state !== 'waiting' || waiting.queueKey === undefined) continue;
      // Past its own deadline by the grant, it has lost its place (it is timed out, if not yet marked).
      if (waiting.queueKey >= granted.queueKey || waiting.waitUntilMs < this.store.clock()) continue;
      if ((this.#enteredAt.get(waiting.requestKey) ?? Number.POSITIVE_INFINITY) > read.index) continue;
      if (await this.#holdsPrimary(waiting.releaseCode, waiting.concurrency)) continue;
      this.violation(
        `${this.nameOf(grantedKey)} was granted ahead of ${this.nameOf(waiting.requestKey)}, which waited before it (first come, first served broken)`,
      );
    }
  }

  async #holdsPrimary(releaseCode: string, concurrency: number): Promise<boolean> {
    const primary = primarySlotOf(releaseCode, concurrency);
    const item = (await readSlots(this.store, this.resourceId, concurrency)).slots.get(primary);
    return item?.[attribute.releaseCode]?.S === releaseCode && isHeld(item, this.store.clock());
  }
}

/** A read of the queue's entries (the lowest sort keys), not of one request. */
function isQueueRead(input: Observed['input']): boolean {
  return input.ExpressionAttributeValues?.[':low']?.N === String(Number.MIN_SAFE_INTEGER);
}
