import { spawnSync } from 'node:child_process';

/** Thrown when Java 17+ is missing; its message is the one line a user needs. */
export class JavaMissingError extends Error {
  override name = 'JavaMissingError';
}

/**
 * Checks that `java` runs and is version 17 or newer (DynamoDB Local needs it).
 *
 * @example
 * assertJava17(); // throws JavaMissingError with the install hint
 */
export function assertJava17(java = 'java'): void {
  const hint = 'install it with: apt-get install openjdk-17-jre-headless (or any Java 17+ on PATH)';
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new JavaMissingError(
      `DynamoDB Local needs Java 17 or newer, and \`${java}\` was not found; ${hint}`,
    );
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(result.stderr + result.stdout);
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : 0;
  if (major < 17) {
    throw new JavaMissingError(
      `DynamoDB Local needs Java 17 or newer, found Java ${major || 'of unknown version'}; ${hint}`,
    );
  }
}

/**
 * Whether this `java` can run a program from its source (`java Launcher.java`): JDKs and most
 * JREs of Linux distributions carry the `jdk.compiler` module it needs; trimmed runtimes (jlink
 * images, some JRE builds) do not.
 *
 * @example
 * javaCompilesSource(); // true with Debian's openjdk-17-jre-headless
 */
export function javaCompilesSource(java = 'java'): boolean {
  const result = spawnSync(java, ['--list-modules'], { encoding: 'utf8' });
  return result.status === 0 && /^jdk\.compiler@/m.test(result.stdout);
}
