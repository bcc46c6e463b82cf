import { describe, expect, it } from 'vitest';
import { runDlm } from './run-dlm.js';

describe('dlm usage', () => {
  it('prints the help on stdout with --help and exits 0', async () => {
    const { code, stdout, stderr } = await runDlm('--help');
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: dlm <command> [options]');
    expect(stdout).toMatch(/SCANS THE WHOLE\s+TABLE/);
    expect(stderr).toBe('');
  });

  it.each([
    { argv: [], problem: 'missing command' },
    { argv: ['stats', 'x'], problem: 'unknown command "stats"' },
    { argv: ['status'], problem: 'status needs a <resourceId>' },
    { argv: ['count'], problem: 'count needs a <resourceId>' },
    { argv: ['status', 'a', 'b'], problem: 'status takes one <resourceId>, got 2' },
    { argv: ['locks', 'x'], problem: 'locks takes no argument' },
    { argv: ['status', 'x', '--colour'], problem: "Unknown option '--colour'" },
    { argv: ['status', 'x', '--table'], problem: "Option '--table <value>' argument missing" },
    { argv: ['status', 'x', '--table', 'a b'], problem: 'Expected `--table` to be a DynamoDB table name' },
    { argv: ['status', 'x', '--endpoint', 'localhost'], problem: '--endpoint must be a URL' },
    {
      argv: ['status', 'x', '--slot', '1'],
      problem: '--slot, --force and --forced-by are options of release only',
    },
    { argv: ['release', 'x', '--force'], problem: 'release needs --slot N' },
    {
      argv: ['release', 'x', '--slot', 'one', '--force'],
      problem: '--slot must be an integer from 0 to 999',
    },
    { argv: ['release', 'x', '--slot', '1.5', '--force'], problem: '--slot must be an integer' },
    { argv: ['release', 'x', '--slot=-1', '--force'], problem: '--slot must be an integer' },
    { argv: ['release', 'x', '--slot', '1000', '--force'], problem: '--slot must be an integer' },
    { argv: ['release', 'x', '--slot', '0'], problem: 'add --force to do it' },
    { argv: ['release', '--slot', '0', '--force'], problem: 'release needs a <resourceId>' },
    { argv: ['limit'], problem: 'limit needs a <resourceId>' },
    { argv: ['limit', 'x', '0'], problem: 'limit K must be an integer from 1 to 1000, got "0"' },
    { argv: ['limit', 'x', '1001'], problem: 'limit K must be an integer from 1 to 1000, got "1001"' },
    { argv: ['limit', 'x', '2.5'], problem: 'limit K must be an integer' },
    { argv: ['limit', 'x', 'three'], problem: 'limit K must be an integer' },
    { argv: ['limit', 'x', '3', '4'], problem: 'limit takes <resourceId> [K], got 3 arguments' },
    { argv: ['limit', 'x', '--set-by', 'alice'], problem: '--set-by goes with a new limit K' },
    { argv: ['limit', 'x', '3', '--set-by', ''], problem: '--set-by must be 1 to 256 printable ASCII' },
    { argv: ['status', 'x', '--set-by', 'alice'], problem: '--set-by is an option of limit only' },
    {
      argv: ['limit', 'x', '3', '--force'],
      problem: '--slot, --force and --forced-by are options of release only',
    },
  ])('exits 2 with the problem and the usage for $argv', async ({ argv, problem }) => {
    const { code, stdout, stderr } = await runDlm(...argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toContain(problem);
    expect(stderr.split('\n')[0]?.startsWith('dlm: ')).toBe(true);
    expect(stderr).toContain('Usage: dlm <command> [options]');
  });

  it('exits 1 with one line when DynamoDB cannot be reached', async () => {
    const { code, stdout, stderr } = await runDlm('count', 'x', '--endpoint', 'http://127.0.0.1:9');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^dlm: cannot reach DynamoDB at http:\/\/127\.0\.0\.1:9 \(E[A-Z]+\)\n$/);
  });
});
