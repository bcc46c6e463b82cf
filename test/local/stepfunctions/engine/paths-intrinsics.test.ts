import { describe, expect, it } from 'vitest';
import { evaluateIntrinsic, parseIntrinsic } from '../../../../local/stepfunctions/engine/intrinsics.js';
import { parsePath, select } from '../../../../local/stepfunctions/engine/json-path.js';
import { output, single } from './engine-harness.js';

const call = (text: string) => evaluateIntrinsic(parseIntrinsic(text), () => null);

// Expected values from https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
describe('intrinsic functions (AWS "Intrinsic functions for JSONPath states")', () => {
  it('States.ArrayPartition splits into chunks, the last one shorter', () => {
    expect(call('States.ArrayPartition(States.Array(1,2,3,4,5,6,7,8,9), 4)')).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9],
    ]);
  });
  it('States.ArrayContains finds a value', () => {
    expect(call('States.ArrayContains(States.Array(1,2,3,4,5,6,7,8,9), 5)')).toBe(true);
  });
  it('States.ArrayRange counts from start to end by step', () => {
    expect(call('States.ArrayRange(1, 9, 2)')).toEqual([1, 3, 5, 7, 9]);
  });
  it('States.ArrayGetItem reads an index', () => {
    expect(call('States.ArrayGetItem(States.Array(1,2,3,4,5,6,7,8,9), 5)')).toBe(6);
  });
  it('States.ArrayLength counts', () => {
    expect(call('States.ArrayLength(States.Array(1,2,3,4,5,6,7,8,9))')).toBe(9);
  });
  it('States.ArrayUnique drops repeats', () => {
    expect(call('States.ArrayUnique(States.Array(1,2,3,3,3,3,3,3,4))')).toEqual([1, 2, 3, 4]);
  });
  it('States.Base64Encode and States.Base64Decode', () => {
    expect(call("States.Base64Encode('Data to encode')")).toBe('RGF0YSB0byBlbmNvZGU=');
    expect(call("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')")).toBe('Data to encode');
  });
  it('States.Hash with SHA-1', () => {
    expect(call("States.Hash('input data', 'SHA-1')")).toBe('aaff4a450a104cd177d28d18d74485e8cae074b7');
  });
  it('States.MathAdd adds integers', () => {
    expect(call('States.MathAdd(111, -1)')).toBe(110);
  });
  it('States.StringSplit splits on each separator character', () => {
    expect(call("States.StringSplit('1,2,3,4,5', ',')")).toEqual(['1', '2', '3', '4', '5']);
  });
  it('States.MathRandom stays in [start, end)', () => {
    const n = call('States.MathRandom(1, 999)') as number;
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThan(999);
  });
  it('States.Format fills {} and keeps escaped braces', () => {
    expect(call("States.Format('Hello, my name is {}.', 'Arnav')")).toBe('Hello, my name is Arnav.');
    expect(call("States.Format('\\{literal\\} {}', 1)")).toBe('{literal} 1');
  });
  it('States.JsonMerge merges shallowly, the second object winning', async () => {
    const merged = await output(
      single({
        Type: 'Pass',
        Parameters: { 'output.$': 'States.JsonMerge($.json1, $.json2, false)' },
      }),
      { json1: { a: { a1: 1, a2: 2 }, b: 2 }, json2: { a: { a3: 1, a4: 2 }, c: 3 } },
    );
    expect(merged).toEqual({ output: { a: { a3: 1, a4: 2 }, b: 2, c: 3 } });
  });
  it('States.StringToJson and States.JsonToString round-trip', async () => {
    const result = await output(
      single({
        Type: 'Pass',
        Parameters: { 'parsed.$': 'States.StringToJson($.escaped)', 'text.$': 'States.JsonToString($.data)' },
      }),
      { escaped: '{"foo": "bar"}', data: { a: 1 } },
    );
    expect(result).toEqual({ parsed: { foo: 'bar' }, text: '{"a":1}' });
  });
  it('States.UUID answers a v4 UUID', () => {
    expect(call('States.UUID()')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
  it('refuses an unknown function at parse time', () => {
    expect(() => parseIntrinsic('States.Nope(1)')).toThrow(/unknown intrinsic/);
  });
});

describe('JSONPath selection', () => {
  const data = { a: [{ b: 1 }, { b: 2 }, { b: 3 }], 'odd key': true, zero: 0 };
  it('reads fields, indexes and quoted keys', () => {
    expect(select(parsePath('$.a[1].b'), data)).toBe(2);
    expect(select(parsePath("$['odd key']"), data)).toBe(true);
    expect(select(parsePath('$.a[-1].b'), data)).toBe(3);
  });
  it('answers lists for wildcards, slices and recursive descent', () => {
    expect(select(parsePath('$.a[*].b'), data)).toEqual([1, 2, 3]);
    expect(select(parsePath('$.a[0:2].b'), data)).toEqual([1, 2]);
    expect(select(parsePath('$..b'), data)).toEqual([1, 2, 3]);
  });
  it('reads falsy values, including the whole value', () => {
    expect(select(parsePath('$.zero'), data)).toBe(0);
    expect(select(parsePath('$'), 0)).toBe(0);
  });
  it('refuses filters rather than half-running them', () => {
    expect(() => parsePath('$.a[?(@.b > 1)]')).toThrow(/unsupported/);
  });
});
