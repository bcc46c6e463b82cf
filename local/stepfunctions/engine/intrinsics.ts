import { createHash, randomUUID } from 'node:crypto';
import { StatesError } from './errors.js';
import { type ParsedPath, parsePath } from './json-path.js';
import type { JsonValue } from './types.js';

/**
 * A parsed intrinsic function call, e.g. `States.Format('{}', $.name)`.
 *
 * @example
 * const call = parseIntrinsic("States.MathAdd($.n, 1)");
 */
export interface IntrinsicCall {
  name: string;
  args: IntrinsicArg[];
}

type IntrinsicArg =
  | { kind: 'literal'; value: JsonValue }
  | { kind: 'path'; path: ParsedPath; text: string }
  | { kind: 'call'; call: IntrinsicCall };

type Impl = (args: JsonValue[]) => JsonValue;

const fail = (name: string, message: string): never => {
  throw new StatesError('States.IntrinsicFailure', `Invalid arguments in ${name}: ${message}`);
};

function expectArgs(name: string, args: JsonValue[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    fail(name, `expected ${min === max ? min : `${min} to ${max}`} arguments, got ${args.length}`);
  }
}

const isInt = (value: JsonValue): value is number => typeof value === 'number' && Number.isInteger(value);

function asString(name: string, value: JsonValue | undefined): string {
  if (typeof value !== 'string') fail(name, `expected a string, got ${JSON.stringify(value)}`);
  return value as string;
}

function asArray(name: string, value: JsonValue | undefined): JsonValue[] {
  if (!Array.isArray(value)) fail(name, `expected an array, got ${JSON.stringify(value)}`);
  return value as JsonValue[];
}

const sameJson = (a: JsonValue, b: JsonValue): boolean => JSON.stringify(a) === JSON.stringify(b);

const HASHES: Record<string, string> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

// Each implementation follows AWS's "Intrinsic functions for JSONPath states" page.
const FUNCTIONS: Record<string, Impl> = {
  'States.Format': (args) => {
    const template = asString('States.Format', args[0]);
    let next = 1;
    let out = '';
    for (let i = 0; i < template.length; i++) {
      const char = template[i];
      if (char === '\\' && i + 1 < template.length) {
        out += template[++i];
      } else if (char === '{' && template[i + 1] === '}') {
        if (next >= args.length) fail('States.Format', 'more {} than arguments');
        const value = args[next++] as JsonValue;
        out += typeof value === 'string' ? value : JSON.stringify(value);
        i++;
      } else out += char;
    }
    if (next !== args.length) fail('States.Format', 'more arguments than {}');
    return out;
  },
  'States.StringToJson': (args) => {
    expectArgs('States.StringToJson', args, 1);
    try {
      return JSON.parse(asString('States.StringToJson', args[0])) as JsonValue;
    } catch {
      return fail('States.StringToJson', 'the string is not JSON');
    }
  },
  'States.JsonToString': (args) => {
    expectArgs('States.JsonToString', args, 1);
    return JSON.stringify(args[0]);
  },
  'States.Array': (args) => args,
  'States.ArrayPartition': (args) => {
    expectArgs('States.ArrayPartition', args, 2);
    const array = asArray('States.ArrayPartition', args[0]);
    const size = args[1] as JsonValue;
    if (!isInt(size) || size < 1) fail('States.ArrayPartition', 'the chunk size must be a positive integer');
    const chunks: JsonValue[] = [];
    for (let i = 0; i < array.length; i += size as number) chunks.push(array.slice(i, i + (size as number)));
    return chunks;
  },
  'States.ArrayContains': (args) => {
    expectArgs('States.ArrayContains', args, 2);
    return asArray('States.ArrayContains', args[0]).some((item) => sameJson(item, args[1] as JsonValue));
  },
  'States.ArrayRange': (args) => {
    expectArgs('States.ArrayRange', args, 3);
    const [start, end, step] = args as [JsonValue, JsonValue, JsonValue];
    if (!isInt(start) || !isInt(end) || !isInt(step) || step === 0) {
      fail('States.ArrayRange', 'start, end and a non-zero step must be integers');
    }
    const out: number[] = [];
    const [s, e, st] = [start as number, end as number, step as number];
    for (let n = s; st > 0 ? n <= e : n >= e; n += st) out.push(n);
    if (out.length > 1000) fail('States.ArrayRange', 'the range has more than 1000 items');
    return out;
  },
  'States.ArrayGetItem': (args) => {
    expectArgs('States.ArrayGetItem', args, 2);
    const array = asArray('States.ArrayGetItem', args[0]);
    const index = args[1] as JsonValue;
    if (!isInt(index) || index < 0 || index >= array.length)
      fail('States.ArrayGetItem', 'index out of bounds');
    return array[index as number] as JsonValue;
  },
  'States.ArrayLength': (args) => {
    expectArgs('States.ArrayLength', args, 1);
    return asArray('States.ArrayLength', args[0]).length;
  },
  'States.ArrayUnique': (args) => {
    expectArgs('States.ArrayUnique', args, 1);
    const seen = new Set<string>();
    return asArray('States.ArrayUnique', args[0]).filter((item) => {
      const key = JSON.stringify(item);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  },
  'States.Base64Encode': (args) => {
    expectArgs('States.Base64Encode', args, 1);
    return Buffer.from(asString('States.Base64Encode', args[0]), 'utf8').toString('base64');
  },
  'States.Base64Decode': (args) => {
    expectArgs('States.Base64Decode', args, 1);
    return Buffer.from(asString('States.Base64Decode', args[0]), 'base64').toString('utf8');
  },
  'States.Hash': (args) => {
    expectArgs('States.Hash', args, 2);
    const algorithm = HASHES[asString('States.Hash', args[1])];
    if (!algorithm) fail('States.Hash', `algorithm must be one of ${Object.keys(HASHES).join(', ')}`);
    const data = typeof args[0] === 'string' ? args[0] : JSON.stringify(args[0]);
    return createHash(algorithm as string)
      .update(data)
      .digest('hex');
  },
  'States.JsonMerge': (args) => {
    expectArgs('States.JsonMerge', args, 3);
    const [a, b, deep] = args as [JsonValue, JsonValue, JsonValue];
    const isObject = (v: JsonValue) => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!isObject(a) || !isObject(b)) fail('States.JsonMerge', 'both values must be JSON objects');
    // AWS supports the shallow merge only.
    if (deep !== false) fail('States.JsonMerge', 'only a shallow merge (false) is supported');
    return { ...(a as object), ...(b as object) } as JsonValue;
  },
  'States.MathRandom': (args) => {
    expectArgs('States.MathRandom', args, 2, 3);
    const [start, end] = args as [JsonValue, JsonValue];
    if (!isInt(start) || !isInt(end)) fail('States.MathRandom', 'start and end must be integers');
    return (start as number) + Math.floor(Math.random() * ((end as number) - (start as number)));
  },
  'States.MathAdd': (args) => {
    expectArgs('States.MathAdd', args, 2);
    const [a, b] = args as [JsonValue, JsonValue];
    if (!isInt(a) || !isInt(b)) fail('States.MathAdd', 'both values must be integers');
    return (a as number) + (b as number);
  },
  'States.StringSplit': (args) => {
    expectArgs('States.StringSplit', args, 2);
    const text = asString('States.StringSplit', args[0]);
    const separators = new Set(asString('States.StringSplit', args[1]));
    const parts: string[] = [];
    let current = '';
    for (const char of text) {
      if (separators.has(char)) {
        parts.push(current);
        current = '';
      } else current += char;
    }
    parts.push(current);
    return parts.filter((part) => part !== '');
  },
  'States.UUID': (args) => {
    expectArgs('States.UUID', args, 0);
    return randomUUID();
  },
};

class Reader {
  pos = 0;
  constructor(readonly text: string) {}
  skipSpace(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }
  error(message: string): SyntaxError {
    return new SyntaxError(`${message} at position ${this.pos} of intrinsic '${this.text}'`);
  }
}

function readCall(reader: Reader): IntrinsicCall {
  const name = /^States\.[A-Za-z0-9]+/.exec(reader.text.slice(reader.pos));
  if (!name) throw reader.error('expected a States.* function');
  if (!(name[0] in FUNCTIONS)) throw reader.error(`unknown intrinsic function ${name[0]}`);
  reader.pos += name[0].length;
  if (reader.text[reader.pos] !== '(') throw reader.error("expected '('");
  reader.pos++;
  const args: IntrinsicArg[] = [];
  reader.skipSpace();
  if (reader.text[reader.pos] === ')') {
    reader.pos++;
    return { name: name[0], args };
  }
  for (;;) {
    reader.skipSpace();
    args.push(readArg(reader));
    reader.skipSpace();
    const char = reader.text[reader.pos++];
    if (char === ')') return { name: name[0], args };
    if (char !== ',') throw reader.error("expected ',' or ')'");
  }
}

function readArg(reader: Reader): IntrinsicArg {
  const rest = reader.text.slice(reader.pos);
  if (rest.startsWith("'")) {
    let value = '';
    let i = 1;
    for (; i < rest.length && rest[i] !== "'"; i++) {
      // Keeps \{ and \} escaped for States.Format; \' and \\ become the character.
      if (rest[i] === '\\' && (rest[i + 1] === "'" || rest[i + 1] === '\\')) value += rest[++i];
      else value += rest[i];
    }
    if (i >= rest.length) throw reader.error('unterminated string');
    reader.pos += i + 1;
    return { kind: 'literal', value };
  }
  if (rest.startsWith('States.')) return { kind: 'call', call: readCall(reader) };
  if (rest.startsWith('$')) {
    let end = 0;
    let depth = 0;
    let quote: string | undefined;
    for (; end < rest.length; end++) {
      const char = rest[end] as string;
      if (quote) {
        if (char === quote) quote = undefined;
      } else if (char === "'" || char === '"') quote = char;
      else if (char === '[') depth++;
      else if (char === ']') depth--;
      else if (depth === 0 && (char === ',' || char === ')' || /\s/.test(char))) break;
    }
    const text = rest.slice(0, end);
    reader.pos += end;
    return { kind: 'path', path: parsePath(text), text };
  }
  const literal = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(rest);
  if (!literal) throw reader.error('expected a string, number, boolean, null, path or function');
  reader.pos += literal[0].length;
  return { kind: 'literal', value: JSON.parse(literal[0]) as JsonValue };
}

/**
 * Parses an intrinsic function call; throws a `SyntaxError` naming the position for anything
 * malformed or an unknown function, so `validate` refuses it at creation.
 *
 * @example
 * parseIntrinsic("States.Format('Hello, {}', $.name)").name; // 'States.Format'
 */
export function parseIntrinsic(text: string): IntrinsicCall {
  const reader = new Reader(text.trim());
  const call = readCall(reader);
  reader.skipSpace();
  if (reader.pos !== reader.text.length) throw reader.error('unexpected text after the call');
  return call;
}

/**
 * Whether a `.$` value is an intrinsic function call rather than a path.
 *
 * @example
 * isIntrinsic('States.UUID()'); // true
 */
export function isIntrinsic(text: string): boolean {
  return text.trimStart().startsWith('States.');
}

/**
 * Evaluates a parsed call; `resolve` reads the call's path arguments (input, `$$`, variables).
 *
 * @example
 * evaluateIntrinsic(parseIntrinsic('States.MathAdd(111, -1)'), () => null); // 110
 */
export function evaluateIntrinsic(
  call: IntrinsicCall,
  resolve: (path: ParsedPath, text: string) => JsonValue,
): JsonValue {
  const args = call.args.map((arg) => {
    if (arg.kind === 'literal') return arg.value;
    if (arg.kind === 'path') return resolve(arg.path, arg.text);
    return evaluateIntrinsic(arg.call, resolve);
  });
  return (FUNCTIONS[call.name] as Impl)(args);
}
