import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';

/**
 * Builds an app's `sst.config.ts` into one ES module as SST 4's CLI does before it hands the file
 * to Pulumi (sst/sst, pkg/project/run.go and pkg/js/js.go, read for this): an entry that runs
 * the config's `run` through the platform's `auto/run.ts`; `$app`, `$cli` and `$dev` as esbuild
 * defines (bare identifiers replaced in the text, never globals); the platform's shim injected
 * (`$util`, `$transform`, `$interpolate`, ...); every source file outside `.sst` prefixed with
 * the provider imports (`aws`) and `sst`; Pulumi, the AWS SDK and esbuild left external and
 * resolved from `.sst/platform/node_modules` when the module runs.
 */
export interface SstApp {
  name: string;
  stage: string;
  removal: 'remove' | 'retain' | 'retain-all';
  protect: boolean;
  home: 'aws';
  providers: Record<string, unknown>;
}

/** The packages SST's build leaves to Node (pkg/js/js.go, `External`). */
const sstExternals = [
  '@pulumi/*',
  'undici',
  '@pulumiverse/*',
  '@sst-provider/*',
  '@aws-sdk/*',
  'esbuild',
  'archiver',
  'glob',
  'vite',
];

/**
 * Writes the built config of the app at `root` (with its `.sst/platform` from `sst install`) to
 * `outfile`, which must be inside `.sst/platform` so that the externals resolve.
 *
 * @example
 * await buildSstConfig('/tmp/app', { name: 'consumer', stage: 'dev', ... }, '/tmp/app/.sst/platform/config.mjs');
 */
export async function buildSstConfig(root: string, app: SstApp, outfile: string): Promise<void> {
  const work = join(root, '.sst');
  const platform = join(work, 'platform');
  const lock = JSON.parse(readFileSync(join(work, 'provider-lock.json'), 'utf8')) as {
    alias: string;
    package: string;
  }[];
  const globals = [
    ...lock.map((entry) => `import * as ${entry.alias} from "${entry.package}";`),
    `import * as sst from "${join(platform, 'src', 'components')}";`,
  ].join('\n');
  const cli = {
    command: 'deploy',
    dev: false,
    paths: { home: join(work, 'home'), root, work, platform },
    state: { version: {} },
  };
  await build({
    stdin: {
      contents: [
        `import { run } from "${join(platform, 'src', 'auto', 'run.ts')}";`,
        `import mod from "${join(root, 'sst.config.ts')}";`,
        'const result = await run(mod.run);',
        'export default result;',
      ].join('\n'),
      resolveDir: root,
      sourcefile: 'eval.ts',
      loader: 'ts',
    },
    // CommonJS dependencies need `require`, `__filename` and `__dirname` in the ES module.
    banner: {
      js: [
        "import { createRequire as sstCreateRequire } from 'module';",
        'const require = sstCreateRequire(import.meta.url);',
        "import { fileURLToPath as sstFileUrlToPath, URL as SstUrl } from 'url';",
        'const __filename = sstFileUrlToPath(import.meta.url);',
        "const __dirname = sstFileUrlToPath(new SstUrl('.', import.meta.url));",
      ].join('\n'),
    },
    mainFields: ['module', 'main'],
    format: 'esm',
    platform: 'node',
    nodePaths: [join(platform, 'node_modules')],
    plugins: [injectGlobals(globals)],
    external: sstExternals,
    define: { $app: JSON.stringify(app), $cli: JSON.stringify(cli), $dev: 'false' },
    inject: [join(platform, 'src', 'shim', 'run.js')],
    outfile,
    write: true,
    bundle: true,
    logLevel: 'silent',
  });
}

/** SST's `InjectGlobals`: `aws` and `sst` at the top of every file not under `.sst`. */
function injectGlobals(globals: string): Plugin {
  return {
    name: 'inject-globals',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /\.(js|ts|jsx|tsx)$/ }, (args) => {
        const contents = readFileSync(args.path, 'utf8');
        return {
          contents: args.path.includes('.sst') ? contents : `${globals}\n${contents}`,
          loader: 'default',
        };
      });
    },
  };
}
