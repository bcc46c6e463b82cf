import { runtimeError } from '../errors.js';
import { type PathEnv, tryReadPath } from '../paths.js';
import type { Json, JsonValue } from '../types.js';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The comparison operators of JSONPath Choice rules, each with its `...Path` twin.
 *
 * @example
 * COMPARISONS.includes('NumericGreaterThan'); // true
 */
export const COMPARISONS = [
  'StringEquals',
  'StringLessThan',
  'StringGreaterThan',
  'StringLessThanEquals',
  'StringGreaterThanEquals',
  'StringMatches',
  'NumericEquals',
  'NumericLessThan',
  'NumericGreaterThan',
  'NumericLessThanEquals',
  'NumericGreaterThanEquals',
  'BooleanEquals',
  'TimestampEquals',
  'TimestampLessThan',
  'TimestampGreaterThan',
  'TimestampLessThanEquals',
  'TimestampGreaterThanEquals',
] as const;

/**
 * The type tests of JSONPath Choice rules.
 *
 * @example
 * TYPE_TESTS.includes('IsPresent'); // true
 */
export const TYPE_TESTS = [
  'IsNull',
  'IsPresent',
  'IsNumeric',
  'IsString',
  'IsBoolean',
  'IsTimestamp',
] as const;

const isTimestamp = (v: unknown): v is string =>
  typeof v === 'string' && TIMESTAMP.test(v) && !Number.isNaN(Date.parse(v));

// StringMatches: `*` is any run of characters, `\*` a literal star, `\\` a backslash.
function wildcardMatch(value: string, pattern: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '\\' && i + 1 < pattern.length)
      source += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (char === '*') source += '.*';
    else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's').test(value);
}

function order(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compare(operator: string, left: JsonValue, right: JsonValue): boolean {
  const family = operator.startsWith('String')
    ? 'String'
    : operator.startsWith('Numeric')
      ? 'Numeric'
      : operator.startsWith('Boolean')
        ? 'Boolean'
        : 'Timestamp';
  const relation = operator.slice(family.length);
  if (operator === 'StringMatches') return typeof left === 'string' && wildcardMatch(left, String(right));
  let sign: number;
  if (family === 'String') {
    if (typeof left !== 'string' || typeof right !== 'string') return false;
    sign = left < right ? -1 : left > right ? 1 : 0;
  } else if (family === 'Numeric') {
    if (typeof left !== 'number' || typeof right !== 'number') return false;
    sign = order(left, right);
  } else if (family === 'Boolean') {
    return typeof left === 'boolean' && left === right;
  } else {
    if (!isTimestamp(left) || !isTimestamp(right)) return false;
    sign = order(Date.parse(left), Date.parse(right));
  }
  switch (relation) {
    case 'Equals':
      return sign === 0;
    case 'LessThan':
      return sign < 0;
    case 'GreaterThan':
      return sign > 0;
    case 'LessThanEquals':
      return sign <= 0;
    default:
      return sign >= 0;
  }
}

/**
 * Evaluates one JSONPath Choice rule (or nested `And`/`Or`/`Not`) against the state input.
 * A `Variable` that selects nothing is `States.Runtime`, except for `IsPresent`.
 *
 * @example
 * matchesRule({ Variable: '$.n', NumericGreaterThan: 1 }, { n: 2 }, env); // true
 */
export function matchesRule(rule: Json, input: JsonValue, env: PathEnv): boolean {
  if (Array.isArray(rule.And)) return (rule.And as Json[]).every((r) => matchesRule(r, input, env));
  if (Array.isArray(rule.Or)) return (rule.Or as Json[]).some((r) => matchesRule(r, input, env));
  if (rule.Not !== undefined) return !matchesRule(rule.Not as Json, input, env);
  const variable = rule.Variable as string;
  const value = tryReadPath(variable, input, env);
  if ('IsPresent' in rule) return (value !== undefined) === rule.IsPresent;
  if (value === undefined) {
    throw runtimeError(
      `Invalid path '${variable}': The choice state's condition path references an invalid value.`,
    );
  }
  for (const test of TYPE_TESTS) {
    if (!(test in rule)) continue;
    const expected = rule[test] as boolean;
    const actual =
      test === 'IsNull'
        ? value === null
        : test === 'IsNumeric'
          ? typeof value === 'number'
          : test === 'IsString'
            ? typeof value === 'string'
            : test === 'IsBoolean'
              ? typeof value === 'boolean'
              : isTimestamp(value);
    return actual === expected;
  }
  for (const operator of COMPARISONS) {
    if (operator in rule) return compare(operator, value, rule[operator] as JsonValue);
    const pathKey = `${operator}Path`;
    if (pathKey in rule) {
      const other = tryReadPath(rule[pathKey] as string, input, env);
      if (other === undefined) {
        throw runtimeError(
          `Invalid path '${String(rule[pathKey])}': The choice state's condition path references an invalid value.`,
        );
      }
      return compare(operator, value, other);
    }
  }
  throw runtimeError('A Choice rule has no comparison operator');
}
