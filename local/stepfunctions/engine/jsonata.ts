import { createHash, randomUUID } from 'node:crypto';
import jsonata from 'jsonata';
import { StatesError } from './errors.js';
import type { JsonValue } from './types.js';
import type { VariableScope } from './variables.js';

/**
 * The reserved `$states` variable of a JSONata state: `result` after the task (or Map/Parallel)
 * returns, `errorOutput` inside a Catch.
 *
 * @example
 * const states: StatesBinding = { input: { a: 1 }, context };
 */
export interface StatesBinding {
  input: JsonValue;
  context: JsonValue;
  result?: JsonValue;
  errorOutput?: JsonValue;
}

const OPEN = '{%';
const CLOSE = '%}';

/**
 * Whether a string is a JSONata expression in Step Functions' sense: the whole string is
 * `{% ... %}`; any other string is a literal.
 *
 * @example
 * isExpression('{% $states.input.a %}'); // true
 * isExpression('a {% b %}'); // false
 */
export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(OPEN) && value.endsWith(CLOSE) && value.length >= 4;
}

const compiled = new Map<string, jsonata.Expression>();

/**
 * Compiles (once per text) the expression inside `{% %}`; throws jsonata's error for bad syntax.
 *
 * @example
 * compile('{% 1 + 1 %}');
 */
export function compile(text: string): jsonata.Expression {
  let expression = compiled.get(text);
  if (!expression) {
    expression = jsonata(text.slice(OPEN.length, -CLOSE.length));
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(text, expression);
  }
  return expression;
}

const HASHES: Record<string, string> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

// The functions Step Functions adds to JSONata ("JSONata functions provided by Step Functions").
const AWS_FUNCTIONS = {
  partition: (array: unknown, size: unknown) => {
    if (!Array.isArray(array) || typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
      throw new Error('$partition expects an array and a positive integer size');
    }
    const chunks: unknown[][] = [];
    for (let i = 0; i < array.length; i += size) chunks.push(array.slice(i, i + size));
    return chunks;
  },
  range: (start: unknown, end: unknown, step: unknown) => {
    if (![start, end, step].every((n) => typeof n === 'number' && Number.isInteger(n)) || step === 0) {
      throw new Error('$range expects integers start, end and a non-zero step');
    }
    const [s, e, st] = [start, end, step] as [number, number, number];
    const out: number[] = [];
    for (let n = s; st > 0 ? n <= e : n >= e; n += st) out.push(n);
    return out;
  },
  hash: (value: unknown, algorithm: unknown) => {
    const name = HASHES[String(algorithm)];
    if (!name) throw new Error(`$hash algorithm must be one of ${Object.keys(HASHES).join(', ')}`);
    const data = typeof value === 'string' ? value : JSON.stringify(value);
    return createHash(name).update(data).digest('hex');
  },
  random: (seed?: unknown) => {
    if (seed === undefined) return Math.random();
    // A seeded draw must repeat for the same seed: a hash of the seed, as a fraction of 2^48.
    const digest = createHash('sha256').update(String(seed)).digest();
    return digest.readUIntBE(0, 6) / 2 ** 48;
  },
  uuid: () => randomUUID(),
  parse: (text: unknown) => {
    if (typeof text !== 'string') throw new Error('$parse expects a string');
    return JSON.parse(text) as unknown;
  },
  // AWS leaves $eval out; $parse takes its place.
  eval: () => {
    throw new Error('$eval is not available in Step Functions (use $parse)');
  },
};

function queryError(field: string, text: string, message: string): StatesError {
  return new StatesError(
    'States.QueryEvaluationError',
    `An error occurred while executing the state '${field}'. The JSONata expression '${text.slice(OPEN.length, -CLOSE.length).trim()}' ${message}`,
  );
}

// JSONata answers sequences and frozen arrays; a JSON round trip gives plain JSON values.
const toJson = (value: unknown): JsonValue => JSON.parse(JSON.stringify(value)) as JsonValue;

async function evaluateOne(
  text: string,
  states: StatesBinding,
  variables: VariableScope,
  field: string,
): Promise<JsonValue> {
  let value: unknown;
  try {
    value = await compile(text).evaluate(states.input, {
      ...variables.all(),
      ...AWS_FUNCTIONS,
      states,
    });
  } catch (error) {
    throw queryError(field, text, `threw an error: ${(error as Error).message}`);
  }
  if (value === undefined) throw queryError(field, text, 'returned nothing (undefined)');
  if (typeof value === 'function') throw queryError(field, text, 'returned a function');
  return toJson(value);
}

/**
 * Evaluates a JSONata field: a `{% %}` string is an expression, objects and arrays are walked
 * and their `{% %}` strings evaluated, anything else is a literal. A failed or undefined
 * expression is `States.QueryEvaluationError` naming the field.
 *
 * @example
 * await evaluateField({ title: '{% $states.input.title %}' }, { input: { title: 'Doctor' }, context }, scope, 'Arguments');
 * // { title: 'Doctor' }
 */
export async function evaluateField(
  template: unknown,
  states: StatesBinding,
  variables: VariableScope,
  field: string,
): Promise<JsonValue> {
  if (isExpression(template)) return evaluateOne(template, states, variables, field);
  if (Array.isArray(template)) {
    const out: JsonValue[] = [];
    for (const [i, item] of template.entries())
      out.push(await evaluateField(item, states, variables, `${field}[${i}]`));
    return out;
  }
  if (typeof template === 'object' && template !== null) {
    const out: Record<string, JsonValue> = {};
    for (const [key, value] of Object.entries(template)) {
      out[key] = await evaluateField(value, states, variables, `${field}.${key}`);
    }
    return out;
  }
  return template as JsonValue;
}

/**
 * Every `{% %}` string inside a field, for `validate` to compile at creation.
 *
 * @example
 * expressionsIn({ a: '{% 1 %}', b: ['{% 2 %}'] }); // ['{% 1 %}', '{% 2 %}']
 */
export function expressionsIn(template: unknown, out: string[] = []): string[] {
  if (isExpression(template)) out.push(template);
  else if (Array.isArray(template)) for (const item of template) expressionsIn(item, out);
  else if (typeof template === 'object' && template !== null) {
    for (const value of Object.values(template)) expressionsIn(value, out);
  }
  return out;
}
