import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStateMachineCommand } from '@aws-sdk/client-sfn';
import { GetQueueUrlCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../../local/dynamodb/start-dynamodb-local.js';
import { findFreePort } from '../../../local/free-port.js';
import type { LocalAws } from '../../../local/start-local-aws.js';
import { dynamoDbClient } from '../../support/dynamodb.js';
import { localAws, sfnClient } from '../../support/local-aws.js';

/**
 * The three ways in that a review found on the local AWS of `npm start` and `npm test`, replayed
 * against the running servers: another machine on the network, a symlink planted in the shared
 * temp folder, and a web page that rebinds its own host name to 127.0.0.1.
 */

let aws: LocalAws;
let sqs: SQSClient;

beforeAll(async () => {
  aws = await localAws();
  sqs = new SQSClient({ endpoint: aws.endpoints.sqs, region: aws.region });
}, 60_000);

afterAll(() => sqs.destroy());

const portOf = (endpoint: string) => Number(new URL(endpoint).port);

/** This machine's addresses that another machine could reach (IPv4, and IPv6 outside link-local). */
function nonLoopbackAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((address) => address && !address.internal && !address.address.startsWith('fe80:'))
    .map((address) => address?.address as string);
}

/** Opens a TCP connection and closes it at once: 'connected', or the error's code. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('ETIMEDOUT');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

interface RawAnswer {
  status: number;
  body: string;
}

/**
 * Sends an AWS JSON 1.0 call to 127.0.0.1 with the headers a browser would send after DNS
 * rebinding (its own host name in `Host`) or from a page of another site (`Origin`); a script
 * of the page can set every other header, a made-up `Authorization` included.
 */
function rawCall(
  endpoint: string,
  target: string,
  body: unknown,
  headers: { host: string; origin?: string },
): Promise<RawAnswer> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const call = request(
      {
        host: '127.0.0.1',
        port: portOf(endpoint),
        method: 'POST',
        path: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': target,
          'content-length': Buffer.byteLength(text),
          // No server here checks a signature; DynamoDB Local only wants one to be there.
          authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/any/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
          ...headers,
        },
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () =>
          resolve({ status: answer.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    call.on('error', reject);
    call.end(text);
  });
}

const unique = (label: string) => `${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

describe('another machine on the network', () => {
  const addresses = nonLoopbackAddresses();

  it.skipIf(addresses.length === 0)(
    'is refused by DynamoDB Local, SQS and Step Functions through every non-loopback address of this machine',
    async () => {
      const outcomes: Record<string, string> = {};
      for (const [service, endpoint] of Object.entries(aws.endpoints)) {
        for (const address of addresses) {
          outcomes[`${service} ${address}`] = await tryConnect(address, portOf(endpoint));
        }
      }
      const answered = Object.entries(outcomes).filter(([, outcome]) => outcome !== 'ECONNREFUSED');
      expect(answered).toEqual([]);
      // The same ports answer on loopback: the refusal is the fence, not a dead server.
      for (const endpoint of Object.values(aws.endpoints)) {
        expect(await tryConnect('127.0.0.1', portOf(endpoint))).toBe('connected');
      }
    },
  );
});

describe("DynamoDB Local's log", () => {
  let sandbox: string;
  let savedTmpdir: string | undefined;

  beforeAll(async () => {
    // The attack runs in a temp folder of its own, so no other run on this machine writes through the plants.
    sandbox = await mkdtemp(join(tmpdir(), 'dlm-attack-'));
    savedTmpdir = process.env.TMPDIR;
    process.env.TMPDIR = sandbox;
  });

  afterAll(async () => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    await rm(sandbox, { recursive: true, force: true });
  });

  it('writes nothing through symlinks planted at the old fixed path in the temp folder', async () => {
    // Another user of the machine owns the old folder name (a symlink to a folder they read)
    // and, inside it, the log's name for the port we will take (a symlink to a file of ours).
    const attackerFolder = join(sandbox, 'attacker');
    const victim = join(sandbox, 'victim.txt');
    await mkdir(attackerFolder);
    await writeFile(victim, 'precious\n');
    await symlink(attackerFolder, join(sandbox, 'dynamo-dlm-local'));
    const port = await findFreePort();
    await symlink(victim, join(attackerFolder, `dynamodb-local-${port}.log`));

    const dynamodb = await startDynamoDbLocal({ port });
    try {
      expect(await readFile(victim, 'utf8')).toBe('precious\n');
      expect(await readdir(attackerFolder)).toEqual([`dynamodb-local-${port}.log`]);
      expect(dynamodb.logFile.startsWith(attackerFolder)).toBe(false);
    } finally {
      await dynamodb.stop();
    }
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
  });

  it('goes to a fresh folder that only this user can enter', async () => {
    const first = await startDynamoDbLocal();
    const second = await startDynamoDbLocal();
    try {
      for (const { logFile } of [first, second]) {
        expect(dirname(dirname(logFile))).toBe(sandbox);
        expect((await stat(dirname(logFile))).mode & 0o777).toBe(0o700);
      }
      expect(dirname(first.logFile)).not.toBe(dirname(second.logFile));
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    // Stopped, they leave nothing behind in the shared temp folder.
    for (const { logFile } of [first, second]) await expect(stat(dirname(logFile))).rejects.toThrow(/ENOENT/);
  });
});

describe('a web page that rebinds its host name to 127.0.0.1', () => {
  const foreignHost = (endpoint: string) => `rebound.attacker.example:${portOf(endpoint)}`;

  it('gets 403 from SQS, and its CreateQueue creates nothing', async () => {
    const QueueName = unique('rebound');
    const answer = await rawCall(
      aws.endpoints.sqs,
      'AmazonSQS.CreateQueue',
      { QueueName },
      { host: foreignHost(aws.endpoints.sqs) },
    );
    expect(answer.status).toBe(403);
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName }))).rejects.toThrow(/does not exist/i);
  });

  it('gets 403 from Step Functions, and its CreateStateMachine creates nothing', async () => {
    const name = unique('rebound');
    const answer = await rawCall(
      aws.endpoints.stepfunctions,
      'AWSStepFunctions.CreateStateMachine',
      {
        name,
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
        roleArn: 'arn:aws:iam::000000000000:role/local',
      },
      { host: foreignHost(aws.endpoints.stepfunctions) },
    );
    expect(answer.status).toBe(403);
    const client = await sfnClient();
    const stateMachineArn = `arn:aws:states:${aws.region}:000000000000:stateMachine:${name}`;
    await expect(client.send(new DescribeStateMachineCommand({ stateMachineArn }))).rejects.toThrow(
      /does not exist/i,
    );
  });

  it('gets 403 from DynamoDB Local, and its CreateTable creates nothing', async () => {
    const TableName = unique('rebound');
    const answer = await rawCall(
      aws.endpoints.dynamodb,
      'DynamoDB_20120810.CreateTable',
      {
        TableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      },
      { host: foreignHost(aws.endpoints.dynamodb) },
    );
    expect(answer.status).toBe(403);
    await expect(dynamoDbClient().send(new DescribeTableCommand({ TableName }))).rejects.toThrow(
      /non-existent table|not found/i,
    );
  });

  it('gets 403 from every server when a page of another site calls it directly (its Origin header)', async () => {
    const origin = 'https://attacker.example';
    const calls: Array<[string, string]> = [
      [aws.endpoints.sqs, 'AmazonSQS.ListQueues'],
      [aws.endpoints.stepfunctions, 'AWSStepFunctions.ListExecutions'],
      [aws.endpoints.dynamodb, 'DynamoDB_20120810.ListTables'],
    ];
    for (const [endpoint, target] of calls) {
      const host = new URL(endpoint).host;
      expect((await rawCall(endpoint, target, {}, { host, origin })).status, endpoint).toBe(403);
    }
  });

  it("gets 403 from SQS for another site's HTML form (no preflight), and the form creates nothing", async () => {
    // SQS's query protocol takes the action from a form body: a plain <form method=post> sends it.
    const QueueName = unique('form');
    const answer = await fetch(aws.endpoints.sqs, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://attacker.example' },
      body: new URLSearchParams({ Action: 'CreateQueue', QueueName, Version: '2012-11-05' }),
    });
    expect(answer.status).toBe(403);
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName }))).rejects.toThrow(/does not exist/i);
  });

  it('leaves the SDK clients on 127.0.0.1 and callers naming localhost served', async () => {
    await expect(sqs.send(new ListQueuesCommand({}))).resolves.toBeDefined();
    await expect(dynamoDbClient().send(new ListTablesCommand({}))).resolves.toBeDefined();
    const calls: Array<[string, string, unknown]> = [
      [aws.endpoints.sqs, 'AmazonSQS.ListQueues', {}],
      [aws.endpoints.stepfunctions, 'AWSStepFunctions.ListExecutions', { stateMachineArn: 'x' }],
      [aws.endpoints.dynamodb, 'DynamoDB_20120810.ListTables', {}],
    ];
    for (const [endpoint, target, body] of calls) {
      const answer = await rawCall(endpoint, target, body, { host: `localhost:${portOf(endpoint)}` });
      expect(answer.status, `${endpoint}: ${answer.body}`).not.toBe(403);
    }
  });
});
