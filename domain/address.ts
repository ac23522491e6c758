/**
 * TON addresses: accepted in any form, stored and returned raw (`0:<64 hex>`).
 *
 * Parsing never rewrites its input into another address: a raw address must be exactly
 * `<workchain>:<64 hex>` with the workchain written `0` or `-1` (so `99999999999999999999:<hex>`
 * is refused, not read as workchain `1e20`), and a friendly one must carry a valid checksum. Only
 * the basechain (0) and the masterchain (−1) exist; any other workchain is refused.
 */
import { Address } from '@ton/core';

/** Thrown for a string that is not a TON address in any form. */
export class AddressError extends Error {
  override name = 'AddressError';
}

const RAW = /^(0|-1):[0-9a-fA-F]{64}$/;
const FRIENDLY = /^[A-Za-z0-9+/_-]{48}$/;

/**
 * Normalises a raw (`0:abc…`, `-1:abc…`) or user-friendly (`EQ…`/`UQ…`, base64 or base64url)
 * address to raw form with lowercase hex.
 * @throws AddressError for anything else, including another workchain than 0 or −1 and
 *   surrounding whitespace.
 */
export function toRawAddress(input: string): string {
  const shown = JSON.stringify(input.slice(0, 100));
  let address: Address;
  if (RAW.test(input)) address = Address.parseRaw(input);
  else if (FRIENDLY.test(input)) {
    try {
      address = Address.parseFriendly(input).address;
    } catch (err) {
      throw new AddressError(`not a TON address: ${shown} (${(err as Error).message})`);
    }
  } else throw new AddressError(`not a TON address: ${shown} (expected <0|-1>:<64 hex> or a 48-character friendly form)`);
  if (address.workChain !== 0 && address.workChain !== -1) {
    throw new AddressError(`not a TON address: ${shown} is on workchain ${address.workChain}; only 0 and -1 exist`);
  }
  return address.toRawString();
}

/** Parses a raw address from our own storage into a @ton/core Address. @throws AddressError. */
export function parseRawAddress(raw: string): Address {
  try {
    return Address.parseRaw(raw);
  } catch {
    throw new AddressError(`not a raw TON address: ${JSON.stringify(raw.slice(0, 100))}`);
  }
}
