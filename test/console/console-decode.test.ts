/** The console shows values and record bytes exactly as they were sent. */
import { describe, expect, it } from 'vitest';
import { decodeRecord, prettyJson, showValue } from '../../console/src/decode.js';

const base64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64');

describe('console decoding', () => {
  it('pretty-prints JSON without re-parsing its numbers or strings', () => {
    const text =
      '{"userId":"a\\"b","value":0.10000000000000000001,"big":123456789012345678901234567890,"e":[],"o":{}}';
    const decoded = decodeRecord(base64(text));
    expect(decoded.kind).toBe('json');
    expect(decoded.text).toBe(
      [
        '{',
        '  "userId": "a\\"b",',
        '  "value": 0.10000000000000000001,',
        '  "big": 123456789012345678901234567890,',
        '  "e": [],',
        '  "o": {}',
        '}',
      ].join('\n'),
    );
    expect(prettyJson('[1, {"a": [2]}]')).toBe('[\n  1,\n  {\n    "a": [\n      2\n    ]\n  }\n]');
  });

  it('shows bytes that are not UTF-8 as hex, and text that is not JSON as text', () => {
    expect(decodeRecord(base64(new Uint8Array([0xff, 0x00, 0x41])))).toEqual({
      kind: 'hex',
      text: 'ff 00 41',
    });
    expect(decodeRecord(base64('userId=alice'))).toEqual({ kind: 'text', text: 'userId=alice' });
  });

  it('shows a value verbatim: an exact decimal string stays as sent', () => {
    expect(showValue('12345678901234567890.000000000001')).toBe(
      '12345678901234567890.000000000001',
    );
    expect(showValue(7.5)).toBe('7.5');
    expect(showValue(null)).toBe('—');
  });
});
