import { logger } from '../../../functions/lib/logger.js';

/** A Step Functions task token of the local endpoint (AWS's are longer, and also start with `AQ`). */
export const taskTokenPattern = /AQB[A-Za-z0-9_-]{64}/;

/** What was written while capturing: one entry per line, from stdout, stderr and the console. */
export interface CapturedOutput {
  lines: string[];
  /** Stops capturing and puts everything back. */
  stop(): void;
}

type Write = typeof process.stdout.write;
const consoleMethods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/**
 * Captures every line the process writes (the functions log JSON lines through Powertools to
 * stdout) with the functions' log level raised to INFO, so that tests can look for secrets in them.
 */
export function captureOutput(level: 'INFO' | 'DEBUG' = 'INFO'): CapturedOutput {
  const lines: string[] = [];
  const keep = (chunk: unknown) => {
    lines.push(
      ...String(chunk)
        .split('\n')
        .filter((line) => line.length > 0),
    );
  };
  const saved = {
    stdout: process.stdout.write,
    stderr: process.stderr.write,
    console: consoleMethods.map((method) => console[method]),
    level: logger.getLevelName(),
  };
  const capture = ((chunk: unknown, ...rest: unknown[]) => {
    keep(chunk);
    const callback = rest.find((argument) => typeof argument === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as Write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  for (const method of consoleMethods)
    console[method] = (...items: unknown[]) => keep(items.map(String).join(' '));
  logger.setLogLevel(level);
  return {
    lines,
    stop() {
      process.stdout.write = saved.stdout;
      process.stderr.write = saved.stderr;
      consoleMethods.forEach((method, index) => {
        console[method] = saved.console[index] as (typeof console)[typeof method];
      });
      logger.setLogLevel(saved.level);
    },
  };
}

/** The captured lines that contain a whole task token. */
export function linesWithTokens(lines: string[], tokens: Iterable<string> = []): string[] {
  const known = [...tokens];
  return lines.filter((line) => taskTokenPattern.test(line) || known.some((token) => line.includes(token)));
}
