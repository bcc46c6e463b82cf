import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { exampleWorkFunction, type FunctionSpec, lockFunctions } from '../../functions/catalog.js';
import { bundleOptions, handlerSource } from '../../stacks/bundle.js';
import { functionPolicy, queueConsumerActions } from '../../stacks/policies.js';
import { lockTable } from '../../stacks/table.js';
import { root } from './pulumi-mocks.js';

/** The IAM action of each AWS SDK command the functions may send. */
const commandActions: Record<string, string> = {
  UpdateItemCommand: 'dynamodb:UpdateItem',
  PutItemCommand: 'dynamodb:PutItem',
  DeleteItemCommand: 'dynamodb:DeleteItem',
  GetItemCommand: 'dynamodb:GetItem',
  QueryCommand: 'dynamodb:Query',
  SendMessageCommand: 'sqs:SendMessage',
  SendTaskSuccessCommand: 'states:SendTaskSuccess',
  SendTaskFailureCommand: 'states:SendTaskFailure',
  SendTaskHeartbeatCommand: 'states:SendTaskHeartbeat',
  DescribeExecutionCommand: 'states:DescribeExecution',
};

/** A transaction is authorized item by item, with the action of each item's kind. */
const transactionItemActions: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/**
 * The AWS calls a handler's code can make, read from its bundle (the AWS SDK left out, so that
 * each command the code constructs appears as `new <imported name>(`). Tree shaking leaves only
 * code reachable from the handler, so this is what the deployed function can do, a superset of
 * what one run does.
 */
async function callsOf(spec: FunctionSpec): Promise<{ actions: Set<string>; indexes: Set<string> }> {
  const result = await build({
    ...bundleOptions(handlerSource(root, spec.source)),
    minify: false,
    external: ['@aws-sdk/*'],
    write: false,
  });
  const text = result.outputFiles?.[0]?.text ?? '';
  const actions = new Set<string>();
  for (const [, names = ''] of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"@aws-sdk\/client-[a-z-]+"/g)) {
    for (const specifier of names.split(',')) {
      const [imported = '', local = imported] = specifier.trim().split(/\s+as\s+/);
      if (!imported.endsWith('Command') || !new RegExp(`\\bnew ${local}\\(`).test(text)) continue;
      if (imported === 'TransactWriteItemsCommand') {
        // An item is an object literal or a call to a builder of one (`{ ConditionCheck: check(...) }`).
        for (const [, kind = ''] of text.matchAll(
          /\b(Put|Update|Delete|ConditionCheck):\s*(?:\{|[A-Za-z_$][\w$]*\()/g,
        )) {
          actions.add(transactionItemActions[kind] as string);
        }
        continue;
      }
      const action = commandActions[imported];
      // A command nobody mapped (CreateTable, Scan, BatchWrite...) must be thought about, not granted blindly.
      if (!action) throw new Error(`${spec.source} sends ${imported}, which has no IAM mapping in this test`);
      actions.add(action);
    }
  }
  // An index is named by a string or by a module constant (`var dueIndexName = "due-index"`).
  const indexes = new Set<string>();
  for (const [, literal, constant] of text.matchAll(/\bIndexName:\s*(?:"([^"]*)"|([A-Za-z_$][\w$]*))/g)) {
    const name = literal ?? new RegExp(`\\b(?:var|let|const) ${constant}\\s*=\\s*"([^"]*)"`).exec(text)?.[1];
    if (!name)
      throw new Error(`${spec.source} queries an index named by ${constant}, which this test cannot read`);
    indexes.add(name);
  }
  return { actions, indexes };
}

const resources = {
  tableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/locks',
  requestTableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/locks_requests',
  retryQueueArn: 'arn:aws:sqs:us-east-1:123456789012:retry',
  logGroupArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f',
  callerStateMachineArns: ['arn:aws:states:us-east-1:123456789012:stateMachine:*'],
  executionArns: ['arn:aws:states:us-east-1:123456789012:execution:*'],
};

/**
 * The index ARNs, on either table, of each index name the code may use: the bundle shows which
 * index a query names, not which table it goes to.
 */
const indexArns: Record<string, string[]> = Object.fromEntries(
  [lockTable.ownerIndex, lockTable.dueIndex].map((index) => [
    index,
    [resources.tableArn, resources.requestTableArn].map((table) => `${table}/index/${index}`),
  ]),
);

/**
 * The actions a policy grants on the table, the queue, task answers and executions (logs aside),
 * and the indexes it may query.
 */
function granted(spec: FunctionSpec, consumesRetryQueue: boolean) {
  const statements = functionPolicy(spec, resources, { consumesRetryQueue }).Statement;
  const on = (resource: string) =>
    statements
      .filter((statement) => statement.Resource.includes(resource))
      .flatMap((statement) => statement.Action);
  return {
    actions: new Set([
      ...on(resources.tableArn),
      ...on(resources.requestTableArn),
      ...on(resources.retryQueueArn).filter((action) => !queueConsumerActions.includes(action)),
      ...on(resources.callerStateMachineArns[0] as string),
      ...on(resources.executionArns[0] as string),
    ]),
    indexActions: Object.fromEntries(
      Object.entries(indexArns)
        .map(([index, arns]) => [index, [...new Set(arns.flatMap(on))]] as const)
        .filter(([, actions]) => actions.length > 0),
    ),
    queueActions: on(resources.retryQueueArn),
  };
}

describe('least privilege, checked against the code', () => {
  for (const [name, spec] of Object.entries({ ...lockFunctions, 'example-work': exampleWorkFunction })) {
    it(`grants ${name} exactly the calls its bundled code can make`, async () => {
      const calls = await callsOf(spec);
      const policy = granted(spec, name === 'retry');
      expect([...policy.actions].sort()).toEqual([...calls.actions].sort());
      expect(policy.indexActions).toEqual(
        Object.fromEntries([...calls.indexes].map((index) => [index, ['dynamodb:Query']])),
      );
    });
  }

  it('lets only the retry function consume the retry queue, with what the event source mapping needs', () => {
    for (const [name, spec] of Object.entries(lockFunctions)) {
      const { queueActions } = granted(spec, name === 'retry');
      const consumes = queueConsumerActions.every((action) => queueActions.includes(action));
      expect(consumes, name).toBe(name === 'retry');
    }
  });
});
