import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A log file in a folder of its own; `remove()` deletes the folder with the log. */
export interface PrivateLog {
  file: string;
  folder: string;
  stream: WriteStream;
  remove(): Promise<void>;
}

/**
 * Opens `<parent>/<prefix>XXXXXX/<name>`: `mkdtemp` makes the folder with a name nobody could
 * guess before it exists, mode 0700, so no other user of the machine can plant a symlink in it,
 * read the log or swap the file; the shared temp folder (`/tmp`) is writable by all of them, and
 * a fixed path there was theirs to plant. `wx` refuses to open anything already there.
 *
 * @example
 * const log = await createPrivateLog('dynamo-dlm-dynamodb-', 'dynamodb-local.log');
 * child.stdout?.pipe(log.stream);
 * await log.remove();
 */
export async function createPrivateLog(prefix: string, name: string, parent = tmpdir()): Promise<PrivateLog> {
  const folder = await mkdtemp(join(parent, prefix));
  const file = join(folder, name);
  const stream = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  return {
    file,
    folder,
    stream,
    remove: async () => {
      await new Promise<void>((resolve) => stream.end(resolve));
      await rm(folder, { recursive: true, force: true });
    },
  };
}
