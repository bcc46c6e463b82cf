import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { exampleWorkFunction, lockFunctions } from '../functions/catalog.js';
import { bundleOptions, handlerName, prebuiltHandlersDir } from './bundle.js';

/**
 * Bundles every handler of the catalog into `dist/handlers/<name>.mjs` at build time (`npm run
 * build`, so `npm pack` ships them). An installed package then deploys this folder: no esbuild
 * of the consumer's (SST's) at deploy time, and no code text in the Pulumi state. The handlers
 * share most of their code (the SDK clients, the core): esbuild splits it into chunks beside
 * them, so the package carries it once, not once per function.
 *
 * Usage: tsx stacks/build-handlers.ts [root]
 */
export async function buildHandlers(root: string): Promise<{ handlers: number; bytes: number }> {
  const sources = [...Object.values(lockFunctions), exampleWorkFunction].map((spec) => spec.source);
  const outdir = join(root, prebuiltHandlersDir);
  // A handler renamed or removed must not linger in what is deployed.
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    // The one-handler options, given every entry at once.
    ...bundleOptions(join(root, sources[0] ?? '')),
    entryPoints: Object.fromEntries(sources.map((source) => [handlerName(source), join(root, source)])),
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
  });
  const outputs = Object.values(result.metafile.outputs);
  return { handlers: sources.length, bytes: outputs.reduce((sum, output) => sum + output.bytes, 0) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { handlers, bytes } = await buildHandlers(process.argv[2] ?? process.cwd());
  process.stderr.write(
    `bundled ${handlers} handlers into ${prebuiltHandlersDir} (${(bytes / 1e6).toFixed(2)} MB with their shared chunks)\n`,
  );
}
