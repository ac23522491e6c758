/**
 * Shared plumbing of the typed contract layer: turning a generated `store*` function into a
 * message body `Cell`, and the typed errors of encoding and decoding.
 */
import { beginCell, type Builder, type Cell, type Slice } from '@ton/core';

/** A message could not be encoded: a field is out of its TL-B range (e.g. a negative amount). */
export class ContractMessageError extends Error {
  override name = 'ContractMessageError';
}

/** A body is not what was expected: unknown op, wrong op, short or trailing data. */
export class ContractDecodeError extends Error {
  override name = 'ContractDecodeError';
}

/**
 * Builds the body cell of message `name` with the generated `store` function.
 * Throws ContractMessageError naming the message when a field does not fit its type.
 */
export function encodeBody(name: string, store: (builder: Builder) => void): Cell {
  try {
    const builder = beginCell();
    store(builder);
    return builder.endCell();
  } catch (err) {
    throw new ContractMessageError(`${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Runs the generated `load` function of `name` on the whole of `body` and checks nothing is
 * left over. Throws ContractDecodeError for a wrong op, missing fields or trailing data.
 */
export function decodeBody<T>(name: string, body: Cell, load: (slice: Slice) => T): T {
  const slice = body.beginParse();
  let value: T;
  try {
    value = load(slice);
  } catch (err) {
    throw new ContractDecodeError(`${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (slice.remainingBits !== 0 || slice.remainingRefs !== 0) {
    throw new ContractDecodeError(`${name}: ${slice.remainingBits} bits and ${slice.remainingRefs} refs left after decoding`);
  }
  return value;
}

/** The 32-bit op of a body; throws ContractDecodeError when it is shorter than 32 bits. */
export function opOf(body: Cell): number {
  const slice = body.beginParse();
  if (slice.remainingBits < 32) throw new ContractDecodeError(`body of ${slice.remainingBits} bits has no 32-bit op`);
  return slice.loadUint(32);
}
