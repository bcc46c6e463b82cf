import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { BuildOptions } from 'esbuild';

/** The Lambda runtime of every function, and the esbuild target that matches it. */
export const nodeRuntime = 'nodejs22.x';
export const nodeTarget = 'node22';

/**
 * Bundled dependencies may be CommonJS: in an ES module bundle, a `require` of a Node built-in
 * they make at run time needs a real `require` (esbuild's stand-in throws).
 */
const requireShim =
  "import { createRequire as __dlmCreateRequire } from 'node:module';\nconst require = __dlmCreateRequire(import.meta.url);";

/**
 * The esbuild options of a handler: one ES module file for Node 22, every dependency inside
 * (the AWS SDK too, so the deployed code runs the SDK versions this repository pins and tests).
 *
 * @example
 * await build({ ...bundleOptions(join(root, 'functions/acquire.ts')), outfile: 'out/acquire.mjs' });
 */
export function bundleOptions(entry: string): BuildOptions {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: nodeTarget,
    minify: true,
    // Error classes and Powertools rely on names; minified names would change them.
    keepNames: true,
    legalComments: 'none',
    banner: { js: requireShim },
    logLevel: 'silent',
  };
}

// One program run bundles each handler once, however many components use it.
const bundles = new Map<string, Promise<string>>();

/**
 * Bundles a handler into the text of `index.mjs`.
 *
 * @example
 * const code = await bundleHandler(join(root, 'functions/count.ts')); // export { handler }
 */
export function bundleHandler(entry: string): Promise<string> {
  let bundle = bundles.get(entry);
  if (!bundle) {
    bundle = bundleOnce(entry);
    bundles.set(entry, bundle);
  }
  return bundle;
}

async function bundleOnce(entry: string): Promise<string> {
  if (!existsSync(entry)) throw new Error(`dynamo-dlm: handler source ${entry} does not exist`);
  // Loaded only here: an installed package deploys its prebuilt bundles and needs no esbuild.
  const { build } = await import('esbuild');
  const result = await build({ ...bundleOptions(entry), write: false });
  const [output] = result.outputFiles ?? [];
  if (!output) throw new Error(`dynamo-dlm: esbuild produced no output for ${entry}`);
  return output.text;
}

/** Where `npm run build` puts the handlers' bundles (`stacks/build-handlers.ts`), under the package. */
export const prebuiltHandlersDir = join('dist', 'handlers');

/**
 * A handler's prebuilt entry file: `dist/handlers/<name>.mjs`, beside the others and the chunks
 * they share (one folder deployed for every function, the handler setting picks the file).
 *
 * @example
 * prebuiltBundlePath('/app/node_modules/dynamo-dlm', 'functions/count.ts'); // .../dist/handlers/count.mjs
 */
export function prebuiltBundlePath(sourceRoot: string, source: string): string {
  return join(sourceRoot, prebuiltHandlersDir, `${handlerName(source)}.mjs`);
}

/** The file name of a handler without its extension: `functions/count.ts` is `count`. */
export function handlerName(source: string): string {
  return basename(source).replace(/\.ts$/, '');
}

/**
 * The bundle an installed package ships for a handler, when there is one: with the TypeScript
 * source beside it (a checkout), the source is bundled at deploy instead, so a deploy never
 * ships a `dist/` older than the code.
 *
 * @example
 * prebuiltBundle('/app/node_modules/dynamo-dlm', 'functions/count.ts'); // .../dist/handlers/count.mjs
 */
export function prebuiltBundle(sourceRoot: string, source: string): string | undefined {
  if (existsSync(join(sourceRoot, source))) return undefined;
  const bundle = prebuiltBundlePath(sourceRoot, source);
  return existsSync(bundle) ? bundle : undefined;
}

/**
 * Where the handlers' sources are: this repository when `sst deploy` runs here (SST runs the
 * program from the app's root), else the `dynamo-dlm` package installed in the app.
 *
 * @example
 * handlerSource(defaultSourceRoot(), 'functions/acquire.ts'); // .../functions/acquire.ts
 */
export function defaultSourceRoot(cwd: string = process.cwd()): string {
  if (existsSync(join(cwd, 'functions', 'acquire.ts'))) return cwd;
  for (let dir = cwd; ; dir = dirname(dir)) {
    const installed = join(dir, 'node_modules', 'dynamo-dlm');
    if (existsSync(join(installed, 'package.json'))) return installed;
    if (dirname(dir) === dir) break;
  }
  throw new Error(
    `dynamo-dlm: no functions/acquire.ts under ${cwd} and no installed dynamo-dlm package; pass sourceRoot`,
  );
}

/**
 * The file to bundle for a handler: the TypeScript source in a checkout, the compiled
 * JavaScript (`dist/`) in an installed package.
 *
 * @example
 * handlerSource('/app/node_modules/dynamo-dlm', 'functions/count.ts'); // .../dist/functions/count.js
 */
export function handlerSource(sourceRoot: string, source: string): string {
  const typescript = join(sourceRoot, source);
  if (existsSync(typescript)) return typescript;
  const compiled = join(sourceRoot, 'dist', source.replace(/\.ts$/, '.js'));
  return existsSync(compiled) ? compiled : typescript;
}
