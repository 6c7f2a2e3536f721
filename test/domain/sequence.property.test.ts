import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bareSequence,
  compareSequence,
  sequenceAfter,
  sequenceKey,
} from '../../shared/domain/meter-usage.js';

/** Sequence numbers as Kinesis writes them (no leading zeros), short and 56-digit ones alike. */
const sequenceArb = fc
  .oneof(
    fc.bigInt({ min: 0n, max: 1000n }),
    fc.bigInt({ min: 10n ** 55n, max: 10n ** 56n - 1n }),
    fc.bigInt({ min: 0n, max: 10n ** 127n }),
  )
  .map(String);

const sign = (n: number | bigint) => (n > 0 ? 1 : n < 0 ? -1 : 0);

describe('sequence numbers', () => {
  it('compare bare like the integers they are, and like their padded keys', () => {
    fc.assert(
      fc.property(sequenceArb, sequenceArb, (a, b) => {
        const expected = sign(BigInt(a) - BigInt(b));
        expect(sign(compareSequence(bareSequence(a), bareSequence(b)))).toBe(expected);
        expect(sign(compareSequence(bareSequence(sequenceKey(a)), bareSequence(b)))).toBe(expected);
        expect(sequenceAfter(bareSequence(a), bareSequence(b))).toBe(expected > 0);
        const [ka, kb] = [sequenceKey(a), sequenceKey(b)];
        expect(sign(ka < kb ? -1 : ka > kb ? 1 : 0)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('strip leading zeros but keep zero itself; nothing (no position yet) is below all', () => {
    expect(bareSequence('000123')).toBe('123');
    expect(bareSequence(sequenceKey('0'))).toBe('0');
    expect(bareSequence('')).toBe('');
    expect(compareSequence('', '0')).toBeLessThan(0);
    expect(compareSequence('0', bareSequence(sequenceKey('0')))).toBe(0);
  });
});
