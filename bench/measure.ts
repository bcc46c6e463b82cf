import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { countRequests, dynamoDbReadCommands, dynamoDbWriteCommands } from '../local/count-requests.js';

/** A DynamoDB client that counts the requests it sends: all writes, all reads, or by command name. */
export function countingDynamoDbClient(endpoint: string): {
  client: DynamoDBClient;
  count(name: string): number;
  writes(): number;
  reads(): number;
} {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // Every function of the local AWS shares this one client: on AWS each would have its own
    // sockets, so the SDK's default of 50 would make a burst of a thousand acquires queue here.
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: 1_000 } },
  });
  const { count, sum } = countRequests(client);
  return { client, count, writes: () => sum(dynamoDbWriteCommands), reads: () => sum(dynamoDbReadCommands) };
}

/** Runs `clients` loops of `cycle` until `durationMs` has passed; answers the cycles completed and their rate. */
export async function runLoops(
  clients: number,
  durationMs: number,
  cycle: (client: number) => Promise<void>,
): Promise<{ cycles: number; perSecond: number; elapsedMs: number }> {
  let cycles = 0;
  const started = performance.now();
  const until = started + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < until) {
        await cycle(client);
        cycles++;
      }
    }),
  );
  const elapsed = performance.now() - started;
  return { cycles, perSecond: (cycles * 1000) / elapsed, elapsedMs: elapsed };
}
