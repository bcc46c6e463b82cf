/** The part of an AWS SDK v3 client that counting needs. */
interface ClientWithMiddleware {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** The DynamoDB commands that consume write capacity. */
export const dynamoDbWriteCommands = [
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'BatchWriteItem',
];
/** The DynamoDB commands that consume read capacity. */
export const dynamoDbReadCommands = ['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems'];

/**
 * Counts the requests an AWS SDK v3 client sends, by command name (`UpdateItem`, `SendMessage`…),
 * SDK retries not included: what a benchmark or a cost test wants to know.
 *
 * @example
 * const requests = countRequests(dynamodbClient);
 * await lock.acquire();
 * requests.count('PutItem'); // 1
 * requests.sum(dynamoDbWriteCommands); // 1
 */
export function countRequests(client: object): {
  counts: Map<string, number>;
  count(name: string): number;
  sum(names: readonly string[]): number;
  total(): number;
} {
  const counts = new Map<string, number>();
  (client as ClientWithMiddleware).middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName).replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return {
    counts,
    count: (name) => counts.get(name) ?? 0,
    sum: (names) => names.reduce((sum, name) => sum + (counts.get(name) ?? 0), 0),
    total: () => [...counts.values()].reduce((sum, count) => sum + count, 0),
  };
}

/** Items a DynamoDB client read and wrote, its Query pages, and the capacity units consumed. */
export interface ItemTraffic {
  itemsRead: number;
  itemsWritten: number;
  queryPages: number;
  readUnits: number;
  writeUnits: number;
}

const readCommands = new Set(['Query', 'Scan', 'GetItem']);

/**
 * Counts the items a DynamoDB client reads (each item a Query or GetItem returns) and writes
 * (each item of a write or a transaction, condition checks included: they cost like writes), its
 * Query pages, and the capacity units the server reports (it asks for them on every call): the
 * measure of how a call's cost grows with the table, not just its count.
 *
 * @example
 * const traffic = countItemTraffic(dynamodbClient);
 * await grantWaiting(store, 'partner-api');
 * traffic.snapshot(); // { itemsRead: 3, itemsWritten: 0, queryPages: 2, readUnits: 2, writeUnits: 0 }
 */
export function countItemTraffic(client: object): { snapshot(): ItemTraffic } {
  const traffic: ItemTraffic = { itemsRead: 0, itemsWritten: 0, queryPages: 0, readUnits: 0, writeUnits: 0 };
  (client as ClientWithMiddleware).middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName).replace(/Command$/, '');
      const input = (args as { input?: { TransactItems?: unknown[]; ReturnConsumedCapacity?: string } })
        .input;
      const writes = name === 'TransactWriteItems' || dynamoDbWriteCommands.includes(name);
      if (input && (writes || readCommands.has(name))) input.ReturnConsumedCapacity = 'TOTAL';
      // A refused write costs as much as one that landed: counted before the answer.
      if (name === 'TransactWriteItems') traffic.itemsWritten += input?.TransactItems?.length ?? 0;
      else if (writes) traffic.itemsWritten += 1;
      const result = (await next(args)) as {
        output?: { Items?: unknown[]; Item?: unknown; ConsumedCapacity?: unknown };
      };
      const consumed = [result.output?.ConsumedCapacity ?? []]
        .flat()
        .reduce((sum: number, unit) => sum + ((unit as { CapacityUnits?: number }).CapacityUnits ?? 0), 0);
      if (writes) traffic.writeUnits += consumed;
      else traffic.readUnits += consumed;
      if (name === 'Query' || name === 'Scan') {
        traffic.queryPages++;
        traffic.itemsRead += result.output?.Items?.length ?? 0;
      } else if (name === 'GetItem') traffic.itemsRead += result.output?.Item ? 1 : 0;
      return result;
    },
    { step: 'initialize', name: 'countItemTraffic' },
  );
  return { snapshot: () => ({ ...traffic }) };
}
