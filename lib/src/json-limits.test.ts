import { checkJsonInput, checkTextInput, encodedJsonSize, inspectJson, MAX_JSON_DEPTH, wellFormedJson, wellFormedText } from './json-limits';

const nested = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i += 1) value = { a: value };
  return value;
};

describe('JSON limits (issue 9 items 7–9)', () => {
  it('accepts 32 levels and refuses 33 naming the path; any depth is walked without overflowing the stack', () => {
    expect(inspectJson(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(inspectJson(nested(MAX_JSON_DEPTH + 1), {}, 'input')).toMatchObject({ reason: 'JSON_TOO_DEEP', path: `input${'.a'.repeat(MAX_JSON_DEPTH)}` });
    expect(() => checkJsonInput(nested(100_000), 'input')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', reason: 'JSON_TOO_DEEP', message: expect.stringContaining('nested more than 32 levels') }));
  });

  it('bounds the encoded size and stops counting once over it', () => {
    const big = { items: Array.from({ length: 1000 }, () => 'x'.repeat(1000)) };
    expect(encodedJsonSize(big)).toBeGreaterThan(1_000_000);
    expect(encodedJsonSize(big, 10_000)).toBeLessThan(20_000);
    expect(inspectJson(big, { maxBytes: 100_000 }, 'output')).toMatchObject({ reason: 'JSON_TOO_LARGE', path: 'output', message: expect.stringContaining('larger than 100000 bytes') });
    expect(inspectJson(big, { maxBytes: 2_000_000 })).toBeUndefined();
    // Numbers cost more encoded than as text: the bound is of the protobuf encoding.
    expect(encodedJsonSize(Array.from({ length: 1000 }, () => 0))).toBeGreaterThan(JSON.stringify(Array.from({ length: 1000 }, () => 0)).length * 5);
  });

  it('refuses NUL characters and lone surrogates in values and keys, naming the field, and accepts real pairs', () => {
    expect(() => checkJsonInput({ name: 'a\u0000b' }, 'input')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'input.name', reason: 'INVALID_TEXT' }));
    expect(() => checkJsonInput({ list: ['ok', 'x\uD800'] }, 'input')).toThrow(expect.objectContaining({ field: 'input.list[1]', message: expect.stringContaining('lone UTF-16 surrogate') }));
    expect(() => checkJsonInput({ ['k\uDC00']: 1 }, 'definition')).toThrow(expect.objectContaining({ field: 'definition["k\\udc00"]' }));
    expect(() => checkTextInput('bad\u0000', 'name')).toThrow(expect.objectContaining({ field: 'name', reason: 'INVALID_TEXT' }));
    expect(() => checkJsonInput({ emoji: '😀 \uD83D\uDE00' }, 'input')).not.toThrow();
  });

  it('makes text from outside storable: NUL and lone surrogates become U+FFFD, pairs stay', () => {
    expect(wellFormedText('a\u0000b\uD800c😀')).toBe('a\uFFFDb\uFFFDc😀');
    const clean = { a: ['x'] };
    expect(wellFormedJson(clean)).toBe(clean);
    expect(wellFormedJson({ ['k\u0000']: ['v\uDC00', 1, null] })).toEqual({ ['k\uFFFD']: ['v\uFFFD', 1, null] });
  });
});
