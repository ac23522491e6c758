/** TON addresses: accepted in any form, stored and returned raw (`0:<64 hex>`). */
import { Address } from '@ton/core';

/** Thrown for a string that is not a TON address in any form. */
export class AddressError extends Error {
  override name = 'AddressError';
}

/**
 * Normalises a raw (`0:abc…`) or user-friendly (`EQ…`/`UQ…`, base64 or base64url) address to raw
 * form with lowercase hex.
 * @throws AddressError for anything else.
 */
export function toRawAddress(input: string): string {
  try {
    return Address.parse(input.trim()).toRawString();
  } catch {
    throw new AddressError(`not a TON address: ${JSON.stringify(input.slice(0, 100))}`);
  }
}

/** Parses a raw address from our own storage into a @ton/core Address. @throws AddressError. */
export function parseRawAddress(raw: string): Address {
  try {
    return Address.parseRaw(raw);
  } catch {
    throw new AddressError(`not a raw TON address: ${JSON.stringify(raw.slice(0, 100))}`);
  }
}
