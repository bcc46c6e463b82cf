import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, listenOnFreePort } from '../../local/free-port.js';
import { startJsonServer } from '../../local/stepfunctions/http-server.js';

let blocker: Server;
let taken: number;

beforeAll(async () => {
  blocker = createServer();
  taken = await listenOnFreePort(blocker, 0);
});

afterAll(() => {
  blocker.close();
});

describe('ports on 127.0.0.1', () => {
  it('gives the preferred port when it is free, another when it is taken', async () => {
    const free = await findFreePort();
    expect(await findFreePort(free)).toBe(free);
    const other = await findFreePort(taken);
    expect(other).not.toBe(taken);
    expect(other).toBeGreaterThan(0);
  });

  it('starts the Step Functions endpoint on another port when the preferred one is taken', async () => {
    const server = await startJsonServer(taken, {});
    try {
      expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.endpoint).not.toBe(`http://127.0.0.1:${taken}`);
      // It answers: an unknown action is AWS's UnknownOperationException, status 400.
      const response = await fetch(server.endpoint, {
        method: 'POST',
        headers: { 'X-Amz-Target': 'AWSStepFunctions.Nope' },
        body: '{}',
      });
      expect(response.status).toBe(400);
    } finally {
      await server.close();
    }
  });
});
