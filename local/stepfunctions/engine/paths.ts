import { runtimeError } from './errors.js';
import { evaluateIntrinsic, isIntrinsic, parseIntrinsic } from './intrinsics.js';
import { isReferencePath, type ParsedPath, parsePath, select, writePath } from './json-path.js';
import type { JsonValue } from './types.js';
import type { VariableScope } from './variables.js';

/**
 * What a JSONPath expression may read besides the state data: the context object (`$$`) and the
 * workflow variables (`$name`).
 *
 * @example
 * const env: PathEnv = { context, variables };
 */
export interface PathEnv {
  context: JsonValue;
  variables: VariableScope;
}

const parsed = new Map<string, ParsedPath>();

function cachedPath(text: string): ParsedPath {
  let path = parsed.get(text);
  if (!path) {
    path = parsePath(text);
    if (parsed.size > 10_000) parsed.clear();
    parsed.set(text, path);
  }
  return path;
}

function resolve(path: ParsedPath, text: string, data: JsonValue, env: PathEnv, field: string): JsonValue {
  let root: JsonValue | undefined = data;
  if (path.root === 'context') root = env.context;
  else if (path.root === 'variable') {
    root = env.variables.get(path.variable as string);
    if (root === undefined) throw runtimeError(`The variable '$${path.variable}' in ${field} is not defined`);
  }
  const value = select(path, root);
  if (value === undefined) {
    throw runtimeError(
      `The JSONPath '${text}' specified for the field '${field}' could not be found in the input`,
    );
  }
  return value;
}

/**
 * Reads a path (`$...`, `$$...`, `$variable...`) or evaluates an intrinsic function, as a `.$`
 * field, `ItemsPath`, `SecondsPath` or a Choice `Variable` does. A path that matches nothing is
 * `States.Runtime`, as on AWS.
 *
 * @example
 * readValue('$.order.id', { order: { id: 7 } }, env, 'Parameters.id.$'); // 7
 */
export function readValue(text: string, data: JsonValue, env: PathEnv, field: string): JsonValue {
  if (isIntrinsic(text)) {
    return evaluateIntrinsic(parseIntrinsic(text), (path, pathText) =>
      resolve(path, pathText, data, env, field),
    );
  }
  return resolve(cachedPath(text), text, data, env, field);
}

/**
 * Like {@link readValue} for a path, but `undefined` when it matches nothing (Choice's
 * `IsPresent`, and comparisons, which are simply false then).
 *
 * @example
 * tryReadPath('$.missing', {}, env); // undefined
 */
export function tryReadPath(text: string, data: JsonValue, env: PathEnv): JsonValue | undefined {
  const path = cachedPath(text);
  if (path.root === 'context') return select(path, env.context);
  if (path.root === 'variable') {
    const root = env.variables.get(path.variable as string);
    return root === undefined ? undefined : select(path, root);
  }
  return select(path, data);
}

/**
 * Evaluates a payload template (`Parameters`, `ResultSelector`, `ItemSelector`, JSONPath
 * `Assign`): a field whose name ends in `.$` takes the value of its path or intrinsic function,
 * under the name without the suffix; everything else is copied.
 *
 * @example
 * evaluateTemplate({ 'id.$': '$.order.id', kind: 'x' }, { order: { id: 7 } }, env, 'Parameters'); // { id: 7, kind: 'x' }
 */
export function evaluateTemplate(template: unknown, data: JsonValue, env: PathEnv, field: string): JsonValue {
  if (Array.isArray(template))
    return template.map((item, i) => evaluateTemplate(item, data, env, `${field}[${i}]`));
  if (typeof template !== 'object' || template === null) return template as JsonValue;
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && typeof value === 'string') {
      out[key.slice(0, -2)] = readValue(value, data, env, `${field}.${key}`);
    } else {
      out[key] = evaluateTemplate(value, data, env, `${field}.${key}`);
    }
  }
  return out;
}

/**
 * `InputPath`/`OutputPath`: `null` gives `{}`, absent keeps the value, a path selects from it.
 *
 * @example
 * filterPath('$.a', { a: 1 }, env, 'InputPath'); // 1
 */
export function filterPath(path: unknown, data: JsonValue, env: PathEnv, field: string): JsonValue {
  if (path === undefined) return data;
  if (path === null) return {};
  return readValue(path as string, data, env, field);
}

/**
 * `ResultPath`: `null` keeps the state input, absent or `$` replaces it with the result, a
 * reference path writes the result into a copy of the input.
 *
 * @example
 * applyResultPath('$.taskresult', { a: 1 }, 'done'); // { a: 1, taskresult: 'done' }
 */
export function applyResultPath(path: unknown, input: JsonValue, result: JsonValue): JsonValue {
  if (path === undefined) return result;
  if (path === null) return input;
  const parsedPath = cachedPath(path as string);
  if (!isReferencePath(parsedPath))
    throw runtimeError(`ResultPath '${String(path)}' is not a reference path`);
  return writePath(parsedPath, input, result);
}
