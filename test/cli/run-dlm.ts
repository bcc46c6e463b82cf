import { runCli } from '../../cli/run-cli.js';

/** What one in-process run of `dlm` printed and answered. */
export interface DlmRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `dlm` in-process with the given arguments, capturing stdout and stderr. */
export async function runDlm(...argv: string[]): Promise<DlmRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    debug: false,
  });
  return { code, stdout, stderr };
}

/**
 * Fails when `text` contains any 8 consecutive characters of a secret (a release code, a task
 * token): the CLI must not print them, not even partly.
 */
export function leakedPart(text: string, secrets: readonly string[]): string | undefined {
  for (const secret of secrets) {
    for (let start = 0; start + 8 <= secret.length; start++) {
      const part = secret.slice(start, start + 8);
      if (text.includes(part)) return part;
    }
  }
  return undefined;
}
