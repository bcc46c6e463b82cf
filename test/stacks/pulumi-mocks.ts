import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * Runs the stacks the way `sst deploy` does, without AWS: the Pulumi SDK and AWS provider that
 * `sst install` put in `.sst/platform`, the globals SST gives a config (`aws`, `$util`, `$app`),
 * and Pulumi's mocks in place of the engine. What the mocks record is exactly what the program
 * asks AWS to create; what AWS would then do with it is not checked here.
 */

export const root = join(import.meta.dirname, '..', '..');
const platformModules = join(root, '.sst', 'platform', 'node_modules');

export const account = '123456789012';
export const region = 'us-east-1';

/** A resource the program registered, with its inputs as the provider would receive them. */
export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/**
 * The little of the Pulumi SDK these tests use. The SDK lives in `.sst/platform`, outside this
 * project's dependencies, so `npm run typecheck` cannot see its types.
 */
export interface Output<T> {
  apply<U>(callback: (value: T) => U): Output<U>;
}
interface Resource {
  urn: Output<string>;
}
interface MockResourceArgs {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
interface PulumiModule {
  runtime: {
    setMocks(
      mocks: {
        newResource(args: MockResourceArgs): { id: string; state: Record<string, unknown> };
        call(args: { token: string; inputs: Record<string, unknown> }): Record<string, unknown>;
      },
      project: string,
      stack: string,
      preview: boolean,
    ): Promise<void>;
  };
  Resource: { isInstance(value: unknown): value is Resource };
  Output: { isInstance(value: unknown): boolean };
}

/** Tables that `aws.dynamodb.getTable` finds, by name. */
export const existingTables = new Map<string, Record<string, unknown>>();

const registered: Registered[] = [];
let pulumi: PulumiModule | undefined;

/**
 * Loads Pulumi from `.sst/platform`, installs the mocks and SST's globals. Once per process.
 *
 * @example
 * const { pulumi } = await setUpSstGlobals();
 */
export async function setUpSstGlobals(): Promise<{ pulumi: PulumiModule }> {
  if (pulumi) return { pulumi };
  if (!existsSync(join(platformModules, '@pulumi', 'aws'))) {
    throw new Error(
      'The SST platform is not installed: run `SST_SKIP_DEPENDENCY_CHECK=true SST_NO_BUN=true npx sst install --stage ci` first',
    );
  }
  // One copy of the Pulumi SDK for the mocks and the provider, as under `sst deploy`.
  const require = createRequire(join(platformModules, 'index.js'));
  const loaded: PulumiModule = require('@pulumi/pulumi');
  await loaded.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return {
          id: `${args.name}-id`,
          state: { ...args.inputs, ...computed(args.type, args.name, args.inputs) },
        };
      },
      call: (args) => invoke(args.token, args.inputs),
    },
    'dynamo-dlm',
    'test',
    false,
  );
  const globals = globalThis as Record<string, unknown>;
  globals.$util = loaded;
  globals.aws = require('@pulumi/aws');
  // SST's `sst` namespace, of which the component uses `sst.aws.permission` (for its link).
  // No `$app`: SST never sets it as a global, so the stacks must not rely on one; under these
  // mocks the names come from Pulumi's project and stack (dynamo-dlm, test).
  globals.sst = { aws: { permission: (input: object) => ({ type: 'aws.permission', ...input }) } };
  pulumi = loaded;
  return { pulumi };
}

/**
 * Waits until every resource reachable from `roots` (their fields, nested objects) is registered,
 * and returns what was registered since `since`.
 *
 * @example
 * const mark = registeredCount();
 * const service = new DynamoDlm('Locks');
 * const resources = await settled([service], mark);
 */
export async function settled(roots: object[], since: number): Promise<Registered[]> {
  const { pulumi: loaded } = await setUpSstGlobals();
  const found = new Set<Resource>();
  const seen = new Set<object>();
  const walk = (value: unknown) => {
    if (typeof value !== 'object' || value === null || seen.has(value)) return;
    seen.add(value);
    if (loaded.Resource.isInstance(value)) found.add(value);
    if (loaded.Output.isInstance(value)) return;
    for (const field of Object.values(value)) walk(field);
  };
  for (const value of roots) walk(value);
  await Promise.all([...found].map((resource) => resolved(resource.urn)));
  return registered.slice(since);
}

/** How many resources were registered so far (a mark for `settled`). */
export const registeredCount = (): number => registered.length;

/** The value of an output, once known. */
export function resolved<T>(output: Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** The ARNs and URLs AWS would assign, so that the policies and the environment can be read. */
export function computed(
  type: string,
  logicalName: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  // Names the program leaves to Pulumi get the logical name (Pulumi would add a random suffix).
  const name = String(inputs.name ?? logicalName);
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;
  switch (type) {
    case 'aws:dynamodb/table:Table':
      return { arn: arn('dynamodb', `table/${name}`) };
    case 'aws:sqs/queue:Queue':
      return { arn: arn('sqs', name), url: `https://sqs.${region}.amazonaws.com/${account}/${name}` };
    case 'aws:lambda/function:Function':
      return { arn: arn('lambda', `function:${name}`) };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { arn: arn('logs', `log-group:${name}`) };
    case 'aws:iam/role:Role':
      return { arn: `arn:aws:iam::${account}:role/${name}`, name };
    case 'aws:cloudwatch/eventRule:EventRule':
      return { arn: arn('events', `rule/${name}`) };
    case 'aws:sfn/stateMachine:StateMachine':
      return { arn: arn('states', `stateMachine:${name}`) };
    default:
      return {};
  }
}

/** The answers of the provider functions the stacks call (partition, region, account, getTable). */
export function invoke(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case 'aws:index/getPartition:getPartition':
      return { id: 'aws', partition: 'aws', dnsSuffix: 'amazonaws.com', reverseDnsPrefix: 'com.amazonaws' };
    case 'aws:index/getRegion:getRegion':
      return { id: region, name: region, region };
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return { id: account, accountId: account, arn: `arn:aws:iam::${account}:user/test`, userId: 'test' };
    case 'aws:dynamodb/getTable:getTable': {
      const table = existingTables.get(String(inputs.name));
      if (!table) throw new Error(`ResourceNotFoundException: table ${String(inputs.name)} not found`);
      return table;
    }
    default:
      throw new Error(`The stacks called ${token}, which these mocks do not know`);
  }
}

/** A deployed function as the tests read it. */
export interface DeployedFunctionLike {
  entry: string;
  bundle: Output<string>;
}

/** What the tests read of the stacks' components (their real types need SST's globals). */
export interface DynamoDlmLike {
  tableName: Output<string>;
  tableArn: Output<string>;
  steps: Record<'acquire' | 'release' | 'count' | 'extend', Output<string>>;
  functions: Record<string, DeployedFunctionLike>;
}

/** The stacks' entry module, as the tests use it. */
export interface StacksModule {
  DynamoDlm: new (name: string, args?: Record<string, unknown>) => DynamoDlmLike;
  ExampleWorkflow: new (name: string, args: Record<string, unknown>) => object;
  createService(settings?: Record<string, unknown>): {
    locks: DynamoDlmLike;
    example: { work: DeployedFunctionLike };
  };
  deployService(settings?: Record<string, unknown>): Record<string, Output<string>>;
  deploySettings(env: Record<string, string | undefined>): Record<string, unknown>;
  executionFailedPattern(account: string, callerStateMachineArns?: string[]): Record<string, unknown>;
}

/**
 * Imports `stacks/index.ts` once SST's globals exist (its components extend `$util.ComponentResource`).
 *
 * @example
 * const { DynamoDlm } = await loadStacks();
 */
export async function loadStacks(): Promise<StacksModule> {
  await setUpSstGlobals();
  const entry = join(root, 'stacks', 'index.ts');
  return (await import(/* @vite-ignore */ entry)) as StacksModule;
}

let service: Promise<{
  stacks: StacksModule;
  created: ReturnType<StacksModule['createService']>;
  resources: Registered[];
}>;

/**
 * This repository's deployment (`createService`, as `sst deploy --stage test` runs it), created
 * once per test process, with the resources it registered.
 *
 * @example
 * const { resources } = await deployedService();
 */
export function deployedService() {
  service ??= (async () => {
    const stacks = await loadStacks();
    const mark = registeredCount();
    const created = stacks.createService({ existingTable: false });
    return { stacks, created, resources: await settled([created], mark) };
  })();
  return service;
}
