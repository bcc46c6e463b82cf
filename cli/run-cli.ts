import type { Clock } from '../core/store.js';
import { countResource } from '../core/waiting/count-resource.js';
import { type CliStore, checkTable, endpointOf, openStore } from './connect.js';
import { endpointProblem } from './endpoint-check.js';
import { describeFailure } from './failure.js';
import { changeLimit, formatLimit, showLimit } from './limit.js';
import { formatMigration, migrateRequests } from './migrate-requests.js';
import { type ParsedCommand, parseCommand } from './parse-command.js';
import { formatRelease, releaseBySlot } from './release.js';
import { formatLocks, scanHeld } from './scan-held.js';
import { formatStatus, readStatus } from './status.js';
import { printable } from './text-table.js';
import { UsageError, usage } from './usage.js';
import { onInterrupt, watchResource } from './watch.js';

/** Where `runCli` writes, and its clock; `process` fits, tests pass recorders. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  clock?: Clock;
  /** Ends `dlm watch` (default: the first SIGINT, Ctrl-C). */
  signal?: AbortSignal;
  /** Print stack traces of failures (default: when the `DEBUG` variable is set). */
  debug?: boolean;
}

/** A command's answer: the `--json` object and the human text. */
interface Output {
  json: unknown;
  text: string;
}

/**
 * Runs `dlm` with the arguments after the script name and answers the exit code: 0 done,
 * 1 failure (one line on stderr), 2 bad usage (the problem and the usage on stderr).
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2), process);
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ParsedCommand;
  try {
    parsed = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`dlm: ${error.message}\n\n${usage}`);
    return 2;
  }
  if (parsed.command === 'help') {
    io.stdout.write(usage);
    return 0;
  }
  const endpoint = endpointOf(parsed.connection);
  const unsafe = endpoint === undefined ? undefined : endpointProblem(endpoint);
  if (unsafe) {
    // Refused before any client exists: nothing has been signed or sent.
    io.stderr.write(`dlm: ${unsafe}\n`);
    return 2;
  }
  const store = openStore(parsed.connection, io.clock);
  try {
    await checkTable(store);
    if (parsed.command === 'watch') {
      await watch(store, parsed, io);
      return 0;
    }
    const output = await execute(store, parsed, (line) => io.stderr.write(line));
    io.stdout.write(parsed.json ? `${JSON.stringify(output.json)}\n` : output.text);
    return 0;
  } catch (error) {
    const where = await store.where();
    io.stderr.write(`dlm: ${describeFailure(error, { tableName: store.tableName, where })}\n`);
    if (io.debug ?? Boolean(process.env.DEBUG)) io.stderr.write(`${(error as Error)?.stack ?? error}\n`);
    return 1;
  } finally {
    store.client.destroy();
  }
}

async function watch(store: CliStore, parsed: Extract<ParsedCommand, { command: 'watch' }>, io: CliIo) {
  const interrupt = io.signal ? undefined : onInterrupt();
  const signal = io.signal ?? (interrupt as { signal: AbortSignal }).signal;
  try {
    await watchResource(store, parsed.resourceId, {
      intervalMs: parsed.intervalMs,
      json: parsed.json,
      io,
      signal,
    });
  } finally {
    interrupt?.dispose();
  }
}

async function execute(
  store: CliStore,
  parsed: Exclude<ParsedCommand, { command: 'help' | 'watch' }>,
  progress: (line: string) => void,
): Promise<Output> {
  switch (parsed.command) {
    case 'status': {
      const report = await readStatus(store, parsed.resourceId);
      return { json: report, text: formatStatus(report) };
    }
    case 'count': {
      const { held, waiting, nextStartAt } = await countResource(store, parsed.resourceId);
      const json = { resourceId: parsed.resourceId, held, waiting, ...(nextStartAt ? { nextStartAt } : {}) };
      const rate = nextStartAt ? `, rate's next start ${nextStartAt}` : '';
      return { json, text: `${printable(parsed.resourceId)}: ${held} held, ${waiting} waiting${rate}\n` };
    }
    case 'migrate-requests': {
      const report = await migrateRequests(store, progress);
      return { json: report, text: formatMigration(report) };
    }
    case 'locks': {
      const report = await scanHeld(store);
      return { json: report, text: formatLocks(report) };
    }
    case 'release': {
      const report = await releaseBySlot(store, parsed.resourceId, parsed.slot, parsed.forcedBy);
      return { json: report, text: formatRelease(report) };
    }
    case 'limit': {
      const { resourceId, concurrency, setBy } = parsed;
      const report =
        concurrency === undefined
          ? await showLimit(store, resourceId)
          : await changeLimit(store, resourceId, concurrency, setBy);
      return { json: report, text: formatLimit(report) };
    }
  }
}
