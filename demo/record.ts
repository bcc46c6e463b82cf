/** What the demo knows of one execution. */
export interface ExecutionRecord {
  index: number;
  executionArn: string;
  failOnPurpose: boolean;
  startedMs: number;
  /** When the slot was granted (lease end minus lease length), the slot, and the wait before it. */
  grant?: { atMs: number; slot: number; waitedMs: number };
  work?: { startMs: number; endMs: number };
  status?: string;
  /** How it failed (`error: cause`), from its status-change event. */
  failure?: string;
  endedMs?: number;
}

/** The lease length of the example state machine (`exampleStateMachine`'s default). */
export const exampleLeaseMs = 300_000;
