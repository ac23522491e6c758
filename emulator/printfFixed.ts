/**
 * C `printf("%.<digits>f", x)` for a double, exactly as glibc prints it: the exact binary value of
 * `x` rounded to `digits` decimals, ties to even, `-` kept for negative zero. Cocoon prints every
 * double this way (td::StringBuilder FixedDouble, precision 6: `/jsonstats` stats and the log's
 * `time=`). JS `toFixed` differs on exact ties (it rounds them up) and switches to exponent
 * notation at 1e21, so it cannot be used for byte-exact output.
 *
 * @throws RangeError for NaN/Infinity (the real worker would print `nan`/`inf`; the emulator never does).
 */
export function printfFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`printfFixed: ${x} is not finite`);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const biasedExponent = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exponent = -1074; // subnormal: mantissa * 2^-1074
  if (biasedExponent !== 0) {
    mantissa |= 1n << 52n;
    exponent = biasedExponent - 1075;
  }
  // |x| * 10^digits = mantissa * 2^exponent * 10^digits, rounded half-to-even
  const scaled = mantissa * 10n ** BigInt(digits);
  let q: bigint;
  if (exponent >= 0) {
    q = scaled << BigInt(exponent);
  } else {
    const den = 1n << BigInt(-exponent);
    q = scaled / den;
    const twiceRemainder = 2n * (scaled % den);
    if (twiceRemainder > den || (twiceRemainder === den && (q & 1n) === 1n)) q += 1n;
  }
  const s = q.toString().padStart(digits + 1, '0');
  const int = s.slice(0, s.length - digits);
  return (negative ? '-' : '') + int + (digits > 0 ? `.${s.slice(s.length - digits)}` : '');
}
