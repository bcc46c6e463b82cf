import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/**
 * `npm run chaos`: the safety suite (test/safety) and the soak (test/chaos) in their long form,
 * with a fresh seed each run (printed; replay with `CHAOS_SEED=...`). Sizes can be set one by
 * one: CHAOS_RUNS, CHAOS_COMMANDS, CHAOS_MODEL_SECONDS, CHAOS_FAULT_ROUNDS,
 * CHAOS_SOAK_EXECUTIONS, CHAOS_SOAK_SECONDS.
 */
export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    ...base.test,
    include: ['test/safety/**/*.test.ts', 'test/chaos/**/*.test.ts'],
    env: { ...base.test?.env, CHAOS: process.env.CHAOS ?? 'long' },
    testTimeout: 600_000,
  },
});
