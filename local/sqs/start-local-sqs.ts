import { createServer, type Server } from 'node:http';
import { findFreePort, listenAt } from '../free-port.js';
import { localRequestsOnly } from '../local-requests-only.js';
import { createCompatRequestHandler } from './aws-compat.js';

/**
 * A running local SQS server.
 *
 * @example
 * const sqs: LocalSqs = await startLocalSqs();
 * new SQSClient({ endpoint: sqs.endpoint });
 */
export interface LocalSqs {
  /** Where SDK clients send their requests, e.g. `http://127.0.0.1:9324`; queue URLs start with it. */
  endpoint: string;
  /** Closes the server, cutting open long polls; resolves once the port is free. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Options of {@link startLocalSqs}.
 *
 * @example
 * await startLocalSqs({ port: 9324, region: 'eu-west-1', accountId: '111122223333' });
 */
export interface LocalSqsOptions {
  /** Preferred port; 0 (the default) or a taken port means a free one. */
  port?: number;
  /** Region in queue ARNs. Default: `AWS_REGION`, else `us-east-1`. */
  region?: string;
  /** Account id in queue URLs and ARNs. Default `123456789012`. */
  accountId?: string;
}

/**
 * Starts `local-aws-sqs` in this process on 127.0.0.1 (refusing what a web page could send, see
 * `local-requests-only.ts`), speaking the JSON protocol of the current
 * `@aws-sdk/client-sqs`, with the shims of `aws-compat.ts` (long polling answers as soon as a
 * message is there). Queues can be deleted and created again at once (no 60 s wait).
 *
 * @example
 * const sqs = await startLocalSqs();
 * process.env.AWS_ENDPOINT_URL_SQS = sqs.endpoint;
 * // ... new SQSClient({}) now talks to it ...
 * await sqs.stop();
 */
export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqs> {
  let preferred = options.port ?? 0;
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort(preferred);
    const server = createServer(
      localRequestsOnly(
        createCompatRequestHandler({
          port, // the emulator writes it into queue URLs
          hostname: '127.0.0.1',
          region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
          accountId: options.accountId ?? '123456789012',
          // Tests delete and recreate queues by name; AWS's 60 s quarantine would only slow them down.
          emulateQueueCreationLifecycle: false,
          emulateLazyQueues: false,
          validateDlqDestination: true,
        }),
      ),
    );
    try {
      await listenAt(server, port);
    } catch (error) {
      // Another process took the port between the probe and listen(): try another one.
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 3) throw error;
      preferred = 0;
      continue;
    }
    return running(server, port);
  }
}

function running(server: Server, port: number): LocalSqs {
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Long polls and the SDK's keep-alive sockets would hold close() for up to 20 s.
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
