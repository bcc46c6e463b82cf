/**
 * Installs `Promise.withResolvers` when the runtime lacks it (Node 20). The ASL engine calls it on
 * every Task state, so this module must be imported before `aws-local-stepfunctions` runs a machine.
 *
 * @example
 * import './polyfill.js';
 * import { StateMachine } from 'aws-local-stepfunctions';
 */
export function installPromiseWithResolvers(): void {
  const promise = Promise as unknown as { withResolvers?: unknown };
  if (typeof promise.withResolvers === 'function') return;
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const created = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise: created, resolve, reject };
    },
  });
}

installPromiseWithResolvers();
