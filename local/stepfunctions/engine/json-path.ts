import { StatesError } from './errors.js';
import type { JsonValue } from './types.js';

/**
 * One step of a parsed JSONPath.
 *
 * @example
 * const step: PathStep = { kind: 'field', name: 'orders' };
 */
export type PathStep =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'slice'; start?: number; end?: number; step?: number }
  | { kind: 'descend'; name: string | undefined };

/**
 * A parsed path: where it starts (`$` state data, `$$` context object, `$name` a variable) and
 * its steps. `definite` paths select one value, others a list.
 *
 * @example
 * parsePath('$.orders[0].id'); // { root: 'input', steps: [...], definite: true }
 */
export interface ParsedPath {
  root: 'input' | 'context' | 'variable';
  variable?: string;
  steps: PathStep[];
  definite: boolean;
}

const NAME = /^[A-Za-z_][\w-]*/;
const VARIABLE = /^\$([A-Za-z_][\w]*)/;

function parseBracket(body: string, path: string): PathStep {
  const quoted = /^'((?:[^'\\]|\\.)*)'$|^"((?:[^"\\]|\\.)*)"$/.exec(body);
  if (quoted) return { kind: 'field', name: (quoted[1] ?? quoted[2] ?? '').replace(/\\(.)/g, '$1') };
  if (body === '*') return { kind: 'wildcard' };
  if (/^-?\d+$/.test(body)) return { kind: 'index', index: Number(body) };
  const slice = /^(-?\d+)?:(-?\d+)?(?::(\d+))?$/.exec(body);
  if (slice) {
    const step: PathStep = { kind: 'slice' };
    if (slice[1] !== undefined) step.start = Number(slice[1]);
    if (slice[2] !== undefined) step.end = Number(slice[2]);
    if (slice[3] !== undefined) step.step = Number(slice[3]);
    return step;
  }
  // Filters and script expressions are refused rather than half-run.
  throw new SyntaxError(`unsupported JSONPath selector [${body}] in '${path}'`);
}

/**
 * Parses the JSONPath subset the engine runs: `.name`, `['name']`, `[n]`, `[*]`, `.*`,
 * `[start:end:step]`, `..name`, `..*`, rooted at `$`, `$$` or `$variable`. Anything else (filters,
 * unions) throws a `SyntaxError`, so `validate` refuses it at creation.
 *
 * @example
 * parsePath('$$.Execution.Id').root; // 'context'
 * parsePath('$lease.token').variable; // 'lease'
 */
export function parsePath(path: string): ParsedPath {
  let rest: string;
  let parsed: ParsedPath;
  if (path.startsWith('$$')) {
    parsed = { root: 'context', steps: [], definite: true };
    rest = path.slice(2);
  } else if (VARIABLE.test(path)) {
    const name = (VARIABLE.exec(path) as RegExpExecArray)[1] as string;
    parsed = { root: 'variable', variable: name, steps: [], definite: true };
    rest = path.slice(name.length + 1);
  } else if (path.startsWith('$')) {
    parsed = { root: 'input', steps: [], definite: true };
    rest = path.slice(1);
  } else {
    throw new SyntaxError(`'${path}' is not a JSONPath (it must start with $)`);
  }
  while (rest.length > 0) {
    if (rest.startsWith('..')) {
      rest = rest.slice(2);
      if (rest.startsWith('*')) {
        parsed.steps.push({ kind: 'descend', name: undefined });
        rest = rest.slice(1);
      } else {
        const name = NAME.exec(rest);
        if (!name) throw new SyntaxError(`bad recursive descent in '${path}'`);
        parsed.steps.push({ kind: 'descend', name: name[0] });
        rest = rest.slice(name[0].length);
      }
      parsed.definite = false;
    } else if (rest.startsWith('.')) {
      rest = rest.slice(1);
      if (rest.startsWith('*')) {
        parsed.steps.push({ kind: 'wildcard' });
        parsed.definite = false;
        rest = rest.slice(1);
        continue;
      }
      const name = NAME.exec(rest);
      if (!name) throw new SyntaxError(`bad field name in '${path}'`);
      parsed.steps.push({ kind: 'field', name: name[0] });
      rest = rest.slice(name[0].length);
    } else if (rest.startsWith('[')) {
      const close = findClose(rest, path);
      const step = parseBracket(rest.slice(1, close).trim(), path);
      if (step.kind === 'wildcard' || step.kind === 'slice') parsed.definite = false;
      parsed.steps.push(step);
      rest = rest.slice(close + 1);
    } else {
      throw new SyntaxError(`unexpected '${rest[0]}' in JSONPath '${path}'`);
    }
  }
  return parsed;
}

function findClose(rest: string, path: string): number {
  let quote: string | undefined;
  for (let i = 1; i < rest.length; i++) {
    const char = rest[i];
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === ']') return i;
  }
  throw new SyntaxError(`unclosed [ in JSONPath '${path}'`);
}

function isRecord(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function descendants(value: JsonValue, name: string | undefined, out: JsonValue[]): void {
  const children = Array.isArray(value) ? value : isRecord(value) ? Object.values(value) : [];
  if (isRecord(value) && name !== undefined && Object.hasOwn(value, name)) out.push(value[name] as JsonValue);
  for (const child of children) {
    if (name === undefined) out.push(child);
    descendants(child, name, out);
  }
}

function applyStep(values: JsonValue[], step: PathStep): JsonValue[] {
  const out: JsonValue[] = [];
  for (const value of values) {
    switch (step.kind) {
      case 'field':
        if (isRecord(value) && Object.hasOwn(value, step.name)) out.push(value[step.name] as JsonValue);
        break;
      case 'index':
        if (Array.isArray(value)) {
          const i = step.index < 0 ? value.length + step.index : step.index;
          if (i >= 0 && i < value.length) out.push(value[i] as JsonValue);
        }
        break;
      case 'wildcard':
        if (Array.isArray(value)) out.push(...value);
        else if (isRecord(value)) out.push(...Object.values(value));
        break;
      case 'slice':
        if (Array.isArray(value)) {
          const norm = (n: number) => (n < 0 ? Math.max(0, value.length + n) : Math.min(n, value.length));
          const start = norm(step.start ?? 0);
          const end = norm(step.end ?? value.length);
          for (let i = start; i < end; i += step.step ?? 1) out.push(value[i] as JsonValue);
        }
        break;
      case 'descend':
        descendants(value, step.name, out);
        break;
    }
  }
  return out;
}

/**
 * Selects from `root` with a parsed path; `undefined` when a definite path matches nothing. An
 * indefinite path answers the list of its matches (possibly empty).
 *
 * @example
 * select(parsePath('$.a[*].b'), { a: [{ b: 1 }, { b: 2 }] }); // [1, 2]
 */
export function select(path: ParsedPath, root: JsonValue): JsonValue | undefined {
  let values: JsonValue[] = [root];
  for (const step of path.steps) values = applyStep(values, step);
  if (!path.definite) return values;
  return values[0];
}

/**
 * Whether a path is a reference path (ResultPath, and the like): definite, rooted at `$`.
 *
 * @example
 * isReferencePath(parsePath('$.result')); // true
 * isReferencePath(parsePath('$.a[*]')); // false
 */
export function isReferencePath(path: ParsedPath): boolean {
  return (
    path.root === 'input' &&
    path.definite &&
    path.steps.every((s) => s.kind === 'field' || s.kind === 'index')
  );
}

/**
 * Writes `value` into a copy of `target` at a reference path, creating objects on the way, as
 * `ResultPath` does. Throws `States.ResultPathMatchFailure` when the path crosses a non-object.
 *
 * @example
 * writePath(parsePath('$.result.ok'), { a: 1 }, true); // { a: 1, result: { ok: true } }
 */
export function writePath(path: ParsedPath, target: JsonValue, value: JsonValue): JsonValue {
  if (path.steps.length === 0) return value;
  const write = (node: JsonValue | undefined, depth: number): JsonValue => {
    const step = path.steps[depth] as PathStep;
    const last = depth === path.steps.length - 1;
    if (step.kind === 'index') {
      if (!Array.isArray(node) || step.index >= node.length) throw resultPathFailure(path);
      const copy = [...node];
      copy[step.index] = last ? value : write(copy[step.index], depth + 1);
      return copy;
    }
    if (step.kind !== 'field') throw resultPathFailure(path);
    if (node !== undefined && !isRecord(node)) throw resultPathFailure(path);
    const copy: Record<string, JsonValue> = { ...(node ?? {}) };
    copy[step.name] = last ? value : write(copy[step.name], depth + 1);
    return copy;
  };
  return write(target, 0);
}

function resultPathFailure(path: ParsedPath): Error {
  return new StatesError(
    'States.ResultPathMatchFailure',
    `Unable to apply ResultPath ${describe(path)} to the state input`,
  );
}

function describe(path: ParsedPath): string {
  return `$${path.steps.map((s) => (s.kind === 'field' ? `.${s.name}` : s.kind === 'index' ? `[${s.index}]` : '')).join('')}`;
}
