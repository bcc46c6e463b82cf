import { randomBytes } from 'node:crypto';

const codeBytes = 16;
// Codes are cut from a buffer of 128 at a time: one call into the CSPRNG per 128 leases instead
// of one per lease (a measurable share of an uncontended cycle), as Node does for randomUUID.
const poolBytes = codeBytes * 128;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * A new lease id: 128 bits from the operating system's CSPRNG, as 32 hex characters.
 * It is a bearer secret: whoever knows it may release or extend the lease.
 *
 * @example
 * const releaseCode = newReleaseCode(); // 'f3a9…' (32 hex digits)
 */
export function newReleaseCode(): string {
  if (offset + codeBytes > pool.length) {
    pool = randomBytes(poolBytes);
    offset = 0;
  }
  const code = pool.toString('hex', offset, offset + codeBytes);
  // Each code's bytes are used once: wipe them so the pool never holds an issued code.
  pool.fill(0, offset, offset + codeBytes);
  offset += codeBytes;
  return code;
}
