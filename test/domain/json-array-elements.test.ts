import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  jsonArrayElementTexts,
  jsonObjectMemberTexts,
} from '../../shared/domain/json-array-elements.js';

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

describe('jsonObjectMemberTexts', () => {
  it('gives each member value of any JSON object as text that parses to that value', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.constantFrom(undefined, 0, 2, '\t'),
        (object, space) => {
          const text = JSON.stringify(object, null, space);
          const texts = jsonObjectMemberTexts(text);
          const parsed = JSON.parse(text) as Record<string, unknown>;
          expect(
            texts && Object.fromEntries([...texts].map(([k, t]) => [k, JSON.parse(t)])),
          ).toEqual(parsed);
        },
      ),
    );
  });

  it('reads escaped keys, keeps the digits as sent, and the last of a repeated key', () => {
    const texts = jsonObjectMemberTexts(
      ' { "re\\"cords" : [ 1e400 , 0.10000000000000000001 ] , "a":1, "a" : {"b":"}"} } ',
    );
    expect(texts && Object.fromEntries(texts)).toEqual({
      're"cords': '[ 1e400 , 0.10000000000000000001 ]',
      a: '{"b":"}"}',
    });
    expect(jsonObjectMemberTexts('{}')?.size).toBe(0);
    expect(jsonObjectMemberTexts('[1]')).toBeUndefined();
  });
});
