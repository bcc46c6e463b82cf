import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { LambdaFunctionError } from './errors.js';

/**
 * A handler as the local runtime calls it. The event is typed by the handler itself (an
 * `SQSEvent`, a step's input), hence `any`.
 *
 * @example
 * const handler: LocalHandler = async (event: SQSEvent) => ({ batchItemFailures: [] });
 */
// biome-ignore lint/suspicious/noExplicitAny: each handler declares its own event type
export type LocalHandler = (event: any, context: Context) => Promise<unknown>;

/**
 * One function for {@link LocalLambdaRuntime.register}: a handler value, or a module path and
 * export name imported on first use (so registering does not load the function's code).
 *
 * @example
 * runtime.register({ name: 'dynamo-dlm-count', modulePath: 'functions/count.ts', timeoutSeconds: 10 });
 * runtime.register({ name: 'echo', handler: async (event) => event });
 */
export interface LocalFunctionDefinition {
  /** The function name, e.g. `dynamo-dlm-acquire`. */
  name: string;
  /** The handler itself; give either this or `modulePath`. */
  handler?: LocalHandler;
  /** Module to import lazily: absolute, or relative to `process.cwd()`. */
  modulePath?: string;
  /** The module's export to call. Default `handler`. */
  exportName?: string;
  /** Seconds before the invocation fails with `Sandbox.Timedout`. Default 3, like Lambda; fractions allowed. */
  timeoutSeconds?: number;
  /** Shown as `context.memoryLimitInMB`. Default 128. */
  memorySizeMb?: number;
  /**
   * The function's environment. Handlers run in this process and share `process.env`, so it is
   * not applied; it is exposed as `context.environment` (see `LocalLambdaContext`).
   */
  environment?: Record<string, string>;
}

/**
 * A registered function: its configuration and its handler, loaded once.
 *
 * @example
 * const fn = new LocalFunction({ name: 'echo', handler: async (e) => e }, arn);
 * const handler = await fn.load();
 */
export class LocalFunction {
  readonly name: string;
  readonly arn: string;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly #definition: LocalFunctionDefinition;
  #loading: Promise<LocalHandler> | undefined;

  constructor(definition: LocalFunctionDefinition, arn: string) {
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(definition.name)) {
      throw new Error(`Invalid function name "${definition.name}": 1 to 64 letters, digits, - or _`);
    }
    if (Boolean(definition.handler) === Boolean(definition.modulePath)) {
      throw new Error(`Function ${definition.name}: give either handler or modulePath`);
    }
    const timeout = definition.timeoutSeconds ?? 3;
    if (!(timeout > 0)) throw new Error(`Function ${definition.name}: timeoutSeconds must be > 0`);
    this.name = definition.name;
    this.arn = arn;
    this.timeoutSeconds = timeout;
    this.memorySizeMb = definition.memorySizeMb ?? 128;
    this.environment = Object.freeze({ ...definition.environment });
    this.#definition = definition;
  }

  /** The handler; module errors use the Lambda runtime's error types. */
  load(): Promise<LocalHandler> {
    const { handler } = this.#definition;
    if (handler) return Promise.resolve(handler);
    this.#loading ??= this.#import();
    // A failed import is retried on the next invocation, as a new Lambda sandbox would.
    this.#loading.catch(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #import(): Promise<LocalHandler> {
    const modulePath = this.#definition.modulePath ?? '';
    const exportName = this.#definition.exportName ?? 'handler';
    const file = isAbsolute(modulePath) ? modulePath : resolve(process.cwd(), modulePath);
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new LambdaFunctionError(
        'Runtime.ImportModuleError',
        `Error: Cannot load ${modulePath}: ${message}`,
        {
          cause: error,
        },
      );
    }
    const exported = module[exportName];
    if (typeof exported !== 'function') {
      throw new LambdaFunctionError(
        'Runtime.HandlerNotFound',
        `${modulePath}.${exportName} is undefined or not exported`,
      );
    }
    return exported as LocalHandler;
  }
}
