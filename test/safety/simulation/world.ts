import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import type { Scheduler } from 'fast-check';
import { DynamoDbLock } from '../../../core/dynamo-db-lock.js';
import { answerMarginMs } from '../../../core/waiting/lifecycle.js';
import { readResource } from '../../../core/waiting/read-resource.js';
import { releaseCodeOf, requestKeyOf } from '../../../core/waiting/request.js';
import { requestTableNameFor, type WaitingStore } from '../../../core/waiting/waiting-store.js';
import { handler as acquire } from '../../../functions/acquire.js';
import { handler as cleanup } from '../../../functions/cleanup.js';
import { useClients } from '../../../functions/lib/clients.js';
import { handler as release } from '../../../functions/release.js';
import { handler as retry } from '../../../functions/retry.js';
import { handler as sweeper } from '../../../functions/sweeper.js';
import { recordingLogger } from '../../support/recording-logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { ArrivalOrder, actor } from './arrival-order.js';
import {
  CallGate,
  gatedDynamoDb,
  type PlannedFault,
  SimulatedQueue,
  SimulatedStepFunctions,
} from './services.js';

/** One workflow execution of the scenario: acquire, work, release (or not), maybe stopped. */
export interface ExecutionPlan {
  startMs: number;
  workMs: number;
  waitSeconds: number;
  /** It ends without calling release (its lease is the backstop). */
  skipsRelease: boolean;
  /** Stopped (aborted) this long after its start, whatever it was doing. */
  stopAfterMs?: number;
  /** The slots it asks for at once (at most the scenario's concurrency); default 1. */
  permits?: number;
}

/** A scenario: one resource, its executions, a library client, and the planned faults. */
export interface Scenario {
  concurrency: number;
  leaseSeconds: number;
  executions: ExecutionPlan[];
  /**
   * A library client (a Python service, say) that tries for a free slot every `everyMs` from
   * `atMs` on, for a minute, and holds what it gets for `holdMs`: it takes any slot whose lease
   * ended, so a grant answered after its lease would put two on one slot.
   */
  library?: { atMs: number; holdMs: number; everyMs: number };
  /**
   * Whether the sweeper runs. Without it, the retry loop alone must answer every request: the
   * faults are then lost and duplicated answers only, never a crash (a crash is what the
   * sweeper is for).
   */
  sweeper: boolean;
  faults: PlannedFault[];
}

/** The permits an execution asks for: its own number, at most the scenario's concurrency. */
function permitsOf(plan: ExecutionPlan, scenario: Scenario): number {
  return Math.min(plan.permits ?? 1, scenario.concurrency);
}

/** Settings of the simulated service (the functions read them from the environment). */
export const simulated = { retryBaseSeconds: 1, retryCapSeconds: 8, sweepMs: 60_000, visibilityMs: 60_000 };

/**
 * How long after `waitSeconds` every request must have ended. With the sweeper: one back-off
 * cap, the turn's grace (20 s) and one sweep interval (a lost turn is re-driven by the next sweep
 * after its due time), an answer's grace (30 s) and a sweep for a grant whose answer was lost,
 * and 10 s of slack. Without it: one cap, one visibility timeout for each injected fault (a
 * turn that failed on a lost call comes back only when its message does; seed 96198478 lost a
 * turn's SendMessage and then its Lock.Timeout answer: two timeouts, 133.7 s) and 10 s of slack.
 */
export function endBoundMs(sweeper: boolean, faults: number): number {
  const cap = simulated.retryCapSeconds * 1000;
  return sweeper
    ? cap + 20_000 + 30_000 + 2 * simulated.sweepMs + 10_000
    : cap + Math.max(1, faults) * simulated.visibilityMs + 10_000;
}

interface Holder {
  who: string;
  slot: number;
  startMs: number;
  endMs: number;
}

/** A broken promise of the protocol, with the trace that led to it. */
export class Violation extends Error {
  override name = 'Violation';
}

/** How far time moves while calls wait at their gates, at one tick. */
const maxTickMs = 400;

/**
 * Longest an answer to a task may wait at its gate while time passes: the README's assumption
 * that an answer reaches Step Functions within the margin (at least 1 s) of being sent.
 */
const answerLatencyMs = 800;

/**
 * One run of the simulation: real functions against DynamoDB Local, with a simulated queue, Step
 * Functions and clock; the scheduler interleaves every call; invariants are checked as it goes.
 */
export class World {
  readonly clock = new FakeClock(Date.now());
  readonly gate: CallGate;
  readonly queue: SimulatedQueue;
  readonly sfn: SimulatedStepFunctions;
  readonly trace: string[] = [];
  readonly holders: Holder[] = [];
  readonly endedAt = new Map<number, { at: number; how: string }>();
  #events: Array<{ atMs: number; what: string; fire: () => void }> = [];
  readonly #violations: Violation[] = [];
  #running = 0;
  #spawned = 0;
  #tickPending = false;
  readonly t0: number;
  readonly arrivalOrder: ArrivalOrder;
  /** Executions by the key of their request, for the messages. */
  readonly #names = new Map<number, string>();

  constructor(
    readonly scheduler: Scheduler,
    readonly scenario: Scenario,
    readonly resourceId: string,
    readonly tableName: string,
    readonly dynamodb: DynamoDBClient,
  ) {
    this.gate = new CallGate(scheduler, scenario.faults, this.clock.now);
    this.queue = new SimulatedQueue(this.gate, this.clock.now, simulated.visibilityMs);
    this.sfn = new SimulatedStepFunctions(this.gate);
    this.t0 = this.clock.now();
    this.gate.onCall = (what) => this.trace.push(`${this.clock.now() - this.t0} ms:   ${what}`);
    this.arrivalOrder = new ArrivalOrder(
      this.#realStore(),
      resourceId,
      (requestKey) => this.#names.get(requestKey) ?? `request ${requestKey}`,
      (message) => this.#violation(message),
    );
    useClients({
      dynamodb: gatedDynamoDb(this.gate, dynamodb, (command) => this.arrivalOrder.landed(command)),
      sqs: this.queue.client,
      sfn: this.sfn.client,
      clock: this.clock.now,
    });
  }

  /** Runs the scenario to its end and checks what must hold afterwards. */
  async run(): Promise<void> {
    for (const [index, plan] of this.scenario.executions.entries()) this.#plan(index, plan);
    if (this.scenario.library) this.#planLibrary(this.scenario.library);
    for (let at = simulated.sweepMs; this.scenario.sweeper && at < this.#horizonMs(); at += simulated.sweepMs)
      this.#at(this.t0 + at, 'sweep', () => this.#spawn('sweeper', () => sweeper({}, this.#context())));
    while (await this.#step()) {
      // A violation seen inside an actor's call (an answer delivered onto a held slot) would be
      // caught by the function that made the call: it is kept, and thrown here.
      if (this.#violations[0]) throw this.#violations[0];
      this.#checkDeadlines();
    }
    if (this.#violations[0]) throw this.#violations[0];
    await this.#checkNothingLeft();
  }

  #horizonMs(): number {
    const lastEnd = Math.max(
      ...this.scenario.executions.map((plan) => plan.startMs + plan.waitSeconds * 1000 + plan.workMs),
    );
    return (
      lastEnd +
      endBoundMs(this.scenario.sweeper, this.scenario.faults.length) +
      this.scenario.leaseSeconds * 1000 +
      2 * simulated.sweepMs
    );
  }

  #plan(index: number, plan: ExecutionPlan): void {
    const executionArn = `arn:aws:states:us-east-1:000000000000:execution:sim:${this.resourceId}-${index}`;
    const token = `token-${this.resourceId}-${index}-${'x'.repeat(40)}`;
    const who = `exec-${index}`;
    const permits = permitsOf(plan, this.scenario);
    this.#names.set(requestKeyOf(releaseCodeOf(token)), who);
    this.#at(this.t0 + plan.startMs, `${who} starts`, () => {
      this.sfn.executions.set(executionArn, 'RUNNING');
      this.sfn.tasks.set(token, {
        token,
        executionArn,
        status: 'waiting',
        onSuccess: (output) => this.#granted(index, who, plan, output, executionArn),
        onFailure: (error) => {
          // Every request of the scenario is valid: refusing one is a broken promise too.
          if (error === 'Lock.InvalidRequest')
            this.#violation(`${who} (${permits} permits) was refused: ${error}`);
          this.#ended(index, `failed ${error}`, executionArn, 'FAILED');
        },
      });
      this.#spawn(`${who} acquire`, async () => {
        try {
          await acquire(
            {
              taskToken: token,
              resourceId: this.resourceId,
              concurrency: this.scenario.concurrency,
              leaseSeconds: this.scenario.leaseSeconds,
              waitSeconds: plan.waitSeconds,
              owner: executionArn,
              ...(permits > 1 ? { permits } : {}),
            },
            this.#context(),
          );
        } catch (error) {
          // A failed invocation fails a task that nobody answered; an answered task ignores it.
          const task = this.sfn.tasks.get(token);
          if (task?.status === 'waiting') {
            task.status = 'failed';
            this.#ended(index, `acquire failed: ${(error as Error).name}`, executionArn, 'FAILED');
          }
        }
      });
    });
    if (plan.stopAfterMs !== undefined) {
      this.#at(this.t0 + plan.startMs + plan.stopAfterMs, `${who} stopped`, () => {
        const task = this.sfn.tasks.get(token);
        if (this.sfn.executions.get(executionArn) !== 'RUNNING' || !task) return;
        if (task.status === 'waiting') task.status = 'stopped';
        for (const holder of this.holders)
          if (holder.who === who) holder.endMs = Math.min(holder.endMs, this.clock.now());
        this.#ended(index, 'stopped', executionArn, 'ABORTED');
      });
    }
  }

  #granted(index: number, who: string, plan: ExecutionPlan, output: string, executionArn: string): void {
    const lease = JSON.parse(output) as {
      concurrencyId: number;
      releaseCode: string;
      expiresAt: string;
      slots?: Array<{ concurrencyId: number }>;
    };
    const nowMs = this.clock.now();
    const expiresAtMs = Date.parse(lease.expiresAt);
    if (expiresAtMs < nowMs + answerMarginMs(this.scenario.leaseSeconds * 1000) - answerLatencyMs)
      this.#violation(`${who} was answered a lease with ${expiresAtMs - nowMs} ms left (margin broken)`);
    const slots = (lease.slots ?? [lease]).map((slot) => slot.concurrencyId);
    const permits = permitsOf(plan, this.scenario);
    if (new Set(slots).size !== permits || slots[0] !== lease.concurrencyId)
      this.#violation(`${who} asked for ${permits} permits and was answered slots ${slots.join(', ')}`);
    for (const slot of slots) this.#hold(who, slot, expiresAtMs);
    this.endedAt.set(index, { at: nowMs, how: 'granted' });
    this.#at(nowMs + plan.workMs, `${who} work done`, () => {
      if (this.sfn.executions.get(executionArn) !== 'RUNNING') return;
      for (const holder of this.holders)
        if (holder.who === who) holder.endMs = Math.min(holder.endMs, this.clock.now());
      if (plan.skipsRelease) return this.#ended(index, 'granted', executionArn, 'SUCCEEDED');
      this.#spawn(`${who} release`, async () => {
        try {
          await release(
            {
              resourceId: this.resourceId,
              concurrencyId: lease.concurrencyId,
              releaseCode: lease.releaseCode,
              ...(lease.slots ? { slots: lease.slots } : {}),
            },
            this.#context(),
          );
          this.#ended(index, 'granted', executionArn, 'SUCCEEDED');
        } catch {
          this.#ended(index, 'granted', executionArn, 'FAILED');
        }
      });
    });
  }

  #planLibrary({ atMs, holdMs, everyMs }: { atMs: number; holdMs: number; everyMs: number }): void {
    const lock = new DynamoDbLock(this.resourceId, {
      concurrency: this.scenario.concurrency,
      duration: this.scenario.leaseSeconds,
      tableName: this.tableName,
      client: gatedDynamoDb(this.gate, this.dynamodb) as DynamoDBClient,
      clock: this.clock.now,
      logger: recordingLogger(),
    });
    let busy = false;
    const attempt = () => {
      if (busy) return;
      busy = true;
      this.#spawn('library tryAcquire', async () => {
        const taken = await lock.tryAcquire().catch(() => false);
        const lease = lock.lease;
        if (!taken || !lease) {
          busy = false;
          return;
        }
        this.#hold('library', lease.concurrencyId, lease.expiresAtMs);
        this.#at(this.clock.now() + holdMs, 'library releases', () => {
          for (const holder of this.holders)
            if (holder.who === 'library') holder.endMs = Math.min(holder.endMs, this.clock.now());
          this.#spawn('library release', async () => {
            await lock.release().catch(() => false);
            busy = false;
          });
        });
      });
    };
    for (let at = atMs; at < atMs + 60_000; at += everyMs) this.#at(this.t0 + at, 'library tries', attempt);
  }

  /** Never two holders of one slot with unexpired leases, never a slot outside 0..K-1. */
  #hold(who: string, slot: number, leaseEndMs: number): void {
    const nowMs = this.clock.now();
    if (slot < 0 || slot >= this.scenario.concurrency)
      this.#violation(`${who} got slot ${slot} of ${this.scenario.concurrency}`);
    for (const other of this.holders) {
      if (other.slot === slot && other.startMs <= nowMs && nowMs < other.endMs)
        this.#violation(`${who} got slot ${slot} while ${other.who} held it until ${other.endMs - this.t0}`);
    }
    this.holders.push({ who, slot, startMs: nowMs, endMs: leaseEndMs });
    this.trace.push(`${nowMs - this.t0} ms: ${who} holds slot ${slot} until ${leaseEndMs - this.t0}`);
    // The permits in use, whoever holds them: never more than the concurrency.
    const inUse = this.holders.filter((holder) => holder.startMs <= nowMs && nowMs < holder.endMs).length;
    if (inUse > this.scenario.concurrency)
      this.#violation(`${inUse} permits held at once, concurrency ${this.scenario.concurrency}`);
  }

  #ended(index: number, how: string, executionArn: string, status: 'SUCCEEDED' | 'FAILED' | 'ABORTED'): void {
    if (!this.endedAt.has(index)) this.endedAt.set(index, { at: this.clock.now(), how });
    if (this.sfn.executions.get(executionArn) !== 'RUNNING') return;
    this.sfn.executions.set(executionArn, status);
    this.trace.push(`${this.clock.now() - this.t0} ms: exec-${index} ${status} (${how})`);
    for (const task of this.sfn.tasks.values())
      if (task.executionArn === executionArn && task.status === 'waiting') task.status = 'stopped';
    if (status === 'SUCCEEDED') return;
    // EventBridge's status event, a moment later, to the cleanup function.
    this.#at(this.clock.now() + 500, `cleanup exec-${index}`, () =>
      this.#spawn(`cleanup exec-${index}`, () =>
        cleanup(
          { source: 'aws.states', account: '000000000000', detail: { executionArn, status } } as never,
          this.#context(),
        ).catch(() => undefined),
      ),
    );
  }

  /** Every request is answered (granted or Lock.Timeout) within its wait plus the bound. */
  #checkDeadlines(): void {
    for (const [index, plan] of this.scenario.executions.entries()) {
      const deadline =
        this.t0 +
        plan.startMs +
        plan.waitSeconds * 1000 +
        endBoundMs(this.scenario.sweeper, this.scenario.faults.length);
      if (!this.endedAt.has(index) && this.clock.now() > deadline)
        this.#violation(
          `exec-${index} was neither granted nor timed out by ${deadline - this.t0} ms (stranded)`,
        );
    }
  }

  /**
   * No request left behind (checked when the sweeper runs): every item of a request that ended
   * is gone, or has no token and is TTL-eligible.
   */
  async #checkNothingLeft(): Promise<void> {
    // Without the sweeper, nothing cleans up after an invocation that failed once its request was
    // answered (a lost answer to its SendTaskSuccess): that is the sweeper's work.
    if (!this.scenario.sweeper) return;
    useClients({ dynamodb: this.dynamodb });
    const { requests } = await readResource(this.#realStore(), this.resourceId);
    for (const request of requests) {
      if (request.state === 'withdrawn' || (request.state === 'timed-out' && !request.taskToken)) continue;
      this.#violation(`request ${request.requestKey} left ${request.state} at the end`);
    }
  }

  /** The tables through the real client, past the gate: for the checks' own reads. */
  #realStore(): WaitingStore {
    return {
      client: this.dynamodb,
      tableName: this.tableName,
      requestTableName: requestTableNameFor(this.tableName),
      clock: this.clock.now,
      logger: recordingLogger(),
    };
  }

  #violation(message: string): never {
    const violation = new Violation(
      `${message}\nfaults: ${this.gate.injected.join('; ') || 'none'}\ntrace:\n  ${this.trace.slice(-80).join('\n  ')}`,
    );
    this.#violations.push(violation);
    throw violation;
  }

  #context(): Context {
    return {
      getRemainingTimeInMillis: () => 10_000,
      awsRequestId: 'sim',
      // The cleanup heeds only status events of its own account.
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:sim',
    } as Context;
  }

  #at(atMs: number, what: string, fire: () => void): void {
    this.#events.push({ atMs, what, fire });
  }

  #spawn(what: string, body: () => Promise<unknown>): void {
    this.#running++;
    this.trace.push(`${this.clock.now() - this.t0} ms: ${what}`);
    void actor
      .run(`${what} #${this.#spawned++}`, body)
      .catch(() => undefined)
      .finally(() => this.#running--);
  }

  /** Waits until every actor is at a gate or done (their real calls to DynamoDB Local finish). */
  async #quiesce(): Promise<void> {
    const started = Date.now();
    while (this.#running > this.gate.atGate) {
      if (Date.now() - started > 30_000)
        throw new Error('the simulation hung: an actor neither finished nor reached a gate');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** One step: release one gate (or let time pass), or fire the next timed event. False when all is done. */
  async #step(): Promise<boolean> {
    await this.#quiesce();
    this.#deliverMessages();
    if (this.gate.atGate > 0) {
      // Time may pass while calls wait: the scheduler picks the tick like any other call.
      if (!this.#tickPending && this.#events.length > 0) {
        this.#tickPending = true;
        void this.scheduler.schedule(Promise.resolve(), 'time passes').then(() => {
          this.#tickPending = false;
          this.#advance(maxTickMs);
        });
      }
      await this.scheduler.waitOne();
      return true;
    }
    if (this.#tickPending) {
      await this.scheduler.waitOne();
      return true;
    }
    return this.#advance(Number.POSITIVE_INFINITY);
  }

  /**
   * Moves the clock to the next event (at most `byMs` ahead, and never past the latency an answer
   * waiting at its gate may have) and fires what is due.
   */
  #advance(byMs: number): boolean {
    const answerSince = this.gate.oldestAnswerWaitingSinceMs();
    if (answerSince !== undefined) byMs = Math.min(byMs, answerSince + answerLatencyMs - this.clock.now());
    if (byMs <= 0) return true;
    const nextQueue = this.queue.nextVisibleMs();
    const next = Math.min(...this.#events.map((event) => event.atMs), nextQueue ?? Number.POSITIVE_INFINITY);
    if (!Number.isFinite(next)) return false;
    const target = Math.min(next, this.clock.now() + byMs);
    if (target > this.clock.now()) this.clock.advanceTo(target);
    const due = this.#events.filter((event) => event.atMs <= this.clock.now());
    this.#events = this.#events.filter((event) => event.atMs > this.clock.now());
    for (const event of due.sort((a, b) => a.atMs - b.atMs)) event.fire();
    this.#deliverMessages();
    return true;
  }

  /** The retry queue's event source: each visible message goes to the consumer, alone. */
  #deliverMessages(): void {
    for (let message = this.queue.receive(); message; message = this.queue.receive()) {
      const delivered = message;
      this.#spawn(`retry turn ${delivered.body.slice(-40)}`, async () => {
        const event = { Records: [{ messageId: String(delivered.id), body: delivered.body }] };
        const answer = await retry(event as never, this.#context()).catch(() => ({
          batchItemFailures: [{}],
        }));
        if (answer.batchItemFailures.length === 0) this.queue.delete(delivered);
      });
    }
  }
}
