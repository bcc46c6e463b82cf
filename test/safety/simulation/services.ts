import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Scheduler } from 'fast-check';

/**
 * The simulation's services. Every call of the protocol (DynamoDB, SQS, Step Functions) waits at
 * a gate until fast-check's scheduler lets it through, so the scheduler chooses the order in
 * which the actors' calls land; a planned fault may then strike the call.
 */

/** What can happen to one call: it never arrives, it lands but its answer is lost, it lands twice, or the caller dies at it (before or after it lands). */
export type CallFault = 'lost-request' | 'lose-answer' | 'duplicate' | 'crash' | 'crash-after';

/** The services whose calls pass a gate. */
export type Service = 'dynamodb' | 'sqs' | 'sfn';

/**
 * A fault planned for the call with this index among the calls of one service (counted per
 * service, so that the few Step Functions and SQS calls of a run meet faults as often as the
 * many DynamoDB calls).
 */
export interface PlannedFault {
  service: Service;
  at: number;
  fault: CallFault;
}

/** The gates and faults of one run, shared by its services. */
export class CallGate {
  calls = 0;
  readonly #callsOf = new Map<string, number>();
  readonly injected: string[] = [];
  atGate = 0;
  /** Told of every call that passed the gate, and how it ended. */
  onCall: (what: string) => void = () => {};

  /** Since when each answer to a task (SendTask*) has waited at the gate, by call. */
  readonly #answersWaiting = new Set<{ sinceMs: number }>();

  constructor(
    readonly scheduler: Scheduler,
    readonly faults: PlannedFault[],
    readonly clock: () => number,
  ) {}

  /** When the oldest answer to a task now waiting at the gate arrived there. */
  oldestAnswerWaitingSinceMs(): number | undefined {
    const since = [...this.#answersWaiting].map((answer) => answer.sinceMs);
    return since.length > 0 ? Math.min(...since) : undefined;
  }

  /**
   * Waits for the scheduler, then runs `call` under the planned fault. `lands` performs the call's
   * effect and answers its result.
   */
  async pass<T>(label: string, lands: () => Promise<T>): Promise<T> {
    this.atGate++;
    const answer = label.startsWith('sfn SendTask') ? { sinceMs: this.clock() } : undefined;
    if (answer) this.#answersWaiting.add(answer);
    try {
      await this.scheduler.schedule(Promise.resolve(), label);
    } finally {
      this.atGate--;
      if (answer) this.#answersWaiting.delete(answer);
    }
    const index = this.calls++;
    const service = label.split(' ')[0] ?? '';
    const ofService = this.#callsOf.get(service) ?? 0;
    this.#callsOf.set(service, ofService + 1);
    const fault = this.faults.find(
      (planned) => planned.service === service && planned.at === ofService,
    )?.fault;
    if (fault) this.injected.push(`#${index} ${label}: ${fault}`);
    try {
      const result = await this.#land(fault, lands);
      this.onCall(`#${index} ${label}${fault ? ` (${fault})` : ''}`);
      return result;
    } catch (error) {
      this.onCall(`#${index} ${label}${fault ? ` (${fault})` : ''}: ${(error as Error).name}`);
      throw error;
    }
  }

  async #land<T>(fault: CallFault | undefined, lands: () => Promise<T>): Promise<T> {
    switch (fault) {
      case 'lost-request':
        throw lostAnswer();
      case 'crash':
        throw crashed();
      case 'lose-answer':
        await lands();
        throw lostAnswer();
      case 'crash-after':
        await lands();
        throw crashed();
      case 'duplicate':
        await lands().catch(() => undefined);
        return lands();
      default:
        return lands();
    }
  }
}

/** A network failure with no answer: the store retries it (its write may or may not have landed). */
function lostAnswer(): Error {
  return Object.assign(new Error('socket hang up (simulated)'), {
    name: 'TimeoutError',
    code: 'ECONNRESET',
    $metadata: {},
  });
}

/** The calling process dies here: nothing after the call runs (nobody catches it as an answer). */
export function crashed(): Error {
  return Object.assign(new Error('the process died here (simulated)'), {
    name: 'SimulatedCrash',
    $metadata: { httpStatusCode: 400 },
  });
}

/**
 * DynamoDB Local behind the gate. `landed`, when given, sees each command that landed, inside
 * the gate (before any other call passes), so it may read the table as that call left it.
 */
export function gatedDynamoDb(
  gate: CallGate,
  real: DynamoDBClient,
  landed?: (command: never) => Promise<void>,
): Pick<DynamoDBClient, 'send'> {
  return {
    send: ((command: { constructor: { name: string } }) =>
      gate.pass(`dynamodb ${command.constructor.name.replace(/Command$/, '')}`, async () => {
        const output = await real.send(command as never);
        await landed?.(command as never);
        return output;
      })) as never,
  };
}

/** A message on the simulated retry queue. */
export interface QueuedMessage {
  id: number;
  body: string;
  visibleAtMs: number;
}

/** The retry queue: message timers, visibility timeout, at-least-once delivery. */
export class SimulatedQueue {
  readonly messages: QueuedMessage[] = [];
  #ids = 0;

  constructor(
    readonly gate: CallGate,
    readonly clock: () => number,
    readonly visibilityMs: number,
  ) {}

  readonly client = {
    send: ((command: { input: { MessageBody?: string; DelaySeconds?: number } }) =>
      this.gate.pass('sqs SendMessage', async () => {
        this.messages.push({
          id: this.#ids++,
          body: command.input.MessageBody ?? '',
          visibleAtMs: this.clock() + (command.input.DelaySeconds ?? 0) * 1000,
        });
        return {};
      })) as never,
  };

  /** Hands out a visible message and hides it for the visibility timeout. */
  receive(): QueuedMessage | undefined {
    const message = this.messages.find((candidate) => candidate.visibleAtMs <= this.clock());
    if (message) message.visibleAtMs = this.clock() + this.visibilityMs;
    return message;
  }

  delete(message: QueuedMessage): void {
    const index = this.messages.indexOf(message);
    if (index >= 0) this.messages.splice(index, 1);
  }

  nextVisibleMs(): number | undefined {
    const times = this.messages.map((message) => message.visibleAtMs);
    return times.length > 0 ? Math.min(...times) : undefined;
  }
}

/** A task of the simulated Step Functions: the first answer wins; later ones hear `TaskTimedOut`. */
export interface SimulatedTask {
  token: string;
  executionArn: string;
  status: 'waiting' | 'succeeded' | 'failed' | 'stopped';
  onSuccess: (output: string) => void;
  onFailure: (error: string) => void;
}

/** Step Functions' side of the callback pattern, as AWS documents it. */
export class SimulatedStepFunctions {
  readonly tasks = new Map<string, SimulatedTask>();
  readonly executions = new Map<string, 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED'>();

  constructor(readonly gate: CallGate) {}

  readonly client = {
    send: ((command: { constructor: { name: string }; input: Record<string, string> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      return this.gate.pass(`sfn ${name}`, async () => this.#answer(name, command.input));
    }) as never,
  };

  #answer(name: string, input: Record<string, string>) {
    if (name === 'DescribeExecution') {
      const status = this.executions.get(input.executionArn ?? '');
      if (!status) throw named('ExecutionDoesNotExist', 'no such execution');
      return { status };
    }
    const task = this.tasks.get(input.taskToken ?? '');
    if (!task) throw named('InvalidToken', 'unknown task token');
    if (task.status !== 'waiting') throw named('TaskTimedOut', 'Task Timed Out');
    if (name === 'SendTaskSuccess') {
      task.status = 'succeeded';
      task.onSuccess(input.output ?? '');
    } else if (name === 'SendTaskFailure') {
      task.status = 'failed';
      task.onFailure(input.error ?? '');
    } else if (name !== 'SendTaskHeartbeat') {
      throw new Error(`the simulation does not know ${name}`);
    }
    return {};
  }
}

function named(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
}
