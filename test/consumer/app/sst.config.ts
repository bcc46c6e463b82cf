/// <reference path="./.sst/platform/config.d.ts" />

// Another team's app: it installs dynamo-dlm and uses only what the package exports.
export default $config({
  app() {
    return { name: 'consumer', removal: 'remove', home: 'aws' };
  },
  async run() {
    const { DynamoDlm } = await import('dynamo-dlm/sst');
    const { acquireState, releaseState } = await import('dynamo-dlm/steps');
    $transform(DynamoDlm, (args) => {
      args.logRetentionDays = 7;
    });
    const locks = new DynamoDlm('Locks', { transform: { function: { memorySize: 512 } } });
    const worker = new sst.aws.Function('Worker', { handler: 'src/worker.handler', link: [locks] });
    const machineRole = new aws.iam.Role('OrdersRole', {
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    });
    const orders = new aws.sfn.StateMachine('Orders', {
      roleArn: machineRole.arn,
      definition: $resolve([locks.steps.acquire, locks.steps.release]).apply(([acquire, release]) =>
        JSON.stringify({
          StartAt: 'Acquire',
          States: {
            Acquire: acquireState({
              functionArn: acquire,
              resourceId: 'partner-api',
              concurrency: 2,
              next: 'Release',
            }),
            Release: releaseState({ functionArn: release, end: true }),
          },
        }),
      ),
    });
    return { tableName: locks.tableName, workerName: worker.name, ordersArn: orders.arn };
  },
});
