import { requireLocalPackages } from './optional-packages.js';
import type { LocalAws, LocalAwsOptions } from './start-local-aws.js';

/**
 * Starts the local AWS (`start-local-aws.ts`) once its optional packages are known to be there:
 * the module that uses them is imported only then, so a missing one is named with how to install it.
 *
 * @example
 * const aws = await startLocalAws();
 */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  requireLocalPackages();
  const { startLocalAws: start } = await import('./start-local-aws.js');
  return start(options);
}
