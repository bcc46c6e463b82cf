/// <reference path="./.sst/platform/config.d.ts" />

// Another team's app: it installs dynamo-dlm and uses only what the package exports.
export default $config({
  app() {
    return { name: 'consumer', removal: 'remove', home: 'aws' };
  },
  async run() {
    const { DynamoDlm, withLockTasks, countTask } = await import('dynamo-dlm/sst');
    $transform(DynamoDlm, (args) => {
      args.logRetentionDays = 7;
    });
    const locks = new DynamoDlm('Locks', { transform: { function: { memorySize: 512 } } });
    const worker = new sst.aws.Function('Worker', { handler: 'src/worker.handler', link: [locks] });
    const work = sst.aws.StepFunctions.lambdaInvoke({ name: 'Work', function: worker });
    const { start, end } = withLockTasks(locks, {
      name: 'Partner',
      resourceId: '{% $states.input.tenant %}',
      concurrency: 2,
      leaseSeconds: 300,
      work,
    });
    end.next(countTask(locks, { name: 'HowBusy', resourceId: '{% $states.input.tenant %}' }));
    const orders = new sst.aws.StepFunctions('Orders', { definition: start });
    return { tableName: locks.tableName, workerName: worker.name, ordersArn: orders.arn };
  },
});
