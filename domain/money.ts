/**
 * Money: nanoTON as bigint, never floats (DESIGN.md "Money is integers"). 1 TON = 10^9 nanoTON.
 */

export const NANOTON_PER_TON = 1_000_000_000n;

/** Thrown for a malformed or out-of-range amount, or an impossible split. */
export class MoneyError extends Error {
  override name = 'MoneyError';
}

/**
 * Parses a decimal nanoTON string ("1500000000") as stored in events and numeric columns.
 * @throws MoneyError for anything but a non-negative decimal integer.
 */
export function parseNanoton(value: string): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(value)) throw new MoneyError(`not a nanoTON amount: ${JSON.stringify(value)}`);
  return BigInt(value);
}

/** Formats nanoTON as a TON decimal string for people, e.g. 1500000000n → "1.5". */
export function formatTon(nanoton: bigint): string {
  const sign = nanoton < 0n ? '-' : '';
  const abs = nanoton < 0n ? -nanoton : nanoton;
  const whole = abs / NANOTON_PER_TON;
  const frac = (abs % NANOTON_PER_TON).toString().padStart(9, '0').replace(/0+$/, '');
  return `${sign}${whole}${frac ? `.${frac}` : ''}`;
}

/**
 * Formats nanoTON as TON with exactly 9 decimals, string math only: 1500000000n → "1.500000000",
 * 1n → "0.000000001" (tax exports, where a fixed precision is expected).
 */
export function formatTonFixed(nanoton: bigint): string {
  const sign = nanoton < 0n ? '-' : '';
  const abs = nanoton < 0n ? -nanoton : nanoton;
  return `${sign}${abs / NANOTON_PER_TON}.${(abs % NANOTON_PER_TON).toString().padStart(9, '0')}`;
}

/** A non-negative decimal price as written in a price file: `2.5`, `0.000123`, `3` (up to 18 decimals). */
export const DECIMAL_PRICE = /^(0|[1-9][0-9]{0,17})(\.[0-9]{1,18})?$/;

/**
 * The fiat value of `nanoton` at `price` fiat units per TON, with 2 decimals, rounded half up;
 * exact (bigint) math: value = nanoton × price / 10^9. E.g. (1500000000n, "2.345") → "3.52"
 * (3.5175 rounds up), (1n, "2") → "0.00".
 * @throws MoneyError when `price` is not a {@link DECIMAL_PRICE} or `nanoton` is negative.
 */
export function fiatValue(nanoton: bigint, price: string): string {
  const m = DECIMAL_PRICE.exec(price);
  if (!m) throw new MoneyError(`not a decimal price: ${JSON.stringify(price)}`);
  if (nanoton < 0n) throw new MoneyError('negative amount');
  const frac = m[2]?.slice(1) ?? '';
  const units = BigInt(m[1]! + frac); // price × 10^frac.length
  const den = NANOTON_PER_TON * 10n ** BigInt(frac.length);
  const num = nanoton * units * 100n; // value in cents × den
  const cents = (2n * num + den) / (2n * den); // half up
  return `${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;
}

/**
 * The fee of `amount` at `bps` basis points, rounded down (the operator never gets more than its rate).
 * @throws MoneyError when bps is not an integer in 0..10000 or amount is negative.
 */
export function feeOf(amount: bigint, bps: number): bigint {
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) throw new MoneyError(`fee must be 0..10000 bps, got ${bps}`);
  if (amount < 0n) throw new MoneyError('negative amount');
  return (amount * BigInt(bps)) / 10_000n;
}

/**
 * Splits `total` nanoTON in proportion to `weights` by the largest remainder (Hamilton) method:
 * each share is floor(total·w/W); the few nanoTON left go one each to the largest remainders,
 * ties to the lower index. Σshares = total exactly; a zero weight gets zero.
 * @throws MoneyError when total < 0, a weight < 0, or every weight is zero while total > 0.
 */
export function splitLargestRemainder(total: bigint, weights: readonly bigint[]): bigint[] {
  if (total < 0n) throw new MoneyError('cannot split a negative amount');
  let sum = 0n;
  for (const w of weights) {
    if (w < 0n) throw new MoneyError('negative weight');
    sum += w;
  }
  if (sum === 0n) {
    if (total === 0n) return weights.map(() => 0n);
    throw new MoneyError('cannot split a positive amount over zero weights');
  }
  const shares = new Array<bigint>(weights.length);
  const remainders = new Array<bigint>(weights.length);
  let given = 0n;
  for (let i = 0; i < weights.length; i++) {
    const p = total * weights[i]!;
    shares[i] = p / sum;
    remainders[i] = p % sum;
    given += shares[i]!;
  }
  let left = total - given; // < number of non-zero weights
  if (left > 0n) {
    const order = weights.map((_, i) => i).filter((i) => weights[i]! > 0n);
    order.sort((a, b) => (remainders[b]! > remainders[a]! ? 1 : remainders[b]! < remainders[a]! ? -1 : a - b));
    for (const i of order) {
      if (left === 0n) break;
      shares[i] = shares[i]! + 1n;
      left--;
    }
  }
  return shares;
}
