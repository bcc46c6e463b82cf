/**
 * A change to the arguments of one resource the component creates, as SST's components take it:
 * an object merged over the defaults, or a function that edits the arguments and options in place.
 *
 * @example
 * new DynamoDlm('Locks', { transform: { function: (args) => { args.memorySize = 512; } } });
 */
export type Transform<Args> =
  | Partial<Args>
  | ((args: Args, opts: $util.CustomResourceOptions, name: string) => void);

/** The resources of `DynamoDlm` that `transform` reaches, by kind. */
export interface DynamoDlmTransform {
  /** The lock table (not with `existingTable`). */
  table?: Transform<aws.dynamodb.TableArgs>;
  /** The request table. */
  requestTable?: Transform<aws.dynamodb.TableArgs>;
  retryQueue?: Transform<aws.sqs.QueueArgs>;
  deadLetterQueue?: Transform<aws.sqs.QueueArgs>;
  deadLetterAlarm?: Transform<aws.cloudwatch.MetricAlarmArgs>;
  /** Every function (its name is the third argument of a function transform). */
  function?: Transform<aws.lambda.FunctionArgs>;
  /** Every function's role. */
  role?: Transform<aws.iam.RoleArgs>;
  /** Both EventBridge rules: the execution-failed rule and the sweeper's schedule. */
  rule?: Transform<aws.cloudwatch.EventRuleArgs>;
}

/**
 * Applies a `Transform` to a resource's arguments and options, SST's way (a function edits them
 * in place, an object is merged over them), and returns what to construct the resource with.
 *
 * @example
 * const [name, args, opts] = transformed(transform?.retryQueue, `${name}RetryQueue`, { name: 'q' }, { parent });
 * new aws.sqs.Queue(name, args, opts);
 */
export function transformed<Args extends object>(
  transform: Transform<Args> | undefined,
  name: string,
  args: Args,
  opts: $util.CustomResourceOptions,
): [string, Args, $util.CustomResourceOptions] {
  if (typeof transform === 'function') {
    transform(args, opts, name);
    return [name, args, opts];
  }
  return [name, { ...args, ...transform }, opts];
}
