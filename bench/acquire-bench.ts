import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDbLock } from '../core/dynamo-db-lock.js';
import { handler as acquire } from '../functions/acquire.js';
import { useClients } from '../functions/lib/clients.js';
import { countItemTraffic, type ItemTraffic } from '../local/count-requests.js';
import { startLocalAws } from '../local/start-local-aws.js';
import type { BenchRow } from './core-bench.js';

/** Contended acquires measured: enough to average out the one-off first writes. */
const acquires = 50;
/** AWS's task tokens run to about a thousand characters. */
const tokenLength = 1_024;

/**
 * What one contended acquire step costs in DynamoDB (items and capacity units, as DynamoDB Local
 * reports them): `acquires` workflows arriving at a mutex that a library client holds, each
 * invoking the real acquire handler, which finds the slot busy and records the request. The cost
 * rule of issue 15: keeping tokens and grants out of the lock table adds at most one write per grant.
 *
 * @example
 * rows.push(...(await runAcquireBench('http://127.0.0.1:8000', log)));
 */
export async function runAcquireBench(
  dynamodbEndpoint: string,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const aws = await startLocalAws({
    dynamodbEndpoint,
    tableName: `bench_acquire_${Date.now()}`,
    logger: () => {},
  });
  const client = new DynamoDBClient({
    endpoint: dynamodbEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const traffic = countItemTraffic(client);
  // This run's endpoints: a client made for an earlier local AWS would talk to a stopped one.
  const sqs = new SQSClient({ endpoint: aws.endpoints.sqs, region: aws.region });
  useClients({
    dynamodb: client,
    sqs,
    sfn: new SFNClient({ endpoint: aws.endpoints.stepfunctions, region: aws.region }),
  });
  try {
    const resourceId = 'bench-contended';
    const holder = new DynamoDbLock(resourceId, { tableName: aws.tableName, client, duration: 3_600 });
    await holder.acquire();
    const before = traffic.snapshot();
    for (let index = 0; index < acquires; index++) {
      const outcome = await acquire({
        taskToken: `bench-token-${index}-`.padEnd(tokenLength, 'x'),
        resourceId,
        concurrency: 1,
        leaseSeconds: 300,
        owner: `arn:aws:states:us-east-1:000000000000:execution:bench:${index}`,
      });
      if (outcome.status !== 'waiting')
        throw new Error(`acquire ${index} came to ${outcome.status}, not waiting`);
    }
    const after = traffic.snapshot();
    const per = (key: keyof ItemTraffic) => (after[key] - before[key]) / acquires;
    log(
      `contended acquire: ${JSON.stringify(Object.fromEntries(Object.keys(after).map((key) => [key, per(key as keyof ItemTraffic)])))}`,
    );
    const note = `a mutex held, ${acquires} acquire steps, tokens of ${tokenLength} characters`;
    return [
      { case: 'contended acquire step: items read', value: per('itemsRead'), unit: 'items', note },
      { case: 'contended acquire step: items written', value: per('itemsWritten'), unit: 'items' },
      { case: 'contended acquire step: read units', value: per('readUnits'), unit: 'RCU' },
      { case: 'contended acquire step: write units', value: per('writeUnits'), unit: 'WCU' },
    ];
  } finally {
    client.destroy();
    sqs.destroy();
    await aws.stop();
  }
}
