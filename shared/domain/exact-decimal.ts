/**
 * Exact decimal arithmetic for usage values: canonical decimal strings, and the integer fast
 * paths that keep ingestion from paying for big.js on every record (values with at most six
 * decimals, totals within 2^53 units). Pure.
 */
import Big from 'big.js';

/** Decimal places of a mean (the `average` aggregation), rounded half to even. */
export const MEAN_DECIMAL_PLACES = 12;

/** A big.js of its own, so the mean's rounding changes no other arithmetic. */
const MeanBig = Big();
MeanBig.DP = MEAN_DECIMAL_PLACES;
MeanBig.RM = Big.roundHalfEven;

/**
 * The mean `sum ÷ count` as a canonical decimal, rounded once, from the exact quotient, to 12
 * decimal places, ties to even; `null` for no values. `meanOf('10', 3)` is `'3.333333333333'`.
 */
export function meanOf(sum: string, count: number): string | null {
  if (count === 0) return null;
  return new MeanBig(sum).div(count).toFixed();
}

/** Canonical decimal string of a decimal string or number; throws on an invalid decimal. */
export function canonicalDecimal(value: string | number): string {
  return new Big(value).toFixed();
}

/**
 * An exact running sum of canonical decimal strings. While every value has at most 6 decimals
 * and the total stays within 2^53 units of the finest scale seen, it adds integers (exact, and
 * far cheaper than big.js per record); past that it continues in big.js.
 */
export class ExactSum {
  private scaled = 0;
  private scale = 0;
  private big: Big | null = null;

  add(text: string): void {
    if (this.big === null) {
      if (this.addScaled(text)) return;
      this.big = new Big(`${this.scaled}e-${this.scale}`);
    }
    this.big = this.big.plus(text);
  }

  private addScaled(text: string): boolean {
    const plain = plainDecimalParts(text);
    if (plain === undefined || plain.decimals > MAX_SCALE) return false;
    let units = plain.units;
    let scaled = this.scaled;
    if (plain.decimals > this.scale) scaled *= 10 ** (plain.decimals - this.scale);
    else units *= 10 ** (this.scale - plain.decimals);
    const next = scaled + units;
    if (
      !Number.isSafeInteger(units) ||
      !Number.isSafeInteger(scaled) ||
      !Number.isSafeInteger(next)
    )
      return false;
    this.scaled = next;
    this.scale = Math.max(this.scale, plain.decimals);
    return true;
  }

  toFixed(): string {
    return this.big === null ? scaledToFixed(this.scaled, this.scale) : this.big.toFixed();
  }
}

const POWERS_OF_TEN = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/**
 * The canonical decimal of a finite number with at most 6 decimals, as `String(value)` writes
 * it, found with integer arithmetic (several times cheaper than number-to-string for values
 * like 0.3); undefined for anything else. The smallest scale k at which some integer m has
 * m / 10^k === value gives the shortest decimal that reads back as the value, which is what
 * `String` prints. With |m| < 2^50 the decimals of that scale lie farther apart than the
 * number's precision, so m is the only candidate and Math.round finds it.
 */
export function decimalOfNumber(value: number): string | undefined {
  if (Number.isInteger(value)) {
    return Math.abs(value) < 2 ** 50 ? String(value === 0 ? 0 : value) : undefined;
  }
  for (let scale = 1; scale <= MAX_SCALE; scale++) {
    const power = POWERS_OF_TEN[scale] as number;
    const units = Math.round(value * power);
    if (!(Math.abs(units) < 2 ** 50)) return undefined;
    if (units / power === value) return scaledToFixed(units, scale);
  }
  return undefined;
}

/** Decimals the integer fast path of ExactSum keeps; finer values are summed by big.js. */
const MAX_SCALE = 6;

/**
 * A plain decimal (`-?digits[.digits]`, at most 17 characters) as an integer of units of its
 * last decimal place; undefined for anything else (exponents, signs, spaces: big.js decides).
 */
function plainDecimalParts(text: string): { units: number; decimals: number } | undefined {
  const length = text.length;
  if (length === 0 || length > 17) return undefined;
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  const firstDigit = i;
  let units = 0;
  let dot = -1;
  for (; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46 && dot === -1 && i > firstDigit && i < length - 1) dot = i;
    else if (code >= 48 && code <= 57) units = units * 10 + (code - 48);
    else return undefined;
  }
  if (i === firstDigit) return undefined;
  return { units: firstDigit === 1 ? -units : units, decimals: dot === -1 ? 0 : length - dot - 1 };
}

/** The canonical decimal of `scaled` × 10^-`scale` (a safe integer): no trailing zeros, no -0. */
function scaledToFixed(scaled: number, scale: number): string {
  if (scaled === 0) return '0';
  let units = Math.abs(scaled);
  let places = scale;
  while (places > 0 && units % 10 === 0) {
    units /= 10;
    places--;
  }
  const sign = scaled < 0 ? '-' : '';
  if (places === 0) return `${sign}${units}`;
  const power = POWERS_OF_TEN[places] as number;
  let whole = Math.floor(units / power);
  // Below 2^53 the rounded quotient never reaches the next whole number (doubles there lie
  // closer than 2 / power); the check keeps that from being a silent assumption.
  if (whole * power > units) whole--;
  const fraction = String(units - whole * power);
  const zeros = places - fraction.length;
  return `${sign}${whole}.${zeros > 0 ? '0'.repeat(zeros) : ''}${fraction}`;
}

/**
 * How a decimal is written in API responses and metered records (docs/api.md "Exact values"):
 * a JSON number when that number prints back as the same canonical decimal, otherwise the
 * exact canonical decimal string. So no value is ever rounded on the way out.
 */
export type DecimalOutput = number | string;

/** A decimal as `DecimalOutput`: the number when it round-trips exactly, else the string. */
export function decimalOutput(value: string | number): DecimalOutput {
  const canonical = canonicalDecimal(value);
  const number = Number(canonical);
  if (!Number.isFinite(number)) return canonical;
  const printed = decimalOfNumber(number) ?? canonicalDecimal(number);
  if (printed !== canonical) return canonical;
  // Number('-0') is -0, which JSON prints as 0 anyway; normalize so equality checks agree.
  return number === 0 ? 0 : number;
}

/** The exact canonical decimal text of an output value (CSV cells carry this). */
export function decimalText(value: DecimalOutput): string {
  return canonicalDecimal(value);
}
