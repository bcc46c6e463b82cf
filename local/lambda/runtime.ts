import { LambdaServiceError } from './errors.js';
import { invokeFunction } from './invoke-function.js';
import { LocalFunction, type LocalFunctionDefinition } from './local-function.js';
import { defaultLogger, describeError, type LocalLogger } from './logger.js';
import { MetricLines } from './metric-lines.js';
import { SqsEventSourceMapping } from './sqs-event-source.js';
import type { SqsEventSourceOptions } from './sqs-event-source-options.js';

/**
 * Options of {@link LocalLambdaRuntime}.
 *
 * @example
 * new LocalLambdaRuntime({ region: 'eu-west-1', accountId: '111122223333', logger: () => {} });
 */
export interface LocalLambdaRuntimeOptions {
  /** Region in function ARNs. Default: `AWS_REGION`, else `us-east-1`. */
  region?: string;
  /** Account id in function ARNs. Default `123456789012`. */
  accountId?: string;
  /** Where one-line events go. Default: stderr, silent under vitest. */
  logger?: LocalLogger;
}

/**
 * A running SQS trigger.
 *
 * @example
 * const trigger = runtime.addSqsEventSource({ functionName: 'worker', queueUrl });
 * await trigger.stop();
 */
export interface SqsEventSourceHandle {
  /** Stops polling at once and waits, bounded by the function's timeout, for batches in flight. */
  stop(): Promise<void>;
}

const ARN_PATTERN = /^arn:aws[a-z-]*:lambda:([^:]+):([0-9]{12}):function:([^:]+)(?::(.+))?$/;

/**
 * Lambda in this process: functions registered by name, invoked like a RequestResponse Invoke
 * with a real-looking context and timeout, and SQS triggers (event source mappings).
 *
 * @example
 * const runtime = new LocalLambdaRuntime({ logger: () => {} });
 * const arn = runtime.register({ name: 'echo', handler: async (event) => event });
 * await runtime.invoke(arn, { hello: 'world' }); // { hello: 'world' }
 * runtime.addSqsEventSource({ functionName: 'echo', queueUrl, sqsEndpoint: sqs.endpoint });
 * await runtime.stop();
 */
export class LocalLambdaRuntime {
  readonly region: string;
  readonly accountId: string;
  readonly #logger: LocalLogger;
  /** The EMF metric lines the functions wrote (a deployed Lambda's stdout goes to CloudWatch Logs). */
  readonly metricLines = new MetricLines();
  readonly #functions = new Map<string, LocalFunction>();
  readonly #mappings = new Set<SqsEventSourceMapping>();
  /** Invocations in flight, with the name of their function. */
  readonly #invocations = new Map<Promise<unknown>, string>();

  constructor(options: LocalLambdaRuntimeOptions = {}) {
    this.region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.#logger = options.logger ?? defaultLogger;
  }

  /**
   * Registers a function and returns its ARN, `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
   * A name can be registered once, as CreateFunction refuses an existing name.
   */
  register(definition: LocalFunctionDefinition): string {
    if (this.#functions.has(definition.name)) {
      throw new LambdaServiceError('ResourceConflictException', `Function already exist: ${definition.name}`);
    }
    const arn = `arn:aws:lambda:${this.region}:${this.accountId}:function:${definition.name}`;
    this.#functions.set(definition.name, new LocalFunction(definition, arn));
    return arn;
  }

  /** Whether a function answers to this name or ARN (unqualified, or qualified `$LATEST`). */
  has(nameOrArn: string): boolean {
    return this.#find(nameOrArn) !== undefined;
  }

  /**
   * Invokes a function and resolves its result after a JSON round trip. Rejects with a
   * `LambdaFunctionError` (name = Lambda's errorType: the thrown error's name, or
   * `Sandbox.Timedout`), or a `LambdaServiceError` named `ResourceNotFoundException`.
   */
  invoke(nameOrArn: string, event: unknown): Promise<unknown> {
    return this.#invoke(nameOrArn, event, true);
  }

  /**
   * Adds an SQS trigger for a registered function and starts polling. The queue's own
   * RedrivePolicy moves messages that keep failing to its dead-letter queue.
   */
  addSqsEventSource(options: SqsEventSourceOptions): SqsEventSourceHandle {
    const fn = this.#find(options.functionName);
    if (!fn) {
      throw new LambdaServiceError(
        'ResourceNotFoundException',
        `Function not found: ${options.functionName}`,
      );
    }
    const mapping = new SqsEventSourceMapping(
      { ...options, functionName: fn.name },
      {
        // The mapping logs its failed batches itself: one line per event.
        invoke: (name, event) => this.#invoke(name, event, false),
        logger: this.#logger,
        region: this.region,
        stopGraceMs: fn.timeoutSeconds * 1000 + 2000,
      },
    );
    this.#mappings.add(mapping);
    mapping.start();
    return {
      stop: async () => {
        await mapping.stop();
        this.#mappings.delete(mapping);
      },
    };
  }

  /** Stops every SQS trigger and waits for invocations in flight, at most the longest timeout. */
  async stop(): Promise<void> {
    await Promise.all([...this.#mappings].map((mapping) => mapping.stop()));
    this.#mappings.clear();
    const longest = Math.max(0, ...[...this.#functions.values()].map((fn) => fn.timeoutSeconds * 1000));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#invocations.keys()]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, longest + 100);
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * How many invocations of a function are running now: a test waits for none before it arms a
   * fault meant for another function's call, or a late step of this one would meet it.
   */
  running(nameOrArn: string): number {
    const name = this.#find(nameOrArn)?.name;
    return [...this.#invocations.values()].filter((running) => running === name).length;
  }

  #invoke(nameOrArn: string, event: unknown, logFailure: boolean): Promise<unknown> {
    const fn = this.#find(nameOrArn);
    if (!fn) {
      return Promise.reject(
        new LambdaServiceError('ResourceNotFoundException', `Function not found: ${nameOrArn}`),
      );
    }
    const invocation = invokeFunction(fn, event);
    this.#invocations.set(invocation, fn.name);
    invocation.then(
      () => this.#invocations.delete(invocation),
      (error: unknown) => {
        this.#invocations.delete(invocation);
        if (logFailure) this.#logger(`invoke ${fn.name} failed: ${describeError(error)}`);
      },
    );
    return invocation;
  }

  #find(nameOrArn: string): LocalFunction | undefined {
    const match = ARN_PATTERN.exec(nameOrArn);
    if (!match) return this.#functions.get(nameOrArn);
    const [, region, account, name = '', qualifier] = match;
    if (region !== this.region || account !== this.accountId) return undefined;
    if (qualifier !== undefined && qualifier !== '$LATEST') return undefined;
    return this.#functions.get(name);
  }
}
