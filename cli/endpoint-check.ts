import { BlockList, isIP } from 'node:net';

// Where a plain-http request cannot leave this machine: DynamoDB Local, a tunnel's local end.
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * Why `dlm` must not send its requests to `endpoint`, or undefined when it may. Every request is
 * signed with the caller's credentials (the access key id and any session token travel in its
 * headers), so plain `http://` is allowed only to loopback: 127.0.0.0/8, ::1, localhost.
 * `https://` is fine anywhere.
 *
 * @example
 * endpointProblem('http://localhost:8000'); // undefined
 * endpointProblem('http://10.0.0.5:8000'); // 'dlm refuses plain http:// to 10.0.0.5, ...'
 */
export function endpointProblem(endpoint: string): string | undefined {
  const url = URL.parse(endpoint);
  if (!url) return `the endpoint ${JSON.stringify(endpoint)} is not a URL`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:')
    return `the endpoint must be https:// (or http:// to loopback), got ${url.protocol}//`;
  if (isLoopback(url.hostname)) return undefined;
  return (
    `dlm refuses plain http:// to ${url.hostname}, which is not loopback (127.0.0.0/8, ::1, localhost): ` +
    'its requests carry your AWS access key id and session token; use https://'
  );
}

function isLoopback(hostname: string): boolean {
  if (hostname === 'localhost') return true;
  // The URL parser has normalized the address (`127.1` is `127.0.0.1`, IPv6 is in brackets).
  const address = hostname.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(address);
  return family !== 0 && loopback.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
