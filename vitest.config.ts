import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // DynamoDB Local (Java) starts once per run here; the in-process servers (SQS, Step
    // Functions, Lambda) start once in the single test worker (test/support/local-aws.ts).
    globalSetup: ['test/global-setup.ts'],
    // One worker, modules shared between files: the in-process local AWS is started once and
    // tests run one file at a time, which also keeps timing-sensitive tests honest on 2 cores.
    pool: 'forks',
    maxWorkers: 1,
    isolate: false,
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    },
  },
});
