import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What can go wrong at the SDK boundary, on the wire (below the SDK's own retries):
 * - `throttle`: the service refuses with a throttling error, the request did not land;
 * - `server-error`: a 500 answer, the request did not land;
 * - `lose-answer`: the request landed, its answer was lost (a reset connection, a time-out);
 * - `lost-request`: the request never arrived (a time-out before sending);
 * - `duplicate`: the request is delivered twice, the caller sees the second answer;
 * - `crash`: the calling process dies here (nothing after this call runs in a real Lambda);
 * - `late`: the request is held back for `lateMs` before it is sent.
 */
export type Fault =
  | 'throttle'
  | 'server-error'
  | 'lose-answer'
  | 'lost-request'
  | 'duplicate'
  | 'crash'
  | 'late';

/** A rule: the next `times` calls of `command` (matching `when`) get `fault`. */
export interface FaultRule {
  command: string;
  fault: Fault;
  times?: number;
  when?: (input: Record<string, unknown>) => boolean;
  lateMs?: number;
}

/** Random faults on every matching call, with probability `rate`, drawn with `random`. */
export interface ChaosRule {
  commands: string[];
  faults: Fault[];
  rate: number;
  random: () => number;
  lateMs?: number;
}

type Handler = (args: { input: object }) => Promise<{ output: unknown; response: unknown }>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;

/** Any AWS SDK v3 client: all this needs is its middleware stack. */
export interface WithMiddleware {
  middlewareStack: { add(middleware: Middleware, options: Record<string, unknown>): void };
}

/** An error shaped as the SDK shapes a service or network error. */
function sdkError(name: string, message: string, extra: Record<string, unknown>): Error {
  return Object.assign(new Error(message), { name, ...extra });
}

const throttlingNames: Record<string, string> = {
  dynamodb: 'ProvisionedThroughputExceededException',
  default: 'ThrottlingException',
};

/**
 * Injects faults into real clients through a middleware, not a mock: every call that is not
 * faulted goes to the real (local) service, and a faulted one fails the way the network or the
 * service would. Counts the faults it injected by kind, and the calls that reached the service.
 */
export class FaultInjector {
  readonly injected = new Map<Fault, number>();
  readonly sent = new Map<string, number>();
  #rules: Array<FaultRule & { left: number }> = [];
  #chaos: ChaosRule | undefined;
  #paused = false;

  /** Faults the next matching calls. */
  arm(rule: FaultRule): this {
    this.#rules.push({ ...rule, left: rule.times ?? 1 });
    return this;
  }

  /** Faults matching calls at random until `calm()`. */
  chaos(rule: ChaosRule): this {
    this.#chaos = rule;
    return this;
  }

  /** Removes every rule; counts stay. */
  calm(): this {
    this.#rules = [];
    this.#chaos = undefined;
    return this;
  }

  /** Suspends injection while `fn` runs (for the test's own checks through a faulty client). */
  async paused<T>(fn: () => Promise<T>): Promise<T> {
    this.#paused = true;
    try {
      return await fn();
    } finally {
      this.#paused = false;
    }
  }

  /** How many faults were injected in all. */
  get total(): number {
    return [...this.injected.values()].reduce((sum, count) => sum + count, 0);
  }

  /** Calls that reached the service, in all or of one command. */
  sentCount(command?: string): number {
    if (command) return this.sent.get(command) ?? 0;
    return [...this.sent.values()].reduce((sum, count) => sum + count, 0);
  }

  /** Installs the middleware on a client (inside the SDK's retry loop, around deserialisation). */
  attach<Client extends WithMiddleware>(client: Client, service: 'dynamodb' | 'sqs' | 'sfn'): Client {
    const middleware: Middleware = (next, context) => async (args) => {
      const command = String(context.commandName ?? '').replace(/Command$/, '');
      const send = () => {
        this.sent.set(command, (this.sent.get(command) ?? 0) + 1);
        return next(args);
      };
      const picked = this.#pick(command, args.input as Record<string, unknown>);
      if (!picked) return send();
      this.injected.set(picked.fault, (this.injected.get(picked.fault) ?? 0) + 1);
      switch (picked.fault) {
        case 'throttle':
          throw sdkError(throttlingNames[service] ?? 'ThrottlingException', 'Rate exceeded (injected)', {
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            $retryable: { throttling: true },
          });
        case 'server-error':
          throw sdkError('InternalServerError', 'Internal server error (injected)', {
            $fault: 'server',
            $metadata: { httpStatusCode: 500 },
          });
        case 'lost-request':
          throw sdkError('TimeoutError', 'Connection timed out before sending (injected)', {
            code: 'ETIMEDOUT',
            $metadata: {},
          });
        case 'lose-answer':
          await send().catch(() => undefined);
          throw sdkError('TimeoutError', 'socket hang up after the request was sent (injected)', {
            code: 'ECONNRESET',
            $metadata: {},
          });
        case 'duplicate':
          await send().catch(() => undefined);
          return send();
        case 'crash':
          throw sdkError('Runtime.ExitError', 'The process crashed here (injected)', {});
        case 'late':
          await sleep(picked.lateMs ?? 1_000);
          return send();
      }
    };
    client.middlewareStack.add(middleware, {
      step: 'deserialize',
      priority: 'high',
      name: `faultInjector${Math.random().toString(36).slice(2, 8)}`,
    });
    return client;
  }

  #pick(command: string, input: Record<string, unknown>): { fault: Fault; lateMs?: number } | undefined {
    if (this.#paused) return undefined;
    const rule = this.#rules.find(
      (candidate) => candidate.left > 0 && candidate.command === command && (candidate.when?.(input) ?? true),
    );
    if (rule) {
      rule.left--;
      return { fault: rule.fault, ...(rule.lateMs === undefined ? {} : { lateMs: rule.lateMs }) };
    }
    const chaos = this.#chaos;
    if (!chaos?.commands.includes(command) || chaos.random() >= chaos.rate) return undefined;
    const fault = chaos.faults[Math.floor(chaos.random() * chaos.faults.length)] as Fault;
    return { fault, ...(chaos.lateMs === undefined ? {} : { lateMs: chaos.lateMs }) };
  }
}
