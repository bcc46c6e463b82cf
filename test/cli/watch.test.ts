import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { StatusReport } from '../../cli/status.js';
import { grantsBetween } from '../../cli/watch-rate.js';
import { HolderClock } from '../../cli/watch-view.js';
import { DynamoDbLock } from '../../core/index.js';
import type { WaitingStore } from '../../core/waiting/waiting-store.js';
import { dynamoDbClient, freshWaitingTables, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { busyResource as busyOn, waiterOwner } from './busy-resource.js';
import { runDlm } from './run-dlm.js';

const busyResource = async (resourceId: string) => {
  await busyOn(store, resourceId);
};

let tableName: string;
let endpoint: string;
let store: WaitingStore;
const quiet = recordingLogger();

/**
 * Runs the real `dlm` under a pseudo-terminal (util-linux `script`), so its stdout is a TTY.
 * One process (`node --import tsx`, exec'd by script's shell), not the `tsx` command: that one
 * is a second process which, when the terminal's SIGINT reaches the CLI over 30 ms after it
 * (a loaded machine), sends the CLI a second SIGINT, and the CLI ends with 130 as on a second
 * Ctrl-C (seen in CI).
 */
function dlmInTerminal(args: string[]) {
  const command = ['exec', process.execPath, '--import', 'tsx', 'cli/dlm.ts', ...args].join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: endpoint },
  });
  let screen = '';
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, screen: () => screen, exited };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  endpoint = inject('dynamodbEndpoint');
  const tables = await freshWaitingTables('watch');
  tableName = tables.tableName;
  store = { client: dynamoDbClient(), ...tables, clock: Date.now, logger: quiet };
});

describe('dlm watch', () => {
  it('shows holders and waiters in a terminal, refreshing each second, and exits 0 on Ctrl-C', async () => {
    const resourceId = uniqueResource('watch');
    await busyResource(resourceId);
    const run = dlmInTerminal(['watch', resourceId, '--table', tableName, '--endpoint', endpoint]);
    try {
      const refreshes = () => run.screen().match(/refresh \d+/g)?.length ?? 0;
      await until(() => refreshes() >= 3, 20_000);
      // The last of the three screens, after its clear-screen sequence.
      const last = (run.screen().split('\u001b[H\u001b[2J').at(-1) ?? '').replace(/\r/g, '');
      expect(last).toContain('refresh 3');
      expect(last).toMatch(/^0 +worker-\w +\d+s +\d+$/m);
      expect(last).toMatch(/^1 +worker-\w +\d+s +\d+$/m);
      expect(last).toMatch(new RegExp(`^1 +\\d+s +${waiterOwner}`, 'm'));
      expect(last).toContain('2 held, 1 waiting');
      expect(last).toMatch(/grants\/min: \d/);
      run.child.stdin.write('\u0003'); // Ctrl-C, which the terminal turns into SIGINT
      expect(await run.exited).toBe(0);
      // The alternate screen was entered at start and left at the end, with the cursor back.
      expect(run.screen()).toContain('\u001b[?1049h');
      expect(run.screen().trimEnd().endsWith('\u001b[?25h\u001b[?1049l')).toBe(true);
    } finally {
      if (run.child.exitCode === null) run.child.kill();
    }
  }, 40_000);

  it('emits one JSON line per refresh with --json, each saying the reads it made', async () => {
    const resourceId = uniqueResource('watch-json');
    const acquiredMs = Date.now();
    await busyResource(resourceId);
    const stop = new AbortController();
    let stdout = '';
    const lines = () => stdout.split('\n').filter(Boolean);
    const { runCli } = await import('../../cli/run-cli.js');
    const running = runCli(
      ['watch', resourceId, '--json', '--interval', '0.2', '--table', tableName, '--endpoint', endpoint],
      {
        stdout: {
          write: (text: string) => {
            stdout += text;
            if (lines().length >= 3) stop.abort();
          },
        },
        stderr: { write: () => {} },
        signal: stop.signal,
      },
    );
    expect(await running).toBe(0);
    expect(lines()).toHaveLength(3);
    for (const line of lines()) {
      const refresh = JSON.parse(line);
      expect(refresh).toMatchObject({ resourceId, held: 2, waiting: 1, reads: 4 });
      expect(refresh.holders.map((holder: { owner: string }) => holder.owner).sort()).toEqual([
        'worker-a',
        'worker-b',
      ]);
      expect(refresh.holders[0]).toEqual(
        expect.objectContaining({ slot: 0, heldForMs: expect.any(Number), fencingToken: expect.any(Number) }),
      );
      // Exact from the first refresh on: from the slot's taken_ms, not from the watch's first sight.
      for (const holder of refresh.holders) {
        expect(holder.heldBeforeWatch).toBe(false);
        expect(holder.heldForMs).toBeGreaterThan(0);
        expect(holder.heldForMs).toBeLessThanOrEqual(Date.now() - acquiredMs);
      }
      expect(refresh.waiters).toEqual([expect.objectContaining({ position: 1, owner: waiterOwner })]);
      expect(refresh.waiters[0].waitedForMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('counts a grant made and released between two refreshes, which no holder list shows', async () => {
    const resourceId = uniqueResource('watch-grants');
    const lockOn = () =>
      new DynamoDbLock(resourceId, {
        tableName,
        client: dynamoDbClient(),
        logger: quiet,
        concurrency: 2,
        duration: 60,
      });
    await lockOn().acquire(); // one holder, the other slot free
    const stop = new AbortController();
    let stdout = '';
    let grantsDone: Promise<void> | undefined;
    const lines = () => stdout.split('\n').filter(Boolean);
    const { runCli } = await import('../../cli/run-cli.js');
    const running = runCli(
      ['watch', resourceId, '--json', '--interval', '1.5', '--table', tableName, '--endpoint', endpoint],
      {
        stdout: {
          write: (text: string) => {
            stdout += text;
            // Between the first refresh and the second: a grant, released at once.
            grantsDone ??= (async () => {
              const lock = lockOn();
              await lock.acquire();
              await lock.release();
            })();
            if (lines().length >= 2) stop.abort();
          },
        },
        stderr: { write: () => {} },
        signal: stop.signal,
      },
    );
    expect(await running).toBe(0);
    await grantsDone;
    const [first, second] = lines().map((line) => JSON.parse(line));
    expect(first).toMatchObject({ held: 1, grantsSinceLastRefresh: null, grantsPerMinute: null });
    expect(second).toMatchObject({ held: 1, grantsSinceLastRefresh: 1 });
    // One grant over the time between the two refreshes (about 1.5 s): about 40 a minute.
    expect(second.grantsPerMinute).toBeGreaterThan(20);
    expect(second.grantsPerMinute).toBeLessThanOrEqual(60 / 1.5 + 1);
  });

  it('is a usage error (exit 2) without a resource or with a bad --interval', async () => {
    for (const [argv, problem] of [
      [['watch'], 'watch needs a <resourceId>'],
      [['watch', 'x', '--interval', '0'], '--interval must be a number of seconds from 0.2 to 3600'],
      [['watch', 'x', '--interval', 'fast'], '--interval must be a number of seconds'],
      [['status', 'x', '--interval', '1'], '--interval is an option of watch only'],
    ] as const) {
      const { code, stderr } = await runDlm(...argv);
      expect(code).toBe(2);
      expect(stderr.split('\n')[0]).toContain(problem);
      expect(stderr).toContain('Usage: dlm <command> [options]');
    }
  });
});

describe('grants per minute, from the fencing tokens of the slots', () => {
  it('counts each step of a slot token as one grant, a new holder item as one, a clock-floor restart as one', () => {
    const before = new Map([
      [0, 1_764_000_000_000_005],
      [1, 1_764_000_000_000_100],
    ]);
    const after = new Map([
      [0, 1_764_000_000_000_008], // three grants on slot 0 since the last refresh
      [1, 1_764_000_090_000_000], // item deleted and taken again from the clock floor
      [2, 1_764_000_090_000_001], // a slot item that was not there
    ]);
    expect(grantsBetween(before, after)).toBe(5);
    expect(grantsBetween(after, after)).toBe(0);
  });
});

describe('held for, as dlm watch counts it', () => {
  const report = (holders: Array<{ slot: number; fencingToken: number; takenAt?: string }>) =>
    ({
      holders: holders.map((holder) => ({
        takenAt: null,
        ...holder,
        owner: 'w',
        expiresAt: '',
        expiresInMs: 0,
      })),
    }) as unknown as StatusReport;

  it("runs from the lease's start when its slot says it (taken_ms), also for a holder already there", () => {
    const clock = new HolderClock();
    const [holder] = clock.holders(
      report([{ slot: 0, fencingToken: 7, takenAt: new Date(500).toISOString() }]),
      3_000,
    );
    expect(holder).toMatchObject({ heldForMs: 2_500, heldBeforeWatch: false });
  });

  it('is a lower bound for a Python holder already there, and counts from its first sight for a new one', () => {
    const clock = new HolderClock();
    clock.holders(report([{ slot: 0, fencingToken: 7 }]), 1_000);
    const [kept, fresh] = clock.holders(
      report([
        { slot: 0, fencingToken: 7 },
        { slot: 1, fencingToken: 3 },
      ]),
      3_000,
    );
    expect(kept).toMatchObject({ slot: 0, heldForMs: 2_000, heldBeforeWatch: true });
    expect(fresh).toMatchObject({ slot: 1, heldForMs: 0, heldBeforeWatch: false });
    // A new holder of slot 0 (a new token) starts again from zero.
    const [next] = clock.holders(report([{ slot: 0, fencingToken: 8 }]), 4_000);
    expect(next).toMatchObject({ heldForMs: 0, heldBeforeWatch: false });
  });
});
