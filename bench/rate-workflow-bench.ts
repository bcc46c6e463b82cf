import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { exampleStateMachine } from '../core/steps/example-state-machine.js';
import { useClients } from '../functions/lib/clients.js';
import { countRequests } from '../local/count-requests.js';
import { startLocalAws } from '../local/start-local-aws.js';
import type { BenchRow } from './core-bench.js';
import { countingDynamoDbClient } from './measure.js';
import { startExecutions, waitForAll } from './run-executions.js';
import { startRateFigures } from './start-rate.js';

const executions = 200;
const rate = { limit: 5, periodSeconds: 1, burst: 5 };
const leaseSeconds = 300;

/**
 * Issue 20's case through the workflow steps on the local AWS: 200 executions of the example
 * workflow on one resource with 20 slots and a start rate of 5 a second (burst 5), arriving at
 * 20 a second, each working 1 s (20 slots could start 20 a second: the rate holds them back).
 * The start rate after the first burst (target 5/s ± 10%), the busiest second, and the requests
 * each grant and its release cost.
 */
export async function runRateWorkflowBench(
  dynamodbEndpoint: string,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const aws = await startLocalAws({
    dynamodbEndpoint,
    tableName: `bench_rate_workflow_${Date.now()}`,
    retry: { baseSeconds: 1, capSeconds: 60 },
    logger: () => {},
  });
  const dynamodb = countingDynamoDbClient(aws.endpoints.dynamodb);
  const sqs = new SQSClient({ endpoint: aws.endpoints.sqs, region: aws.region });
  const sqsCounts = countRequests(sqs).counts;
  const sfn = new SFNClient({ endpoint: aws.endpoints.stepfunctions, region: aws.region });
  // This run's endpoints: a client made for an earlier local AWS would talk to a stopped one.
  useClients({ dynamodb: dynamodb.client, sqs, sfn });
  const starts: number[] = [];
  try {
    const workArn = aws.lambda.register({
      name: 'bench-rate-work',
      timeoutSeconds: 30,
      handler: async (event: { lock: { expiresAt: string } }) => {
        // A grant's start is its lease's: the end it was answered less the lease it asked for.
        starts.push(Date.parse(event.lock.expiresAt) - leaseSeconds * 1000);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return {};
      },
    });
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'bench-rate',
        roleArn: 'arn:aws:iam::000000000000:role/local',
        definition: JSON.stringify(
          exampleStateMachine({
            functions: aws.functions,
            workFunctionArn: workArn,
            leaseSeconds,
            waitSeconds: 240,
            resourceId: { path: '$.resourceId' },
            concurrency: 20,
            rate: { path: '$.rate' },
          }),
        ),
      }),
    );
    const writesBefore = dynamodb.writes();
    const readsBefore = dynamodb.reads();
    const sendsBefore = sqsCounts.get('SendMessage') ?? 0;
    const started = performance.now();
    const arns: string[] = [];
    for (let wave = 0; wave < executions / 4; wave++) {
      const input = { resourceId: 'bench-rate-200', rate };
      arns.push(...(await startExecutions(sfn, stateMachineArn as string, Array(4).fill(input))));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await waitForAll(sfn, arns);
    const figures = startRateFigures(starts, rate);
    const per = (value: number) => value / executions;
    log(
      `workflow rate: ${executions} executions in ${Math.round(performance.now() - started)} ms, ` +
        `${figures.perSecond.toFixed(2)} starts/s over ${(figures.spanMs / 1000).toFixed(1)} s`,
    );
    return [
      {
        case: 'workflow, rate 5/s burst 5, 20 slots: start rate',
        value: figures.perSecond,
        unit: 'starts/s',
        note: 'target 4.5 to 5.5',
      },
      {
        case: 'workflow, rate 5/s burst 5: most starts in 1 s',
        value: figures.busiestPeriod,
        unit: 'starts',
        note: 'at most limit + burst = 10',
      },
      {
        case: 'workflow, rate 5/s: per grant+release DynamoDB writes',
        value: per(dynamodb.writes() - writesBefore),
        unit: 'requests',
      },
      {
        case: 'workflow, rate 5/s: per grant+release DynamoDB reads',
        value: per(dynamodb.reads() - readsBefore),
        unit: 'requests',
      },
      {
        case: 'workflow, rate 5/s: per grant+release SQS SendMessage',
        value: per((sqsCounts.get('SendMessage') ?? 0) - sendsBefore),
        unit: 'requests',
      },
    ];
  } finally {
    sfn.destroy();
    await aws.stop();
  }
}
