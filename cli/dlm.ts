#!/usr/bin/env node
import { runCli } from './run-cli.js';

// The SDK warns on Node 20 about its releases after January 2027: seven lines on stderr on every
// run would bury the CLI's one-line answers. Set the variable to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The `dlm` command (the package's `bin`): inspect and, as an operator, free the locks in the
 * table. See `dlm --help`.
 *
 * @example
 * // npx dlm status partner-api --table dynamo_dlm_locks --json
 */
process.exitCode = await runCli(process.argv.slice(2), process);
