import { exampleStateMachine } from '../core/steps/index.js';
import { exampleWorkFunction } from '../functions/catalog.js';
import type { DynamoDlm } from './dynamo-dlm.js';
import { type DeployedFunction, deployFunction } from './lambda.js';
import { assumedBy, functionPolicy, invokePolicy } from './policies.js';

/**
 * The example state machine's name. The service names its caller by this name (an ARN built
 * from it), not by the resource's ARN: the state machine depends on the service's functions,
 * so the service cannot depend on it.
 */
export function exampleStateMachineName(namePrefix: string): string {
  return `${namePrefix}-example`;
}

/** Options of `ExampleWorkflow`. */
export interface ExampleWorkflowArgs {
  /** The service whose acquire and release steps the example calls. */
  service: DynamoDlm;
  /** Prefix of the state machine's and the work function's names. */
  namePrefix: string;
  sourceRoot: string;
  logRetentionDays?: number;
}

/**
 * The example state machine, built with `dynamo-dlm/steps` (`exampleStateMachine`): acquire,
 * work, release, with the release on the failure path. The work is `functions/example-work.ts`.
 *
 * @example
 * const example = new ExampleWorkflow('Example', { service: locks, namePrefix, sourceRoot });
 * // aws stepfunctions start-execution --state-machine-arn <arn> --input '{"resourceId":"demo","concurrency":2,"workMs":5000}'
 */
export class ExampleWorkflow extends $util.ComponentResource {
  readonly stateMachine: aws.sfn.StateMachine;
  readonly work: DeployedFunction;
  readonly role: aws.iam.Role;
  readonly policy: aws.iam.RolePolicy;

  constructor(name: string, args: ExampleWorkflowArgs, opts: $util.ComponentResourceOptions = {}) {
    super('dynamo-dlm:index:ExampleWorkflow', name, {}, opts);
    const parent = { parent: this };
    this.work = deployFunction(`${name}Work`, {
      functionName: `${args.namePrefix}-example-work`,
      spec: exampleWorkFunction,
      sourceRoot: args.sourceRoot,
      environment: { POWERTOOLS_LOG_LEVEL: 'INFO' },
      policy: (logGroupArn) =>
        logGroupArn.apply((logGroup) =>
          functionPolicy(exampleWorkFunction, {
            tableArn: '',
            requestTableArn: '',
            retryQueueArn: '',
            logGroupArn: logGroup,
            callerStateMachineArns: [],
            executionArns: [],
          }),
        ),
      logRetentionDays: args.logRetentionDays ?? 30,
      parent: this,
    });
    const { acquire, release } = args.service.steps;
    const workArn = this.work.function.arn;
    this.role = new aws.iam.Role(
      `${name}Role`,
      {
        assumeRolePolicy: assumedBy('states.amazonaws.com'),
        description: 'dynamo-dlm example state machine',
      },
      parent,
    );
    this.policy = new aws.iam.RolePolicy(
      `${name}Policy`,
      {
        role: this.role.id,
        policy: $util.all([acquire, release, workArn]).apply((arns) => JSON.stringify(invokePolicy(arns))),
      },
      parent,
    );
    this.stateMachine = new aws.sfn.StateMachine(
      `${name}StateMachine`,
      {
        name: exampleStateMachineName(args.namePrefix),
        // Standard: `.waitForTaskToken` (the acquire step) is not available to Express workflows.
        type: 'STANDARD',
        roleArn: this.role.arn,
        definition: $util
          .all([acquire, release, workArn])
          .apply(([acquireArn, releaseArn, workFunctionArn]) =>
            JSON.stringify(
              exampleStateMachine({
                functions: { acquire: acquireArn, release: releaseArn },
                workFunctionArn,
              }),
              null,
              2,
            ),
          ),
      },
      { ...parent, dependsOn: [this.policy] },
    );
    this.registerOutputs({ stateMachineArn: this.stateMachine.arn });
  }
}
