/**
 * Error names a workflow sees. Thrown from a plain `lambda:invoke` step, the name becomes the
 * state's error (match it in `Catch`/`Retry`); the acquire step sends them with SendTaskFailure.
 */
export const errorName = {
  timeout: 'Lock.Timeout',
  invalidRequest: 'Lock.InvalidRequest',
  lost: 'Lock.Lost',
} as const;

/**
 * A step failure with a workflow-facing name and a cause for the `Cause` field.
 *
 * @example
 * throw new StepError('Lock.InvalidRequest', 'resourceId: expected a string');
 */
export class StepError extends Error {
  constructor(name: (typeof errorName)[keyof typeof errorName], message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
  }
}
