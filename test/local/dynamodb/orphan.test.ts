import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const starter = fileURLToPath(new URL('./start-and-print-pid.ts', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('DynamoDB Local outliving the process that started it', () => {
  it('exits when that process is killed without a chance to stop it (SIGKILL)', async () => {
    // Before: the Java process stayed, listening, with ppid 1 (three were found left by crashed
    // scripts on this machine, an hour later).
    // Node itself with tsx's loader: the tsx command would put a second process in between.
    const parent = spawn(process.execPath, ['--import', 'tsx', starter], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const javaPid = await new Promise<number>((resolve, reject) => {
      let out = '';
      parent.stdout.on('data', (chunk) => {
        out += chunk;
        const match = /java pid (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      parent.once('exit', (code) =>
        reject(new Error(`the starter exited (${code}) before DynamoDB Local answered`)),
      );
    });
    expect(alive(javaPid)).toBe(true);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 15_000;
    while (alive(javaPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const left = alive(javaPid);
    if (left) process.kill(javaPid, 'SIGKILL');
    expect(left).toBe(false);
  }, 90_000);
});
