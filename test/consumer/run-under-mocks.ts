/**
 * Runs a built `sst.config.ts` (see `sst-build.ts`) under Pulumi's mocks, in a process of its
 * own (nothing of the test runner's globals leaks in), and prints as JSON what it registered and
 * the outputs it returned.
 *
 * Usage: tsx run-under-mocks.ts <built config .mjs> <app root>
 *
 * SST's functions ask the CLI to build their handler (`Runtime.Build` on `SST_SERVER`); that
 * CLI is not here, so a small server records what SST sent (the handler and its links, which the
 * CLI would encrypt into the bundle) and answers with a directory holding the handler file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { computed, invoke, type Registered } from '../stacks/pulumi-mocks.js';

const [configModule, appRoot] = process.argv.slice(2);
if (!configModule || !appRoot) throw new Error('usage: run-under-mocks.ts <built config> <app root>');

interface Pulumi {
  runtime: {
    setMocks(mocks: object, project: string, stack: string, preview: boolean): Promise<void>;
    waitForRPCs(): Promise<void>;
    runInPulumiStack(init: () => Promise<unknown>): Promise<unknown>;
  };
  Output: { isInstance(value: unknown): boolean };
  output(value: unknown): { apply(callback: (value: unknown) => void): void };
}
const require = createRequire(join(appRoot, '.sst', 'platform', 'node_modules', 'index.js'));
const pulumi = require('@pulumi/pulumi') as Pulumi;

const registered: Registered[] = [];
// A project and stack unlike the app's: names must come from `$app`, not from Pulumi's settings.
await pulumi.runtime.setMocks(
  {
    newResource: (args: Registered) => {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      return {
        id: `${args.name}-id`,
        state: { ...args.inputs, ...computed(args.type, args.name, args.inputs) },
      };
    },
    call: (args: { token: string; inputs: Record<string, unknown> }) => {
      try {
        if (args.token === 'aws:iam/getPolicyDocument:getPolicyDocument') return policyDocument(args.inputs);
        return invoke(args.token, args.inputs);
      } catch (error) {
        process.stderr.write(`${(error as Error).message}\n`);
        throw error;
      }
    },
  },
  'mock-project',
  'mock-stack',
  false,
);

/**
 * The JSON the provider renders from `aws.iam.getPolicyDocument` (which SST's function uses for
 * its role): the statements' effect, actions, resources and principals, in IAM's spelling.
 */
function policyDocument(inputs: Record<string, unknown>): Record<string, unknown> {
  const statements = (inputs.statements ?? []) as {
    effect?: string;
    actions?: string[];
    resources?: string[];
    principals?: { type: string; identifiers: string[] }[];
  }[];
  const Statement = statements.map((statement) => ({
    Effect: statement.effect ?? 'Allow',
    ...(statement.actions ? { Action: statement.actions } : {}),
    ...(statement.resources ? { Resource: statement.resources } : {}),
    ...(statement.principals
      ? {
          Principal: Object.fromEntries(
            statement.principals.map((principal) => [principal.type, principal.identifiers]),
          ),
        }
      : {}),
  }));
  return { ...inputs, json: JSON.stringify({ Version: '2012-10-17', Statement }) };
}

const builds: unknown[] = [];
const built = join(appRoot, '.sst', 'built-handler');
mkdirSync(built, { recursive: true });
writeFileSync(join(built, 'worker.mjs'), 'export const handler = async () => "ok";\n');
/** What the SST CLI answers its platform's calls with: the handler's build, the region's bootstrap bucket. */
function cliAnswer(method: string, params: unknown): { result: unknown; error: string | null } {
  switch (method) {
    case 'Runtime.Build':
      builds.push(params);
      return { result: { handler: 'worker.handler', out: built, errors: [], sourcemaps: [] }, error: null };
    case 'Provider.Aws.Bootstrap':
      return {
        result: {
          asset: 'sst-asset-mock',
          assetEcrRegistryId: '123456789012',
          assetEcrUrl: '123456789012.dkr.ecr.us-east-1.amazonaws.com/sst-asset',
          state: 'sst-state-mock',
          appsyncHttp: '',
          appsyncRealtime: '',
        },
        error: null,
      };
    default:
      return { result: null, error: `rpc: can't find method ${method}` };
  }
}

const server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => {
    body += chunk;
  });
  request.on('end', () => {
    const { method, params } = JSON.parse(body) as { method: string; params: unknown[] };
    const answer = cliAnswer(method, params[0]);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer));
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.env.SST_SERVER = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// As Pulumi's Node language host runs a program: inside the root stack resource, on which SST's
// `run` registers its stack transformations.
let outputs: Record<string, unknown> = {};
await pulumi.runtime.runInPulumiStack(async () => {
  outputs = (await import(pathToFileURL(configModule).href)).default as Record<string, unknown>;
  return outputs;
});
await pulumi.runtime.waitForRPCs();
const resolvedOutputs: Record<string, unknown> = {};
for (const [key, value] of Object.entries(outputs)) {
  resolvedOutputs[key] = await new Promise((resolve) => pulumi.output(value).apply(resolve));
}
await pulumi.runtime.waitForRPCs();
server.close();
// Assets and archives keep their path or text as a promise: settle them, or JSON says `{}`.
const settledRegistered = await settled(registered);
process.stdout.write(JSON.stringify({ registered: settledRegistered, outputs: resolvedOutputs, builds }));

/** A copy of plain data with every promise in it awaited. */
async function settled(value: unknown): Promise<unknown> {
  const awaited = await value;
  if (Array.isArray(awaited)) return Promise.all(awaited.map(settled));
  if (awaited === null || typeof awaited !== 'object') return awaited;
  const entries = await Promise.all(
    Object.entries(awaited).map(async ([key, inner]) => [key, await settled(inner)] as const),
  );
  return Object.fromEntries(entries);
}
