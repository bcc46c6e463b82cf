/**
 * What this process learned about a resource from its last acquire, whatever object made it:
 * whether the acquire was contended (then the next one reads the slots before it writes, instead
 * of a blind write that a busy slot would refuse) and the slot it got, with its token there. A
 * `DynamoDbLock` created per acquire (as a Lambda handler would write it) learns from the ones
 * before it. Bounded: past `maxHints` resources the least recently used is forgotten.
 */
export interface ContentionHint {
  contended: boolean;
  lastSlot: { concurrencyId: number; fencingToken: number };
  /** Slots this process released lately, newest last: free a moment ago, worth a blind write. */
  freed?: Array<{ concurrencyId: number; fencingToken: number }>;
}

/** Freed slots remembered per resource. */
const maxFreed = 8;

/** At about 100 bytes a hint, at most a megabyte or so per process. */
export const maxHints = 10_000;

// A Map iterates in insertion order: re-inserting on use keeps the least recent first.
const hints = new Map<string, ContentionHint>();

const keyOf = (tableName: string, resourceId: string) => `${tableName}\u0000${resourceId}`;

/** The hint for a resource, if this process acquired it lately. */
export function recallHint(tableName: string, resourceId: string): ContentionHint | undefined {
  const key = keyOf(tableName, resourceId);
  const hint = hints.get(key);
  if (hint) {
    hints.delete(key);
    hints.set(key, hint);
  }
  return hint;
}

/** Remembers what an acquire of a resource found. */
export function rememberHint(tableName: string, resourceId: string, hint: ContentionHint): void {
  const key = keyOf(tableName, resourceId);
  const freed = hints.get(key)?.freed;
  hints.delete(key);
  // Slots released meanwhile stay known; the one just taken is no longer free.
  const stillFree = freed?.filter((slot) => slot.concurrencyId !== hint.lastSlot.concurrencyId);
  hints.set(key, { ...hint, ...(stillFree?.length ? { freed: stillFree } : {}) });
  if (hints.size > maxHints) hints.delete(hints.keys().next().value as string);
}

/** Remembers a slot this process just released. */
export function rememberFreed(
  tableName: string,
  resourceId: string,
  slot: { concurrencyId: number; fencingToken: number },
): void {
  const hint = recallHint(tableName, resourceId);
  if (!hint) return;
  hint.freed = [
    ...(hint.freed ?? []).filter((freed) => freed.concurrencyId !== slot.concurrencyId),
    slot,
  ].slice(-maxFreed);
}

/** Takes the slot this process released last, if any (each is handed to one new object). */
export function takeFreed(
  tableName: string,
  resourceId: string,
): { concurrencyId: number; fencingToken: number } | undefined {
  return recallHint(tableName, resourceId)?.freed?.pop();
}

/**
 * Per resource, what the objects of this process are doing to its slots right now: which slots
 * they are writing (counted, so two writers of one slot are both seen) and when each slot was
 * last granted here. Another object that read a slot free only collides with such a write, or
 * with a grant that came after its read. Bounded like the hints: the least recent goes first.
 */
interface Neighbourhood {
  writing: Map<number, number>;
  grantedAtMs: Map<number, number>;
  /** Leases objects of this process hold, per slot, until their `release()` (whatever it answers). */
  holding: Map<number, number>;
}
const neighbourhoods = new Map<string, Neighbourhood>();

function neighbourhoodOf(tableName: string, resourceId: string): Neighbourhood {
  const key = keyOf(tableName, resourceId);
  const found = neighbourhoods.get(key) ?? { writing: new Map(), grantedAtMs: new Map(), holding: new Map() };
  neighbourhoods.delete(key);
  neighbourhoods.set(key, found);
  if (neighbourhoods.size > maxHints) neighbourhoods.delete(neighbourhoods.keys().next().value as string);
  return found;
}

/**
 * Marks a slot as being written by an object of this process; answers the function that clears
 * the mark once the answer is in, noting whether the write was granted.
 */
export function markWriting(
  tableName: string,
  resourceId: string,
  concurrencyId: number,
): (granted: boolean) => void {
  const { writing, grantedAtMs, holding } = neighbourhoodOf(tableName, resourceId);
  countUp(writing, concurrencyId);
  // Whoever writes a freed slot took it: no later object is handed it for a blind write.
  const hint = hints.get(keyOf(tableName, resourceId));
  if (hint?.freed) hint.freed = hint.freed.filter((slot) => slot.concurrencyId !== concurrencyId);
  return (granted) => {
    countDown(writing, concurrencyId);
    if (!granted) return;
    grantedAtMs.set(concurrencyId, performance.now());
    countUp(holding, concurrencyId);
  };
}

/** Notes that an object of this process gave up its lease on a slot (its `release()` ran). */
export function noteReleased(tableName: string, resourceId: string, concurrencyId: number): void {
  const neighbourhood = neighbourhoods.get(keyOf(tableName, resourceId));
  if (neighbourhood) countDown(neighbourhood.holding, concurrencyId);
}

/**
 * Whether an object of this process holds a lease on the slot: a blind write there is sure to
 * be refused. A lease that ended unreleased stays counted; it costs its slot's next blind write,
 * turned into a read first, and nothing else.
 */
export function heldHere(tableName: string, resourceId: string, concurrencyId: number): boolean {
  return neighbourhoods.get(keyOf(tableName, resourceId))?.holding.has(concurrencyId) ?? false;
}

/**
 * Whether an object of this process is writing the slot or holds a lease on it: a blind write
 * there would only collide with it.
 */
export function busyHere(tableName: string, resourceId: string, concurrencyId: number): boolean {
  const neighbourhood = neighbourhoods.get(keyOf(tableName, resourceId));
  return (neighbourhood?.writing.has(concurrencyId) || neighbourhood?.holding.has(concurrencyId)) ?? false;
}

function countUp(counts: Map<number, number>, slot: number): void {
  counts.set(slot, (counts.get(slot) ?? 0) + 1);
}

function countDown(counts: Map<number, number>, slot: number): void {
  const left = (counts.get(slot) ?? 1) - 1;
  if (left > 0) counts.set(slot, left);
  else counts.delete(slot);
}

/**
 * Whether a slot that a read begun at `readStartedMs` (`performance.now()`) saw free is spoken
 * for inside this process: being written by another of its objects, or granted to one since the
 * read began. (A slot released here and not yet handed on is fair game: writing it takes it off
 * the freed list.)
 */
export function spokenFor(
  tableName: string,
  resourceId: string,
  concurrencyId: number,
  readStartedMs: number,
): boolean {
  const key = keyOf(tableName, resourceId);
  const neighbourhood = neighbourhoods.get(key);
  if (neighbourhood?.writing.has(concurrencyId)) return true;
  return (neighbourhood?.grantedAtMs.get(concurrencyId) ?? Number.NEGATIVE_INFINITY) >= readStartedMs;
}

/** How many resources are remembered (for tests). */
export function hintCount(): number {
  return hints.size;
}
