/** Input of the example work: how long to hold the slot, and whether to fail (to show the release on failure). */
export interface ExampleWorkInput {
  workMs?: number;
  fail?: boolean;
}

/** The longest example work, well inside the function's 70 s timeout. */
const maxWorkMs = 60_000;

/**
 * The work of the example state machine, done while holding a slot: waits `workMs` (default
 * 1000, at most 60000) and answers how long it worked; with `fail: true` it throws afterwards,
 * so the workflow releases the slot on its failure path.
 *
 * @example
 * // Execution input: { "resourceId": "partner-api", "concurrency": 2, "workMs": 5000 }
 */
export async function handler(event: ExampleWorkInput | null): Promise<{ workedMs: number }> {
  const requested = typeof event?.workMs === 'number' && Number.isFinite(event.workMs) ? event.workMs : 1000;
  const workMs = Math.min(Math.max(0, requested), maxWorkMs);
  await new Promise((resolve) => setTimeout(resolve, workMs));
  if (event?.fail === true) throw new Error(`The example work failed on purpose after ${workMs} ms`);
  return { workedMs: workMs };
}
