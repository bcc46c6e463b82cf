import { randomBytes } from 'node:crypto';

/**
 * A new lease id: 128 bits from the operating system's CSPRNG, as 32 hex characters.
 * It is a bearer secret: whoever knows it may release or extend the lease.
 *
 * @example
 * const releaseCode = newReleaseCode(); // 'f3a9…' (32 hex digits)
 */
export function newReleaseCode(): string {
  return randomBytes(16).toString('hex');
}
