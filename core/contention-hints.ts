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

/** How many resources are remembered (for tests). */
export function hintCount(): number {
  return hints.size;
}
