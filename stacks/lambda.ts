import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FunctionSpec } from '../functions/catalog.js';
import { bundleHandler, handlerName, handlerSource, nodeRuntime, prebuiltBundle } from './bundle.js';
import { assumedBy, type PolicyDocument } from './policies.js';
import { type Transform, transformed } from './transform.js';

/** What `deployFunction` needs besides the function's spec. */
export interface DeployFunctionArgs {
  /** The function's name in AWS (also its log group's: `/aws/lambda/<name>`). */
  functionName: string;
  spec: FunctionSpec;
  sourceRoot: string;
  environment: Record<string, $util.Input<string>>;
  /** The function's whole permission set, given its log group's ARN. */
  policy: (logGroupArn: $util.Output<string>) => $util.Input<PolicyDocument>;
  logRetentionDays: number;
  parent: $util.Resource;
  /** The user's changes to the function's and the role's arguments (`DynamoDlmArgs.transform`). */
  transform?: { function?: Transform<aws.lambda.FunctionArgs>; role?: Transform<aws.iam.RoleArgs> };
}

/** A deployed function with its role, policy and log group. */
export interface DeployedFunction {
  function: aws.lambda.Function;
  role: aws.iam.Role;
  policy: aws.iam.RolePolicy;
  logGroup: aws.cloudwatch.LogGroup;
  /** The file deployed from (the handler's source, or the package's prebuilt bundle), and the bundle as `index.mjs`. */
  entry: string;
  bundle: $util.Output<string>;
}

/** The file name of the bundle in the function's archive; the handler is `index.handler`. */
export const bundleFileName = 'index.mjs';

/**
 * One Lambda function: its own role with one inline policy (nothing shared, no managed policy
 * with a `*` resource), its own log group, arm64, the bundled handler as `index.mjs`.
 *
 * @example
 * deployFunction(`${prefix}Count`, { functionName: 'dynamo-dlm-prod-count', spec: lockFunctions.count, ... });
 */
export function deployFunction(logicalName: string, args: DeployFunctionArgs): DeployedFunction {
  const opts = { parent: args.parent };
  const logGroup = new aws.cloudwatch.LogGroup(
    `${logicalName}Logs`,
    { name: `/aws/lambda/${args.functionName}`, retentionInDays: args.logRetentionDays },
    opts,
  );
  const role = new aws.iam.Role(
    ...transformed(
      args.transform?.role,
      `${logicalName}Role`,
      {
        assumeRolePolicy: assumedBy('lambda.amazonaws.com'),
        description: `${args.functionName} (dynamo-dlm)`,
      },
      opts,
    ),
  );
  const policy = new aws.iam.RolePolicy(
    `${logicalName}Policy`,
    {
      role: role.id,
      policy: $util.output(args.policy(logGroup.arn)).apply((document) => JSON.stringify(document)),
    },
    opts,
  );
  // An installed package deploys the bundle its build made; a checkout bundles its source now.
  const prebuilt = prebuiltBundle(args.sourceRoot, args.spec.source);
  const entry = prebuilt ?? handlerSource(args.sourceRoot, args.spec.source);
  const bundle = $util.output(prebuilt ? readFileSync(prebuilt, 'utf8') : bundleHandler(entry));
  const fn = new aws.lambda.Function(
    ...transformed(
      args.transform?.function,
      logicalName,
      {
        name: args.functionName,
        description: args.spec.description,
        runtime: nodeRuntime,
        architectures: ['arm64'],
        // The prebuilt folder holds every handler (and their shared chunks): the file is named.
        handler: prebuilt ? `${handlerName(args.spec.source)}.handler` : 'index.handler',
        // A file archive keeps a hash of the folder in the Pulumi state; a string asset, its text.
        code: prebuilt
          ? new $util.asset.FileArchive(dirname(prebuilt))
          : bundle.apply(
              (text) => new $util.asset.AssetArchive({ [bundleFileName]: new $util.asset.StringAsset(text) }),
            ),
        role: role.arn,
        timeout: args.spec.timeoutSeconds,
        memorySize: args.spec.memoryMb,
        environment: { variables: args.environment },
        loggingConfig: { logFormat: 'Text', logGroup: logGroup.name },
      },
      // Created once its permissions exist: its first invocations must not fail on AccessDenied.
      { ...opts, dependsOn: [policy, logGroup] },
    ),
  );
  return { function: fn, role, policy, logGroup, entry, bundle };
}
