import { z } from 'zod';
import { limits } from '../../core/defaults.js';
import { rateBounds } from '../../core/rate.js';
import { errorName, StepError } from './errors.js';

/** A non-empty, well-formed string of at most `maxBytes` bytes of UTF-8 (a table key). */
const utf8Key = (maxBytes: number) =>
  z
    .string()
    .min(1)
    .refine((value) => value.isWellFormed(), 'must be well-formed UTF-16 (no lone surrogates)')
    .refine(
      (value) => Buffer.byteLength(value, 'utf8') <= maxBytes,
      `must be at most ${maxBytes} bytes of UTF-8`,
    );

const resourceId = utf8Key(limits.resourceIdMaxBytes);
const concurrency = z.number().int().min(1).max(limits.concurrencyMax);
const leaseSeconds = z.number().min(1).max(limits.durationMaxSeconds);
const releaseCode = z.string().regex(/^[0-9a-f]{32}$/, 'must be the 32 hex digits the acquire step returned');
const concurrencyId = z
  .number()
  .int()
  .min(0)
  .max(limits.concurrencyMax - 1);

/**
 * A start rate (`core/rate.ts`, the bounds of the library's `validateRate`): at most `limit`
 * grants per `periodSeconds`, up to `burst` at once.
 */
const rate = z.strictObject({
  limit: z.number().int().min(1).max(rateBounds.limitMax),
  periodSeconds: z.number().gt(0).max(rateBounds.periodSecondsMax),
  burst: z.number().int().min(1).max(rateBounds.burstMax).default(1),
});

/** The most permits one acquire step takes: its grant transaction also writes 4 items of its own. */
export const stepPermitsMax = 96;

/** Input of the acquire step (Parameters of the `.waitForTaskToken` task). */
export const acquireInput = z
  .strictObject({
    taskToken: z.string().min(1).max(1024),
    resourceId,
    concurrency: concurrency.default(1),
    leaseSeconds: leaseSeconds.default(10),
    waitSeconds: z.number().min(0).max(31_536_000).optional(),
    // The owner is a key of the owner index, limited as in the library.
    owner: utf8Key(limits.ownerMaxBytes).optional(),
    // The task's HeartbeatSeconds (the built acquire state passes it): its turns come in time.
    heartbeatSeconds: z.number().int().min(1).max(99_999_999).optional(),
    // The resource's start rate: every grant of this request counts one start against it.
    rate: rate.optional(),
    // Slots taken at once, all or none (at most `concurrency`, checked below).
    permits: z.number().int().min(1).max(stepPermitsMax).optional(),
  })
  .superRefine((input, context) => {
    if (input.permits !== undefined && input.permits > input.concurrency)
      context.addIssue({
        code: 'custom',
        path: ['permits'],
        message: `must be at most concurrency (${input.concurrency})`,
      });
    // Several permits are granted from the queue only (its pass), never by the first attempt.
    if ((input.permits ?? 1) > 1 && input.waitSeconds === 0)
      context.addIssue({
        code: 'custom',
        path: ['permits'],
        message: 'a request for several permits waits in the queue: waitSeconds must be above 0',
      });
  });

/** One slot of a lease of several permits, as the acquire output lists them. */
const slotHold = z.looseObject({ concurrencyId, fencingToken: z.number().int().min(0) });

/**
 * The lease fields of the acquire output, as release and extend take them; other fields pass.
 * `slots`: every slot of a lease of several permits (pass the whole acquire output).
 */
const leaseInput = z.looseObject({
  resourceId,
  concurrencyId,
  releaseCode,
  // null: what the JSONata states pass for a lease that lists no slots.
  slots: z
    .array(slotHold)
    .min(1)
    .max(stepPermitsMax)
    .nullish()
    .transform((slots) => slots ?? undefined),
});

/** Input of the release step: the acquire output. */
export const releaseInput = leaseInput;

/** Input of the extend step: the acquire output plus `leaseSeconds` (default 10). */
export const extendInput = leaseInput.extend({ leaseSeconds: leaseSeconds.default(10) });

/** Input of the count step. */
export const countInput = z.looseObject({ resourceId });

/**
 * Parses a step's input, or throws `Lock.InvalidRequest` whose message names each bad field.
 *
 * @example
 * const input = parseStepInput(acquireInput, event); // StepError: resourceId: Too small: expected string to have >=1 characters
 */
export function parseStepInput<Schema extends z.ZodType>(schema: Schema, event: unknown): z.infer<Schema> {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    // An unknown field inside an object (`rate.limt`) is named by its whole path.
    const unknownKeys =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => [...issue.path, key].join('.')).join(', ')
        : undefined;
    const field = unknownKeys ?? (issue.path.join('.') || 'input');
    return unknownKeys ? `${field}: unknown field` : `${field}: ${issue.message}`;
  });
  throw new StepError(errorName.invalidRequest, problems.join('; '));
}
