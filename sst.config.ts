/// <reference path="./.sst/platform/config.d.ts" />

export default $config({
  app(input) {
    return {
      name: 'dynamo-dlm',
      // Every stage keeps its tables on `sst remove` (SST's "retain": tables and buckets stay,
      // functions, queues and rules go): a stage's lock table may be the one Python services
      // share, whatever the stage is called. `DLM_REMOVE_TABLES=true` is the opt-out (README).
      removal: 'retain',
      protect: input?.stage === 'prod',
      home: 'aws',
      providers: { aws: { version: '7.20.0' } },
    };
  },
  async run() {
    const { deployService } = await import('./stacks/index.js');
    return deployService();
  },
});
