import { createServer, type Server } from 'node:net';

/**
 * Starts `server` listening on 127.0.0.1 at exactly `port` (0: any free one); answers the port.
 *
 * @example
 * const port = await listenAt(httpServer, 0);
 */
export function listenAt(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/**
 * Starts `server` listening on 127.0.0.1 at `preferred`, or at any free port when that one is
 * taken; answers the port.
 *
 * @example
 * const port = await listenOnFreePort(httpServer, 8083); // 8083, or another when 8083 is taken
 */
export async function listenOnFreePort(server: Server, preferred = 0): Promise<number> {
  try {
    return await listenAt(server, preferred);
  } catch (error) {
    if (preferred === 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return listenAt(server, 0);
  }
}

/**
 * Finds a free TCP port on 127.0.0.1, preferring `preferred` when it is free: for a server that
 * must know its port before it starts (a child process, an emulator that writes it into URLs).
 *
 * @example
 * const port = await findFreePort(8000); // 8000, or another free port when 8000 is taken
 */
export async function findFreePort(preferred = 0): Promise<number> {
  const probe = createServer();
  probe.unref();
  const port = await listenOnFreePort(probe, preferred);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
