/** What this process knows about one resource's slots, between invocations. */
interface ResourceMemory {
  /** Slots this process released last, most recent at the end: the best blind guess for a free slot. */
  released: number[];
  /** Slots held right now by any invocation in this process: never write to them blind. */
  held: Set<number>;
  /** The last look at this resource found it full: read before writing, as a refused write costs a unit. */
  contended: boolean;
}

/** How many released slots to remember per resource; older ones are likely taken by now. */
const rememberedPerResource = 8;
/** How many resources to remember; a Lambda container sees a bounded set of tenants in practice. */
const rememberedResources = 10_000;

/**
 * Per-process memory of the lock slots the SQS throttle used, kept across invocations of a warm
 * Lambda container, so that an uncontended take is one blind write to the slot freed last (no
 * read), and a contended one starts with a read instead of a refused write.
 *
 * @example
 * const memory = new SlotMemory();
 * memory.candidate('locks', 'tenant-1', 3); // a slot to try blind, or undefined: read first
 */
export class SlotMemory {
  readonly #resources = new Map<string, ResourceMemory>();

  /**
   * The slot to try with one blind write: the one this process freed last, else a random one
   * it does not hold; undefined when a read should come first (contended, or all held here).
   */
  candidate(tableName: string, resourceId: string, concurrency: number): number | undefined {
    const memory = this.#get(tableName, resourceId);
    if (memory.contended) return undefined;
    for (let index = memory.released.length - 1; index >= 0; index--) {
      const slot = memory.released[index] as number;
      if (slot < concurrency && !memory.held.has(slot)) return slot;
    }
    return randomSlotNotIn(memory.held, concurrency);
  }

  /** How many of the slots below `concurrency` this process holds now. */
  heldCount(tableName: string, resourceId: string, concurrency: number): number {
    let count = 0;
    for (const slot of this.#get(tableName, resourceId).held) if (slot < concurrency) count++;
    return count;
  }

  /** Whether this process holds the slot now. */
  isHeld(tableName: string, resourceId: string, slot: number): boolean {
    return this.#get(tableName, resourceId).held.has(slot);
  }

  /** A slot was taken by this process. */
  taken(tableName: string, resourceId: string, slot: number): void {
    const memory = this.#get(tableName, resourceId);
    memory.held.add(slot);
    memory.released = memory.released.filter((other) => other !== slot);
  }

  /** A slot this process held is free again (released, or its lease was lost). */
  released(tableName: string, resourceId: string, slot: number, free: boolean): void {
    const memory = this.#get(tableName, resourceId);
    memory.held.delete(slot);
    if (!free) return;
    memory.released.push(slot);
    if (memory.released.length > rememberedPerResource) memory.released.shift();
  }

  /** Whether the next take of this resource should read first. */
  setContended(tableName: string, resourceId: string, contended: boolean): void {
    this.#get(tableName, resourceId).contended = contended;
  }

  #get(tableName: string, resourceId: string): ResourceMemory {
    const key = `${tableName}\u0000${resourceId}`;
    let memory = this.#resources.get(key);
    if (memory) {
      // Map order is insertion order: re-inserting keeps the most recently used at the end.
      this.#resources.delete(key);
    } else {
      memory = { released: [], held: new Set(), contended: false };
      if (this.#resources.size >= rememberedResources) this.#evictIdle();
    }
    this.#resources.set(key, memory);
    return memory;
  }

  /** Forgets the least recently used resource that no invocation holds a slot of. */
  #evictIdle(): void {
    for (const [key, memory] of this.#resources) {
      if (memory.held.size === 0) {
        this.#resources.delete(key);
        return;
      }
    }
  }
}

function randomSlotNotIn(held: ReadonlySet<number>, concurrency: number): number | undefined {
  if (held.size >= concurrency) {
    for (let slot = 0; slot < concurrency; slot++) if (!held.has(slot)) return slot;
    return undefined;
  }
  // A few random draws find a free one fast when few are held; the scan below is the fallback.
  for (let draw = 0; draw < 8; draw++) {
    const slot = Math.floor(Math.random() * concurrency);
    if (!held.has(slot)) return slot;
  }
  const free: number[] = [];
  for (let slot = 0; slot < concurrency; slot++) if (!held.has(slot)) free.push(slot);
  return free[Math.floor(Math.random() * free.length)];
}
