import { handler as acquire } from '../functions/acquire.js';
import { lockFunctions } from '../functions/catalog.js';
import { handler as cleanup } from '../functions/cleanup.js';
import { handler as count } from '../functions/count.js';
import { handler as extend } from '../functions/extend.js';
import { handler as release } from '../functions/release.js';
import { handler as retry } from '../functions/retry.js';
import { handler as sweeper } from '../functions/sweeper.js';
import type { LocalFunctionDefinition } from './lambda/index.js';

/** The service's functions under their deployed names, with the deployed timeouts (one source: functions/catalog.ts, which the stacks read too). */
export const serviceFunctions = {
  acquire: {
    name: 'dynamo-dlm-acquire',
    handler: acquire,
    timeoutSeconds: lockFunctions.acquire.timeoutSeconds,
  },
  release: {
    name: 'dynamo-dlm-release',
    handler: release,
    timeoutSeconds: lockFunctions.release.timeoutSeconds,
  },
  count: { name: 'dynamo-dlm-count', handler: count, timeoutSeconds: lockFunctions.count.timeoutSeconds },
  extend: { name: 'dynamo-dlm-extend', handler: extend, timeoutSeconds: lockFunctions.extend.timeoutSeconds },
  retry: { name: 'dynamo-dlm-retry', handler: retry, timeoutSeconds: lockFunctions.retry.timeoutSeconds },
  cleanup: {
    name: 'dynamo-dlm-cleanup',
    handler: cleanup,
    timeoutSeconds: lockFunctions.cleanup.timeoutSeconds,
  },
  sweeper: {
    name: 'dynamo-dlm-sweeper',
    handler: sweeper,
    timeoutSeconds: lockFunctions.sweeper.timeoutSeconds,
  },
} satisfies Record<string, LocalFunctionDefinition>;
