import { describe, expect, it } from 'vitest';
import { canonicalize, CanonicalJsonError } from '../../src/domain/canonical-json';

describe('RFC 8785 canonical JSON', () => {
  it('matches the RFC §3.2.2 example (numbers, escapes, literals, member order)', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts member names by UTF-16 code units (RFC §3.2.3 example)', () => {
    const input = { '€': 1, '\r': 2, '\ufb33': 3, '1': 4, '😀': 5, '\u0080': 6, 'ö': 7 };
    // Compare the text: Object.keys would list the integer-like "1" first whatever the serialised order.
    const order = ['\r', '1', '\u0080', 'ö', '€', '😀', '\ufb33'] as const;
    const expected = `{${order.map((k) => `${JSON.stringify(k)}:${input[k]}`).join(',')}}`;
    expect(canonicalize(input)).toBe(expected);
  });

  it('writes -0 as 0 and is independent of insertion order', () => {
    expect(canonicalize({ b: -0, a: [{ z: 1, y: 2 }] })).toBe('{"a":[{"y":2,"z":1}],"b":0}');
  });

  it.each([
    ['NaN', { a: Number.NaN }],
    ['Infinity', [Number.POSITIVE_INFINITY]],
    ['a lone surrogate', { a: '\uD800' }],
    ['a function', { a: () => 1 }],
    ['a Date (not a plain object)', { a: new Date(0) }],
  ])('refuses %s instead of signing something else', (_name, value) => {
    expect(() => canonicalize(value)).toThrow(CanonicalJsonError);
  });
});
