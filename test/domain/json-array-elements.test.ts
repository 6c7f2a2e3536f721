import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonArrayElementTexts } from '../../shared/domain/json-array-elements.js';

describe('jsonArrayElementTexts', () => {
  it('gives each element of any JSON array as text that parses to that element', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue()),
        fc.constantFrom(undefined, 0, 2, '\t'),
        (array, space) => {
          const texts = jsonArrayElementTexts(JSON.stringify(array, null, space));
          expect(texts?.map((t) => JSON.parse(t))).toEqual(JSON.parse(JSON.stringify(array)));
        },
      ),
    );
  });

  it('keeps the digits as sent, and brackets, commas and escaped quotes inside strings', () => {
    expect(jsonArrayElementTexts(' [ 0.10000000000000000001 , "a,]\\"[" ,{"b":[1,{}]}] ')).toEqual([
      '0.10000000000000000001',
      '"a,]\\"["',
      '{"b":[1,{}]}',
    ]);
    expect(jsonArrayElementTexts('[]')).toEqual([]);
    expect(jsonArrayElementTexts('{"a":1}')).toBeUndefined();
    expect(jsonArrayElementTexts('7')).toBeUndefined();
  });
});
