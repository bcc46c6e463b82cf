import { randomBytes } from 'node:crypto';
import { SfnError } from './errors.js';
import { MAX_TIMER_MS } from './types.js';

const TOKEN = /^AQB[A-Za-z0-9_-]{64}$/;
// Closed tokens remembered so late callers hear TaskTimedOut; the oldest are forgotten first.
const MAX_CLOSED = 100_000;

/**
 * How one callback task waits: the execution's abort signal (its reason rejects the task), an
 * optional heartbeat period, an optional time-out, and the errors to fail with when they lapse.
 *
 * @example
 * tokens.issue({ signal, heartbeatSeconds: 60, timeoutSeconds: 3600, onHeartbeatLapse: () => err, onTimeout: () => err2 });
 */
export interface IssueOptions {
  signal: AbortSignal;
  /** A token made beforehand with {@link newTaskToken} (the own engine puts it in `$$.Task.Token` first). */
  token?: string;
  heartbeatSeconds?: number;
  timeoutSeconds?: number;
  onHeartbeatLapse: () => Error;
  onTimeout: () => Error;
}

interface Pending {
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
  heartbeatMs: number | undefined;
  heartbeat: NodeJS.Timeout | undefined;
  timeout: NodeJS.Timeout | undefined;
  onAbort: () => void;
  signal: AbortSignal;
  options: IssueOptions;
}

/**
 * Task tokens of callback (`.waitForTaskToken`) tasks: issues a fresh unguessable token per task
 * invocation and settles the task from SendTaskSuccess / SendTaskFailure, heartbeat lapse,
 * time-out or the end of its execution. A closed token answers `TaskTimedOut`, as on AWS. Tokens
 * are bearer secrets: no message or log line here contains one.
 *
 * @example
 * const { token, result } = tokens.issue({ signal, onHeartbeatLapse, onTimeout });
 * tokens.succeed(token, { ok: true });
 * await result; // { ok: true }
 */
export class TaskTokens {
  readonly #pending = new Map<string, Pending>();
  readonly #closed = new Set<string>();

  /** Number of tasks waiting for a token answer. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Registers a new waiting task; `result` settles when the task ends. */
  issue(options: IssueOptions): { token: string; result: Promise<unknown> } {
    const token = options.token ?? newTaskToken();
    const { signal } = options;
    let resolve!: (output: unknown) => void;
    let reject!: (error: Error) => void;
    const result = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const onAbort = () => this.#close(token)?.reject(signal.reason as Error);
    const heartbeatMs =
      options.heartbeatSeconds === undefined ? undefined : toTimerMs(options.heartbeatSeconds);
    const entry: Pending = {
      resolve,
      reject,
      heartbeatMs,
      heartbeat: undefined,
      timeout: undefined,
      onAbort,
      signal,
      options,
    };
    this.#pending.set(token, entry);
    if (signal.aborted) {
      onAbort();
      return { token, result };
    }
    signal.addEventListener('abort', onAbort, { once: true });
    // The heartbeat clock waits for `startHeartbeat`: AWS starts it when the invoke returns.
    if (options.timeoutSeconds !== undefined) {
      entry.timeout = setTimeout(
        () => this.#close(token)?.reject(options.onTimeout()),
        toTimerMs(options.timeoutSeconds),
      );
    }
    return { token, result };
  }

  /** SendTaskSuccess: the task's output becomes `output`. */
  succeed(token: string, output: unknown): void {
    this.#find(token);
    this.#close(token)?.resolve(output);
  }

  /** SendTaskFailure: the task fails with `error` (its name is the ASL error). */
  fail(token: string, error: Error): void {
    this.#find(token);
    this.#close(token)?.reject(error);
  }

  /**
   * The task's invocation returned (or, for an `Event` invocation, was handed over): its heartbeat
   * clock starts now, as on AWS, so a callback function may run longer than `HeartbeatSeconds`.
   */
  startHeartbeat(token: string): void {
    const entry = this.#pending.get(token);
    if (entry) this.#armHeartbeat(token, entry);
  }

  /** SendTaskHeartbeat: restarts the heartbeat period. */
  heartbeat(token: string): void {
    this.#armHeartbeat(token, this.#find(token));
  }

  /** Whether the task of `token` still waits. */
  isPending(token: string): boolean {
    return this.#pending.has(token);
  }

  /** Drops every timer and waiting task without settling them (endpoint shutdown). */
  clear(): void {
    for (const token of [...this.#pending.keys()]) this.#close(token);
  }

  #find(token: string): Pending {
    const entry = this.#pending.get(token);
    if (entry) return entry;
    if (!TOKEN.test(token)) throw new SfnError('InvalidToken', 'Invalid Token: the task token is malformed');
    if (this.#closed.has(token)) {
      throw new SfnError('TaskTimedOut', 'Task Timed Out: Provided task does not exist anymore');
    }
    throw new SfnError('TaskDoesNotExist', 'Task Does Not Exist: the task token is unknown');
  }

  #armHeartbeat(token: string, entry: Pending): void {
    if (entry.heartbeatMs === undefined) return;
    clearTimeout(entry.heartbeat);
    entry.heartbeat = setTimeout(
      () => this.#close(token)?.reject(entry.options.onHeartbeatLapse()),
      entry.heartbeatMs,
    );
  }

  #close(token: string): Pending | undefined {
    const entry = this.#pending.get(token);
    if (!entry) return undefined;
    this.#pending.delete(token);
    clearTimeout(entry.heartbeat);
    clearTimeout(entry.timeout);
    entry.signal.removeEventListener('abort', entry.onAbort);
    this.#closed.add(token);
    if (this.#closed.size > MAX_CLOSED) {
      const oldest = this.#closed.values().next().value;
      if (oldest !== undefined) this.#closed.delete(oldest);
    }
    return entry;
  }
}

/**
 * A fresh, unguessable task token in AWS's shape.
 *
 * @example
 * const token = newTaskToken(); // 'AQB...'
 */
export function newTaskToken(): string {
  return `AQB${randomBytes(48).toString('base64url')}`;
}

function toTimerMs(seconds: number): number {
  return Math.min(Math.max(0, Math.round(seconds * 1000)), MAX_TIMER_MS);
}
