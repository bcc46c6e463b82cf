import { parseArgs } from 'node:util';
import { defaults, limits } from '../core/defaults.js';
import { InvalidLockOptionError } from '../core/errors.js';
import { validateResourceId, validateTableName } from '../core/validate.js';
import { requestTableNameFor } from '../core/waiting/waiting-store.js';
import { operatorFrom } from './operator.js';
import { UsageError } from './usage.js';

/** Where the lock table is: the options every command shares. */
export interface Connection {
  tableName: string;
  /** The service's table of waiting requests (status reads it, release hands over from it). */
  requestTableName: string;
  endpoint?: string;
  region?: string;
}

/** A parsed command line. */
export type ParsedCommand = { json: boolean; connection: Connection } & (
  | { command: 'help' }
  | { command: 'status' | 'count'; resourceId: string }
  /** A live view of the resource, refreshed every `intervalMs`. */
  | { command: 'watch'; resourceId: string; intervalMs: number }
  | { command: 'locks' | 'migrate-requests' }
  | { command: 'release'; resourceId: string; slot: number; forcedBy: string }
  /** Without `concurrency`, shows the recorded limit; with it, sets the limit. */
  | { command: 'limit'; resourceId: string; concurrency?: number; setBy: string }
);

const options = {
  table: { type: 'string' },
  'request-table': { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  slot: { type: 'string' },
  force: { type: 'boolean' },
  'forced-by': { type: 'string' },
  'set-by': { type: 'string' },
  interval: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Parses the arguments after `dlm` (without `node` and the script); throws `UsageError` with
 * one line that names what is wrong.
 *
 * @example
 * parseCommand(['release', 'partner-api', '--slot', '0', '--force']);
 * // { command: 'release', resourceId: 'partner-api', slot: 0, json: false, connection: {...} }
 */
export function parseCommand(argv: readonly string[]): ParsedCommand {
  const { values, positionals } = parse(argv);
  const json = values.json ?? false;
  const connection = toConnection(values);
  if (values.help) return { command: 'help', json, connection };
  const [command, ...operands] = positionals;
  if (command === undefined) throw new UsageError('missing command');
  const releaseOnly = [values.slot, values.force, values['forced-by']];
  if (command !== 'release' && releaseOnly.some((value) => value !== undefined)) {
    throw new UsageError('--slot, --force and --forced-by are options of release only');
  }
  if (command !== 'limit' && values['set-by'] !== undefined) {
    throw new UsageError('--set-by is an option of limit only');
  }
  if (command !== 'watch' && values.interval !== undefined) {
    throw new UsageError('--interval is an option of watch only');
  }
  switch (command) {
    case 'watch':
      return {
        command,
        resourceId: onlyResourceId(command, operands),
        intervalMs: toIntervalMs(values.interval),
        json,
        connection,
      };
    case 'status':
    case 'count':
      return { command, resourceId: onlyResourceId(command, operands), json, connection };
    case 'locks':
    case 'migrate-requests':
      if (operands.length > 0) throw new UsageError(`${command} takes no argument, got "${operands[0]}"`);
      return { command, json, connection };
    case 'release': {
      const resourceId = onlyResourceId(command, operands);
      const slot = toSlot(values.slot);
      if (!values.force) {
        throw new UsageError(
          'release frees a slot whoever holds it, and that holder is not told; add --force to do it',
        );
      }
      return {
        command,
        resourceId,
        slot,
        forcedBy: operatorFrom(values['forced-by'], '--forced-by'),
        json,
        connection,
      };
    }
    case 'limit': {
      if (operands.length === 0) throw new UsageError('limit needs a <resourceId>');
      if (operands.length > 2)
        throw new UsageError(`limit takes <resourceId> [K], got ${operands.length} arguments`);
      const resourceId = onlyResourceId(command, operands.slice(0, 1));
      const setBy = operatorFrom(values['set-by'], '--set-by');
      if (operands[1] === undefined) {
        if (values['set-by'] !== undefined) throw new UsageError('--set-by goes with a new limit K');
        return { command, resourceId, setBy, json, connection };
      }
      return { command, resourceId, concurrency: toLimit(operands[1]), setBy, json, connection };
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs explains itself ("Unknown option '--x'"); keep its first line.
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
}

function toConnection(values: {
  table?: string;
  'request-table'?: string;
  endpoint?: string;
  region?: string;
}): Connection {
  const tableName = checked(() => validateTableName(values.table ?? defaults.tableName, '--table'));
  const requestTableName = checked(() =>
    validateTableName(values['request-table'] ?? requestTableNameFor(tableName), '--request-table'),
  );
  if (values.endpoint !== undefined && !URL.canParse(values.endpoint)) {
    throw new UsageError(`--endpoint must be a URL such as http://localhost:8000, got "${values.endpoint}"`);
  }
  if (values.region !== undefined && !/^[a-z0-9-]+$/.test(values.region)) {
    throw new UsageError(`--region must be a region name such as eu-west-1, got "${values.region}"`);
  }
  return {
    tableName,
    requestTableName,
    ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
    ...(values.region === undefined ? {} : { region: values.region }),
  };
}

function onlyResourceId(command: string, operands: string[]): string {
  if (operands.length === 0) throw new UsageError(`${command} needs a <resourceId>`);
  if (operands.length > 1) throw new UsageError(`${command} takes one <resourceId>, got ${operands.length}`);
  return checked(() => validateResourceId(operands[0], '<resourceId>'));
}

function toSlot(value: string | undefined): number {
  if (value === undefined) throw new UsageError('release needs --slot N');
  const slot = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(slot) || slot >= limits.concurrencyMax) {
    throw new UsageError(`--slot must be an integer from 0 to ${limits.concurrencyMax - 1}, got "${value}"`);
  }
  return slot;
}

/** Seconds between refreshes of `dlm watch`: at least 0.2 (each refresh costs 4 reads), 1 by default. */
function toIntervalMs(value: string | undefined): number {
  if (value === undefined) return 1000;
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= 0.2 && seconds <= 3600)) {
    throw new UsageError(`--interval must be a number of seconds from 0.2 to 3600, got "${value}"`);
  }
  return Math.round(seconds * 1000);
}

/** A resource's limit as an operator types it: what a lock's `concurrency` may be. */
function toLimit(value: string): number {
  const limit = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > limits.concurrencyMax) {
    throw new UsageError(`limit K must be an integer from 1 to ${limits.concurrencyMax}, got "${value}"`);
  }
  return limit;
}

function checked<T>(validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (error instanceof InvalidLockOptionError) throw new UsageError(error.message);
    throw error;
  }
}
