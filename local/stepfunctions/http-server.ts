import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnFreePort } from '../free-port.js';
import { localRequestsOnly } from '../local-requests-only.js';
import type { Action } from './actions.js';
import { SfnError } from './errors.js';

const TARGET_PREFIX = 'AWSStepFunctions.';
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const CONTENT_TYPE = 'application/x-amz-json-1.0';

/**
 * A running JSON 1.0 server.
 *
 * @example
 * const server = await startJsonServer(0, actions);
 * new SFNClient({ endpoint: server.endpoint });
 * await server.close();
 */
export interface JsonServer {
  endpoint: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: unknown): void {
  if (error instanceof SfnError) {
    send(res, error.statusCode, { __type: error.name, message: error.message });
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`[local-stepfunctions] internal error: ${message}`);
  send(res, 500, { __type: 'InternalFailure', message });
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new SfnError('ValidationException', 'Request body too large', 413);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SfnError('SerializationException', 'The request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SfnError('SerializationException', 'The request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  actions: Record<string, Action>,
): Promise<void> {
  try {
    if (req.method !== 'POST')
      throw new SfnError('UnknownOperationException', `Method ${req.method} not supported`, 405);
    const target = req.headers['x-amz-target'];
    const name =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : '';
    const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
    if (!action)
      throw new SfnError('UnknownOperationException', `Unknown or unsupported operation '${String(target)}'`);
    const body = await readBody(req);
    send(res, 200, (await action(body)) ?? {});
  } catch (error) {
    sendError(res, error);
  }
}

/**
 * Serves `actions` over the AWS JSON 1.0 protocol on 127.0.0.1 (`port` 0 picks a free port), to
 * this machine's programs only, not to web pages (`local-requests-only.ts`):
 * POST /, action in `X-Amz-Target: AWSStepFunctions.<Action>`, errors as status 400 with
 * `{"__type": name, "message": ...}`, which is what `@aws-sdk/client-sfn` expects.
 *
 * @example
 * const server = await startJsonServer(0, { DescribeExecution: (body) => describe(body) });
 * server.endpoint; // 'http://127.0.0.1:41234'
 */
export async function startJsonServer(port: number, actions: Record<string, Action>): Promise<JsonServer> {
  const server = createServer(
    localRequestsOnly((req, res) => {
      void handle(req, res, actions);
    }),
  );
  // A taken preferred port (npm run local asks for 8083) falls back to any free one.
  const actual = await listenOnFreePort(server, port);
  return {
    endpoint: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
