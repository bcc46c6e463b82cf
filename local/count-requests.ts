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
