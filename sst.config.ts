/// <reference path="./.sst/platform/config.d.ts" />

export default $config({
  app(input) {
    return {
      name: 'dynamo-dlm',
      removal: input?.stage === 'prod' ? 'retain' : 'remove',
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
