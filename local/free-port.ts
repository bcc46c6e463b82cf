import { createServer } from 'node:net';

/**
 * Finds a free TCP port on 127.0.0.1, preferring `preferred` when it is free.
 *
 * @example
 * const port = await findFreePort(8000); // 8000, or another free port when 8000 is taken
 */
export async function findFreePort(preferred = 0): Promise<number> {
  try {
    return await listenOnce(preferred);
  } catch (error) {
    if (preferred === 0) throw error;
    return listenOnce(0);
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const chosen = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve(chosen));
    });
  });
}
