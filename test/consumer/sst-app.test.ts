import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquirePayload, lambdaServiceRetry, leasePayload } from '../../core/steps/index.js';
import type { Registered } from '../stacks/pulumi-mocks.js';
import { buildSstConfig } from './sst-build.js';

/**
 * Another team's SST app, as it would use the published package: `npm pack` of this repository
 * (its `prepack` builds `dist/`), the tarball unpacked into the app's `node_modules`, the app's
 * `sst.config.ts` (test/consumer/app) built the way SST 4 builds it and run under Pulumi's mocks
 * once per stage. The package's dependencies are this repository's installed copies (no network).
 */
const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'dynamo-dlm-consumer-'));
const app = join(work, 'app');

interface StageRun {
  registered: Registered[];
  outputs: Record<string, unknown>;
  builds: { functionID: string; links: Record<string, Record<string, unknown>> }[];
}
const runs: Record<'dev' | 'prod', StageRun> = {} as Record<'dev' | 'prod', StageRun>;

function installPackedPackage(): void {
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' }),
  ) as { filename: string }[];
  if (!packed) throw new Error('npm pack produced nothing');
  const modules = join(app, 'node_modules');
  mkdirSync(modules, { recursive: true });
  execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', modules]);
  renameSync(join(modules, 'package'), join(modules, 'dynamo-dlm'));
  const manifest = JSON.parse(readFileSync(join(modules, 'dynamo-dlm', 'package.json'), 'utf8'));
  // What a consumer's install brings: dependencies and required peers, not the local AWS's
  // optional packages (the component must build without them).
  const optional = new Set(
    Object.entries(manifest.peerDependenciesMeta ?? {})
      .filter(([, meta]) => (meta as { optional?: boolean }).optional)
      .map(([name]) => name),
  );
  const peers = Object.fromEntries(
    Object.entries(manifest.peerDependencies ?? {}).filter(([name]) => !optional.has(name)),
  );
  const needed = { ...manifest.dependencies, ...peers, sst: '*' };
  for (const name of Object.keys(needed)) {
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(realpathSync(join(root, 'node_modules', name)), join(modules, name));
  }
}

/** `.sst/platform` as `sst install` leaves it (this repository's, linked), and the provider lock. */
function linkPlatform(): void {
  const platform = join(app, '.sst', 'platform');
  mkdirSync(platform, { recursive: true });
  for (const entry of readdirSync(join(root, '.sst', 'platform'))) {
    if (!entry.startsWith('sst.config.'))
      symlinkSync(join(root, '.sst', 'platform', entry), join(platform, entry));
  }
  cpSync(join(root, '.sst', 'provider-lock.json'), join(app, '.sst', 'provider-lock.json'));
}

async function runStage(stage: 'dev' | 'prod'): Promise<StageRun> {
  const outfile = join(app, '.sst', 'platform', `sst.config.${stage}.mjs`);
  await buildSstConfig(
    app,
    { name: 'consumer', stage, removal: 'remove', protect: false, home: 'aws', providers: { aws: {} } },
    outfile,
  );
  const output = execFileSync(
    process.execPath,
    [
      join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      join(import.meta.dirname, 'run-under-mocks.ts'),
      outfile,
      app,
    ],
    {
      cwd: app,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' },
    },
  );
  return JSON.parse(output) as StageRun;
}

beforeAll(async () => {
  cpSync(join(import.meta.dirname, 'app'), app, { recursive: true });
  installPackedPackage();
  linkPlatform();
  runs.dev = await runStage('dev');
  runs.prod = await runStage('prod');
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const ofType = (run: StageRun, type: string) => run.registered.filter((resource) => resource.type === type);
const physicalNames = (run: StageRun) =>
  run.registered
    .filter((resource) => resource.name.startsWith('Locks') && typeof resource.inputs.name === 'string')
    .map((resource) => String(resource.inputs.name))
    .sort();

describe('an SST app that installs the package', () => {
  it('deploys the bundles its build made (dist/handlers), keeping no code text in the state', () => {
    // The component's own (the app's SST function is SST's to build).
    const functions = ofType(runs.prod, 'aws:lambda/function:Function').filter((fn) =>
      fn.name.startsWith('Locks'),
    );
    expect(functions.length).toBeGreaterThanOrEqual(7);
    for (const fn of functions) {
      // A file archive is a path (and a hash in the state); a string asset would carry the text.
      const code = fn.inputs.code as { path?: string; assets?: unknown };
      expect(code.assets).toBeUndefined();
      expect(code.path).toMatch(/node_modules\/dynamo-dlm\/dist\/handlers$/);
      expect(fn.inputs.handler).toMatch(/^[a-z-]+\.handler$/);
    }
    // The folder as Lambda gets it, copied where nothing else resolves an import: a bare Node
    // finds each function's handler in the file its handler setting names.
    const folder = (functions[0]?.inputs.code as { path?: string } | undefined)?.path;
    if (!folder) throw new Error('no function of the component to import');
    const deployedCopy = join(work, 'deployed');
    cpSync(folder, deployedCopy, { recursive: true });
    const files = functions.map((fn) => `${String(fn.inputs.handler).replace(/\.handler$/, '')}.mjs`);
    const script = `for (const file of ${JSON.stringify(files)}) console.log(file, typeof (await import('./' + file)).handler);`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: deployedCopy,
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' },
      encoding: 'utf8',
    });
    expect(output.trim().split('\n').sort()).toEqual(files.map((file) => `${file} function`).sort());
  });

  it("names every resource of the component after the app and the stage, never the other stage's", () => {
    const dev = physicalNames(runs.dev);
    const prod = physicalNames(runs.prod);
    expect(dev.length).toBeGreaterThan(15);
    expect(dev.every((name) => name.includes('consumer-dev'))).toBe(true);
    expect(prod).toEqual(dev.map((name) => name.replace('consumer-dev', 'consumer-prod')));
    const tables = ofType(runs.dev, 'aws:dynamodb/table:Table').map((table) => table.inputs.name);
    expect(tables).toEqual(['consumer-dev-locks', 'consumer-dev-requests']);
  });

  it('gives a linked function the table name and the step ARNs, and the IAM the library needs on the table', () => {
    const build = runs.dev.builds.find((entry) => entry.functionID === 'Worker');
    const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:consumer-dev-${name}`;
    expect(build?.links.Locks).toEqual({
      tableName: 'consumer-dev-locks',
      acquireArn: arn('acquire'),
      releaseArn: arn('release'),
      countArn: arn('count'),
      extendArn: arn('extend'),
      // SST names the type after the URN (the stack's and the component's types).
      type: expect.stringMatching(/DynamoDlm$/),
    });
    const policies = ofType(runs.dev, 'aws:iam/role:Role')
      .filter((role) => role.name.startsWith('Worker'))
      .flatMap((role) => (role.inputs.inlinePolicies as { policy: string }[] | undefined) ?? [])
      .flatMap((inline) => JSON.parse(inline.policy).Statement);
    expect(policies).toContainEqual({
      Effect: 'Allow',
      Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:GetItem'],
      Resource: ['arn:aws:dynamodb:us-east-1:123456789012:table/consumer-dev-locks'],
    });
  });

  it("takes $transform(DynamoDlm, ...) and the component's own transform", () => {
    const logGroups = ofType(runs.dev, 'aws:cloudwatch/logGroup:LogGroup').filter((group) =>
      group.name.startsWith('Locks'),
    );
    expect(logGroups.map((group) => group.inputs.retentionInDays)).toEqual(logGroups.map(() => 7));
    const functions = ofType(runs.dev, 'aws:lambda/function:Function').filter((fn) =>
      fn.name.startsWith('Locks'),
    );
    expect(functions).toHaveLength(7);
    expect(functions.map((fn) => fn.inputs.memorySize)).toEqual(functions.map(() => 512));
  });

  it("builds with the helpers an SST state machine that calls the component's functions with the steps' payloads", () => {
    const [machine] = ofType(runs.dev, 'aws:sfn/stateMachine:StateMachine');
    const { States: states } = JSON.parse(String(machine?.inputs.definition));
    const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:consumer-dev-${name}`;
    const request = { resourceId: '{% $states.input.tenant %}', concurrency: 2, leaseSeconds: 300 };
    expect(states.PartnerAcquire).toMatchObject({
      QueryLanguage: 'JSONata',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Arguments: { FunctionName: arn('acquire'), Payload: acquirePayload(request) },
      Assign: { lock: '{% $states.result %}' },
      Retry: lambdaServiceRetry,
      Catch: [{ ErrorEquals: ['Lock.Timeout'], Next: 'PartnerNoSlotInTime' }],
      Next: 'Work',
    });
    expect(states.Work).toMatchObject({
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'PartnerReleaseAfterFailure' }],
      Next: 'PartnerRelease',
    });
    for (const release of ['PartnerRelease', 'PartnerReleaseAfterFailure']) {
      expect(states[release]).toMatchObject({
        Arguments: { FunctionName: arn('release'), Payload: leasePayload() },
        Retry: lambdaServiceRetry,
      });
    }
    expect(states.PartnerReleaseAfterFailure.Next).toBe('PartnerWorkFailed');
    expect(states.PartnerWorkFailed).toMatchObject({ Type: 'Fail', Error: 'Work.Failed' });
    expect(states.HowBusy.Arguments.FunctionName).toBe(arn('count'));
    // SST grants the machine's role the invocations its tasks make.
    const role = ofType(runs.dev, 'aws:iam/role:Role').find((entry) => entry.name.startsWith('Orders'));
    const statements = ((role?.inputs.inlinePolicies ?? []) as { policy: string }[]).flatMap(
      (inline) => JSON.parse(inline.policy).Statement,
    );
    for (const name of ['acquire', 'release', 'count'])
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: [arn(name)],
      });
  });
});
