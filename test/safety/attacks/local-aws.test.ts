import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../../local/dynamodb/start-dynamodb-local.js';
import { findFreePort } from '../../../local/free-port.js';

/**
 * The three ways in that a review found on the local AWS of `npm start` and `npm test`, replayed
 * against the running servers: another machine on the network, a symlink planted in the shared
 * temp folder, and a web page that rebinds its own host name to 127.0.0.1.
 */

describe("DynamoDB Local's log", () => {
  let sandbox: string;
  let savedTmpdir: string | undefined;

  beforeAll(async () => {
    // The attack runs in a temp folder of its own, so no other run on this machine writes through the plants.
    sandbox = await mkdtemp(join(tmpdir(), 'dlm-attack-'));
    savedTmpdir = process.env.TMPDIR;
    process.env.TMPDIR = sandbox;
  });

  afterAll(async () => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    await rm(sandbox, { recursive: true, force: true });
  });

  it('writes nothing through symlinks planted at the old fixed path in the temp folder', async () => {
    // Another user of the machine owns the old folder name (a symlink to a folder they read)
    // and, inside it, the log's name for the port we will take (a symlink to a file of ours).
    const attackerFolder = join(sandbox, 'attacker');
    const victim = join(sandbox, 'victim.txt');
    await mkdir(attackerFolder);
    await writeFile(victim, 'precious\n');
    await symlink(attackerFolder, join(sandbox, 'dynamo-dlm-local'));
    const port = await findFreePort();
    await symlink(victim, join(attackerFolder, `dynamodb-local-${port}.log`));

    const dynamodb = await startDynamoDbLocal({ port });
    try {
      expect(await readFile(victim, 'utf8')).toBe('precious\n');
      expect(await readdir(attackerFolder)).toEqual([`dynamodb-local-${port}.log`]);
      expect(dynamodb.logFile.startsWith(attackerFolder)).toBe(false);
    } finally {
      await dynamodb.stop();
    }
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
  });

  it('goes to a fresh folder that only this user can enter', async () => {
    const first = await startDynamoDbLocal();
    const second = await startDynamoDbLocal();
    try {
      for (const { logFile } of [first, second]) {
        expect(dirname(dirname(logFile))).toBe(sandbox);
        expect((await stat(dirname(logFile))).mode & 0o777).toBe(0o700);
      }
      expect(dirname(first.logFile)).not.toBe(dirname(second.logFile));
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    // Stopped, they leave nothing behind in the shared temp folder.
    for (const { logFile } of [first, second]) await expect(stat(dirname(logFile))).rejects.toThrow(/ENOENT/);
  });
});
