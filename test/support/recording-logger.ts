import type { LockLogger } from '../../core/store.js';

/** A logger that keeps its lines for assertions. */
export function recordingLogger(): LockLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (message, details) => lines.push(`${message} ${JSON.stringify(details ?? {})}`) };
}
