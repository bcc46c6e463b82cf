import { handler as acquire } from '../functions/acquire.js';
import { handler as cleanup } from '../functions/cleanup.js';
import { handler as count } from '../functions/count.js';
import { handler as extend } from '../functions/extend.js';
import { handler as release } from '../functions/release.js';
import { handler as retry } from '../functions/retry.js';
import type { LocalFunctionDefinition } from './lambda/index.js';

/** The service's functions under their deployed names, with the deployed timeouts. */
export const serviceFunctions = {
  acquire: { name: 'dynamo-dlm-acquire', handler: acquire, timeoutSeconds: 10 },
  release: { name: 'dynamo-dlm-release', handler: release, timeoutSeconds: 10 },
  count: { name: 'dynamo-dlm-count', handler: count, timeoutSeconds: 5 },
  extend: { name: 'dynamo-dlm-extend', handler: extend, timeoutSeconds: 5 },
  retry: { name: 'dynamo-dlm-retry', handler: retry, timeoutSeconds: 10 },
  cleanup: { name: 'dynamo-dlm-cleanup', handler: cleanup, timeoutSeconds: 30 },
} satisfies Record<string, LocalFunctionDefinition>;
