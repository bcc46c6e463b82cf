import type { IncomingMessage, ServerResponse } from 'node:http';

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Why a request to a local server must be refused, or undefined when it may run. Listening on
 * 127.0.0.1 keeps other machines out, but not a web page in this machine's browser:
 *
 * - DNS rebinding: a page of `attacker.example` makes its name resolve to 127.0.0.1, and its
 *   scripts then call the server as their own origin, reading every answer. Their `Host` header
 *   still names `attacker.example`, so only our own names pass: `127.0.0.1:<port>` and
 *   `localhost:<port>` (the servers do not listen on `::1`).
 * - A page of another site posting to `http://127.0.0.1:<port>` (a form needs no CORS preflight,
 *   and SQS's query protocol takes its action from the body). Browsers name that page in `Origin`;
 *   the SDK clients send none, and no local server serves a page of its own.
 *
 * DynamoDB Local applies the same rule in Java (`loopback-launcher.ts`).
 *
 * @example
 * refusalOf('127.0.0.1:9324', undefined, 9324); // undefined
 * refusalOf('attacker.example:9324', undefined, 9324); // "Host 'attacker.example:9324' is not ..."
 */
export function refusalOf(
  host: string | undefined,
  origin: string | undefined,
  port: number,
): string | undefined {
  const ownHosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (host === undefined || !ownHosts.includes(host.toLowerCase())) {
    return `Host '${host ?? ''}' is not this local server (${ownHosts.join(' or ')}): refused, as DNS rebinding would send it`;
  }
  if (origin !== undefined && !ownHosts.some((own) => origin.toLowerCase() === `http://${own}`)) {
    return `Origin '${origin}' is a web page of another site: the local AWS takes no calls from browsers`;
  }
  return undefined;
}

/**
 * Wraps a server's handler so that a request a web page could have sent (see {@link refusalOf})
 * gets 403 with the reason, before the handler reads or runs anything of it.
 *
 * @example
 * createServer(localRequestsOnly((req, res) => res.end('ok'))).listen(0, '127.0.0.1');
 */
export function localRequestsOnly(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    // The port the client reached, which is the one the server listens on (127.0.0.1 only).
    const reason = refusalOf(req.headers.host, req.headers.origin, req.socket.localPort ?? 0);
    if (reason === undefined) {
      handler(req, res);
      return;
    }
    const body = `${reason}\n`;
    res.writeHead(403, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    res.end(body);
  };
}
