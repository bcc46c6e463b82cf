import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import type * as LocalAwsSqs from 'local-aws-sqs';

/**
 * A fix to `local-aws-sqs@2.0.2`'s own source, applied as it is loaded: its ChangeMessageVisibility
 * hides the message through the same routine as a receive, which adds one to the message's
 * ApproximateReceiveCount, so a hidden message reaches `maxReceiveCount` (and the dead-letter
 * queue) early. SQS counts receives only. The throttle hides FIFO messages that way and tells its
 * failures from its receive count, so the emulator must count as SQS does. The receive count is
 * a private field of a class the package does not export: the only way in is its source. The
 * routine's call in ChangeMessageVisibility is followed by taking that one back.
 */
const hideInChangeVisibility = 'return l(this,D,Wt).call(this,r,n,!0),!0}';
const hideThenUncount =
  'return l(this,D,Wt).call(this,r,n,!0),r.record.attributes.ApproximateReceiveCount=String(Number(r.record.attributes.ApproximateReceiveCount)-1),!0}';

interface CompilableModule {
  filename: string;
  paths: string[];
  exports: unknown;
  _compile(source: string, filename: string): void;
}

let loaded: typeof LocalAwsSqs | undefined;

/**
 * The emulator's exports, from its source with the fix above: once per process. Throws, naming
 * the package, when the source is not the one the fix was written for.
 *
 * @example
 * const { createRequestHandler } = emulatorModule();
 */
export function emulatorModule(): typeof LocalAwsSqs {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const path = require.resolve('local-aws-sqs');
  const source = readFileSync(path, 'utf8');
  if (source.split(hideInChangeVisibility).length !== 2) {
    throw new Error(
      `local-aws-sqs at ${path} is not the 2.0.2 this shim fixes (its ChangeMessageVisibility counts as a receive): install local-aws-sqs@2.0.2`,
    );
  }
  const ModuleClass = Module as unknown as new (id: string) => CompilableModule;
  const patched = new ModuleClass(path);
  patched.filename = path;
  patched.paths = (Module as unknown as { _nodeModulePaths(from: string): string[] })._nodeModulePaths(
    dirname(path),
  );
  patched._compile(source.replace(hideInChangeVisibility, hideThenUncount), path);
  loaded = patched.exports as typeof LocalAwsSqs;
  return loaded;
}
