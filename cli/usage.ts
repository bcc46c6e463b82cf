import { defaults, limits } from '../core/defaults.js';
import { limitCacheMs } from '../core/throttle/verified-limits.js';

/**
 * The help text of `dlm`, printed by `--help` (stdout) and after a usage error (stderr).
 *
 * @example
 * io.stdout.write(usage);
 */
export const usage = `Usage: dlm <command> [options]

Commands:
  status <resourceId>    holders (slot, owner, expiry, fencing token) and waiting requests
  watch <resourceId> [--interval <seconds>]
                         live view, refreshed every second (0.2..3600 s): holders (slot,
                         owner, held for, fencing token), waiters oldest first (waited for),
                         grants per minute (from the slots' fencing tokens between
                         refreshes: exact for workflow grants, else a lower bound); Ctrl-C
                         ends it. Each refresh makes the reads of status:
                         4 requests (2 consistent Queries, 2 consistent GetItems; a Query
                         past 1 MB takes one more page); --json: one line per refresh
  count <resourceId>     unexpired holders and waiting requests
  locks                  resources with at least one unexpired holder; this SCANS THE WHOLE
                         TABLE: its cost and duration grow with the table's size
  release <resourceId> --slot N --force [--forced-by <who>]
                         operator override: frees slot N whoever holds it; the holder's
                         extend then fails (Lock.Lost); waiting requests get the slot
                         through their retry loop. Records who (default user@host) and
                         when on the slot (forced_by, forced_at_ms); status shows it
  migrate-requests       once after upgrading from a release that kept waiting requests in
                         the lock table: moves them (and their task tokens) into the
                         request table; SCANS THE WHOLE TABLE
  limit <resourceId> [K] [--set-by <who>]
                         without K: the limit recorded for the resource (status shows it
                         too). With K (1..${limits.concurrencyMax}): sets it on purpose, recorded as set by
                         <who> (default user@host); callers asking another concurrency are
                         refused; running SQS throttles see it within ${limitCacheMs / 1000} s

Options:
  --table <name>         lock table (default ${defaults.tableName})
  --request-table <name> the workflow service's table of waiting requests
                         (default <table>_requests)
  --endpoint <url>       DynamoDB endpoint (default: AWS_ENDPOINT_URL_DYNAMODB, else AWS);
                         https://, or http:// to loopback only (requests are signed)
  --region <region>      AWS region (default: the SDK's chain, e.g. AWS_REGION or the profile)
  --json                 one JSON object on stdout instead of tables
  -h, --help             this help

Credentials come from the AWS SDK's default chain. Exit codes: 0 done, 1 failure (one line on
stderr; DEBUG=1 adds the stack), 2 bad usage.
`;

/**
 * The command line is wrong: `runCli` prints the message and the usage, and exits with 2.
 *
 * @example
 * throw new UsageError('unknown command "stats"');
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
