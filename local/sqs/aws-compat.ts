import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { emulatorModule } from './emulator-module.js';

/**
 * Shims that make `local-aws-sqs@2.0.2` answer like SQS where the difference would change what a
 * consumer observes. Each one is measured by test/local/sqs/emulator-gaps.test.ts:
 *
 * 1. Long polling. The emulator's ReceiveMessage returns early only once it holds
 *    MaxNumberOfMessages messages; with fewer it waits the whole WaitTimeSeconds, and a message
 *    whose visibility timeout ends meanwhile is handed out again in the same answer (receive
 *    count bumped, so it can even be moved to the dead-letter queue before the answer arrives).
 *    SQS answers as soon as any message is there. The shim runs the emulator's own receive in
 *    short slices (WaitTimeSeconds 0, about 40 ms each) until a message comes or the wait ends.
 * 2. Abandoned long polls. The emulator keeps collecting messages for a client that hung up
 *    (or from a queue deleted meanwhile), hiding them for a whole visibility timeout. The shim
 *    stops at the end of the current slice: a message sent within those ~40 ms is still taken.
 * 3. `MessageSystemAttributeNames` (what the current SDK sends) is ignored by the emulator,
 *    which only knows the deprecated `AttributeNames`; the shim copies one into the other.
 * 4. ChangeMessageVisibility counts as a receive in the emulator (a hidden message reaches the
 *    dead-letter queue early); SQS counts receives only. Fixed in the emulator's source as it is
 *    loaded: `emulator-module.ts`.
 */

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
type ReceiveArgs = { VisibilityTimeout?: number; WaitTimeSeconds?: number; MaxNumberOfMessages?: number };
interface EmulatedQueue {
  service: { Queues: unknown[] };
  ReceiveMessageWaitTimeSeconds: number;
  receive(args: ReceiveArgs): Promise<unknown[]>;
}

/** Set while a request is handled: whether its client has gone away. */
const requestScope = new AsyncLocalStorage<{ closed: boolean }>();
const patched = Symbol.for('dynamo-dlm.local-sqs.receive-patched');

/**
 * Creates the emulator's request handler with the shims applied.
 *
 * @example
 * const handler = createCompatRequestHandler({ port: 9324, hostname: '127.0.0.1' });
 * createServer(handler).listen(9324, '127.0.0.1');
 */
export function createCompatRequestHandler(
  options: Parameters<ReturnType<typeof emulatorModule>['createRequestHandler']>[0],
): RequestHandler {
  patchReceive();
  const { requestHandler } = emulatorModule().createRequestHandler(options);
  return (req, res) => {
    const scope = { closed: false };
    res.on('close', () => {
      scope.closed = true;
    });
    requestScope.run(scope, () => {
      if (isJsonReceive(req)) void replayWithSystemAttributeNames(req, res, requestHandler);
      else requestHandler(req, res);
    });
  };
}

function isJsonReceive(req: IncomingMessage): boolean {
  return req.headers['x-amz-target'] === 'AmazonSQS.ReceiveMessage';
}

async function replayWithSystemAttributeNames(
  req: IncomingMessage,
  res: ServerResponse,
  handler: RequestHandler,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let body = Buffer.concat(chunks);
  try {
    const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const system = input.MessageSystemAttributeNames;
    if (Array.isArray(system)) {
      const legacy = Array.isArray(input.AttributeNames) ? input.AttributeNames : [];
      input.AttributeNames = [...new Set([...legacy, ...system])];
      delete input.MessageSystemAttributeNames;
      body = Buffer.from(JSON.stringify(input));
    }
  } catch {
    // Not JSON: the emulator answers with its own serialization error.
  }
  // The emulator reads only headers, url and the data/end events of the request.
  const replay = Object.assign(Readable.from([body]), {
    headers: req.headers,
    url: req.url,
    method: req.method,
  });
  handler(replay as unknown as IncomingMessage, res);
}

/**
 * Replaces the emulator's Queue#receive (a public method of a class the package does not export,
 * reached through a throw-away queue) once per process.
 */
function patchReceive(): void {
  const { service } = emulatorModule().createRequestHandler({
    port: 0,
    queues: [{ QueueName: 'compat-probe' }],
  });
  const probe = service.Queues[0] as unknown as EmulatedQueue | undefined;
  service.resetAll();
  if (!probe) throw new Error('local-aws-sqs did not create its probe queue: cannot apply the SQS shims');
  const prototype = Object.getPrototypeOf(probe) as EmulatedQueue & { [patched]?: boolean };
  if (prototype[patched]) return;
  const original = prototype.receive;
  prototype.receive = async function receive(this: EmulatedQueue, args: ReceiveArgs): Promise<unknown[]> {
    const waitSeconds = Number(args.WaitTimeSeconds ?? this.ReceiveMessageWaitTimeSeconds) || 0;
    const deadline = Date.now() + waitSeconds * 1000;
    const scope = requestScope.getStore();
    for (;;) {
      const messages = await original.call(this, { ...args, WaitTimeSeconds: 0 });
      // A deleted queue ends the poll (the next one gets QueueDoesNotExist), as it does on SQS.
      const deleted = !this.service.Queues.includes(this);
      if (messages.length > 0 || Date.now() >= deadline || scope?.closed || deleted) return messages;
    }
  };
  prototype[patched] = true;
}
