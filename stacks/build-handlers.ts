import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { exampleWorkFunction, lockFunctions } from '../functions/catalog.js';
import { bundleOptions, prebuiltBundlePath } from './bundle.js';

/**
 * Bundles every handler of the catalog into `dist/handlers/<name>/index.mjs` at build time
 * (`npm run build`, so `npm pack` ships them). An installed package then deploys these files:
 * no esbuild of the consumer's (SST's) at deploy time, and no code text in the Pulumi state.
 *
 * Usage: tsx stacks/build-handlers.ts [root]
 */
export async function buildHandlers(root: string): Promise<string[]> {
  const sources = [...Object.values(lockFunctions), exampleWorkFunction].map((spec) => spec.source);
  return Promise.all(
    sources.map(async (source) => {
      const outfile = prebuiltBundlePath(root, source);
      await mkdir(join(outfile, '..'), { recursive: true });
      await build({ ...bundleOptions(join(root, source)), outfile });
      return outfile;
    }),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const built = await buildHandlers(process.argv[2] ?? process.cwd());
  process.stderr.write(`bundled ${built.length} handlers into dist/handlers\n`);
}
