import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { LockStoreError } from '../../core/errors.js';
import { sendWithRetry } from '../../core/send.js';
import type { LockStore } from '../../core/store.js';

/*
 * Which failures a store call retries. A client that throws what Node's HTTP stack would is a
 * mock on purpose: DynamoDB Local cannot be made to reset a connection or to be called wrongly.
 */

/** A store whose client fails with `errors` in turn, then answers. */
function failingStore(errors: Error[]): { store: LockStore; calls: () => number } {
  let calls = 0;
  const store: LockStore = {
    client: {
      send: async () => {
        const error = errors[calls++];
        if (error) throw error;
        return {};
      },
    } as unknown as LockStore['client'],
    tableName: 'locks',
    clock: Date.now,
    logger: { warn() {} },
  };
  return { store, calls: () => calls };
}

const get = () => new GetItemCommand({ TableName: 'locks', Key: {} });
const withCode = (code: string) => Object.assign(new Error(`failed: ${code}`), { code });

describe('store call retries', () => {
  it('retries a connection that broke (ECONNRESET): the request or its answer was lost', async () => {
    const { store, calls } = failingStore([withCode('ECONNRESET')]);
    await expect(sendWithRetry(store, get())).resolves.toEqual({});
    expect(calls()).toBe(2);
  });

  it('does not retry an error with another code and no HTTP status: a bug of ours, reported at once', async () => {
    const { store, calls } = failingStore([withCode('ERR_INVALID_ARG_TYPE')]);
    await expect(sendWithRetry(store, get())).rejects.toBeInstanceOf(LockStoreError);
    expect(calls()).toBe(1);
  });
});
