import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockFunctions } from '../../functions/catalog.js';
import { type DeployedFunctionLike, deployedService, resolved, root } from './pulumi-mocks.js';

// Outside the repository, so that nothing but the bundle itself can satisfy an import.
const directory = mkdtempSync(join(tmpdir(), 'dynamo-dlm-bundles-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const names = [...Object.keys(lockFunctions), 'example-work'];
const deployed = new Map<string, DeployedFunctionLike>();
/** What a plain Node process (no test runner in between) found in each bundle: `typeof handler`, or the import error. */
let imported: Record<string, string> = {};

beforeAll(async () => {
  const { created } = await deployedService();
  const files: Record<string, string> = {};
  for (const name of names) {
    const function_ = name === 'example-work' ? created.example.work : created.locks.functions[name];
    if (!function_) continue;
    deployed.set(name, function_);
    mkdirSync(join(directory, name));
    files[name] = join(directory, name, 'index.mjs');
    writeFileSync(files[name], await resolved(function_.bundle));
  }
  const script = `
    const found = {};
    for (const [name, file] of Object.entries(${JSON.stringify(files)})) {
      try { found[name] = typeof (await import(${JSON.stringify(pathToFileURL(directory).href)} + '/' + name + '/index.mjs')).handler; }
      catch (error) { found[name] = 'import failed: ' + error.message; }
    }
    console.log(JSON.stringify(found));`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: directory,
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' },
    encoding: 'utf8',
  });
  imported = JSON.parse(output.trim().split('\n').at(-1) ?? '{}');
}, 120_000);

describe('the deployed code', () => {
  for (const name of names) {
    it(`of ${name} is a bundle of functions/${name}.ts that a bare Node imports, exporting a handler`, () => {
      expect(deployed.get(name)?.entry).toBe(join(root, 'functions', `${name}.ts`));
      expect(imported[name]).toBe('function');
    });
  }
});
