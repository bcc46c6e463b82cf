/** A JSON value as it appears in an Amazon States Language definition. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** One state of a definition (JSONPath query language). */
export type AslState = { Type: string } & { [key: string]: Json };

/** A whole state machine definition. */
export interface AslDefinition {
  Comment?: string;
  /** `JSONata` for the whole machine; default (absent) JSONPath. */
  QueryLanguage?: 'JSONata' | 'JSONPath';
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, AslState>;
}

/**
 * A value taken from the state's input (or the context object, `$$.`) instead of a constant.
 *
 * @example
 * acquireState({ functionArn, resourceId: fromPath('$.tenant') });
 */
export interface PathValue {
  path: string;
}

/** Marks a value as read from a JSONPath at run time. */
export function fromPath(path: string): PathValue {
  if (!path.startsWith('$'))
    throw new TypeError(`Expected a JSONPath starting with "$", got ${JSON.stringify(path)}`);
  return { path };
}

/** Puts `name: value`, or `name.$: path`, into Parameters. */
export function parameter(
  name: string,
  value: string | number | PathValue | undefined,
): Record<string, Json> {
  if (value === undefined) return {};
  return typeof value === 'object' ? { [`${name}.$`]: value.path } : { [name]: value };
}

/**
 * The Lambda service's own transient errors, as AWS recommends for every
 * `lambda:invoke` task. Function errors (`Lock.*`) are not retried: they are answers.
 */
export const lambdaServiceErrors = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** The `Retry` of every dynamo-dlm task: the Lambda service's errors, 3 attempts from 1 s, doubling. */
export const lambdaServiceRetry: Json = [
  {
    ErrorEquals: lambdaServiceErrors,
    IntervalSeconds: 1,
    MaxAttempts: 3,
    BackoffRate: 2,
  },
];

/** How a state continues: to `next`, or ends the machine. */
export type Transition = { next: string; end?: never } | { end: true; next?: never };

export function transition(options: Transition): Record<string, Json> {
  return options.end ? { End: true } : { Next: options.next as string };
}
