/**
 * A rewards leaf and its value in the dictionary: `address:MsgAddressInt amount:Coins`, stored
 * inline in the leaf cell. The address is always `addr_std$10 anycast:(Maybe Anycast)=0
 * workchain_id:int8 address:bits256` (267 bits), the amount `Coins` = VarUInteger 16
 * (4-bit byte count, then that many bytes, minimal). block.tlb; @ton/core Builder.storeAddress
 * and storeCoins write the same bits.
 */
import { Address } from '@ton/core';
import type { BitReader, BitWriter } from './bits.ts';
import type { WordWriter } from './cellHash.ts';
import { RewardsTreeError } from './errors.ts';

/** One payout: who and how much (nanoTON). Its key in the dictionary is its position. */
export interface RewardLeaf {
  address: Address;
  amount: bigint;
}

/** Amounts are Coins: 0 < amount < 2^120 nanoTON (zero rewards are not put in the table). */
export const MAX_AMOUNT = (1n << 120n) - 1n;

const AMOUNT_SLOT = 16; // byte count, then up to 15 big-endian bytes
const SAFE_AMOUNT = BigInt(Number.MAX_SAFE_INTEGER);

function invalidLeaf(index: number, problem: string): never {
  throw new RewardsTreeError(`leaf ${index}: ${problem}`);
}

/** Minimal byte count of a Coins value 1 ≤ value ≤ 2^53 − 1. */
function coinsBytes(value: number): number {
  if (value < 0x100000000) return value < 0x10000 ? (value < 0x100 ? 1 : 2) : value < 0x1000000 ? 3 : 4;
  return value < 0x10000000000 ? 5 : value < 0x1000000000000 ? 6 : 7;
}

/** Value of a hex digit's char code (either case), −1 for any other character. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/**
 * The leaves of a tree packed into flat arrays (~49 bytes a leaf instead of an Address object
 * each). buildRewardsTree copies RewardLeaf objects into one; a caller holding the leaves in
 * another form (the epoch saga: raw address strings of the rewards artifact) fills one with
 * `setRaw` and hands it over, which spares an Address object per leaf (~0.5 KB each at 1M leaves).
 */
export class LeafStore {
  private readonly workchains: Int8Array;
  private readonly hashes: Uint8Array;
  private readonly amounts: Uint8Array;
  /** `hashes` as a Buffer (same memory), for its native hex decoding */
  private readonly hashView: Buffer;

  constructor(readonly count: number) {
    this.workchains = new Int8Array(count);
    this.hashes = new Uint8Array(count * 32);
    this.hashView = Buffer.from(this.hashes.buffer, this.hashes.byteOffset, this.hashes.byteLength);
    this.amounts = new Uint8Array(count * AMOUNT_SLOT);
  }

  /**
   * Validates `leaf` and stores it at `index`. Throws RewardsTreeError when the address is not
   * a 256-bit internal address in workchain 0 or -1, or the amount is not a bigint in 1..2^120-1.
   */
  set(index: number, leaf: RewardLeaf): void {
    if (typeof leaf !== 'object' || leaf === null) invalidLeaf(index, 'not a { address, amount } object');
    const { address, amount } = leaf;
    if (typeof address !== 'object' || address === null || !(address.hash instanceof Uint8Array) || address.hash.length !== 32) {
      invalidLeaf(index, 'address must be an internal address (@ton/core Address with a 32-byte hash)');
    }
    if (address.workChain !== 0 && address.workChain !== -1) invalidLeaf(index, `address workchain must be 0 or -1, got ${String(address.workChain)}`);
    this.workchains[index] = address.workChain;
    const hash = address.hash;
    for (let i = 0, at = index * 32; i < 32; i++) this.hashes[at + i] = hash[i]!; // faster than .set for 32 bytes
    this.setAmount(index, amount);
  }

  /**
   * Stores leaf `index` from a raw address `0:<64 hex>` or `-1:<64 hex>` (lowercase or
   * uppercase hex, as the rewards artifact holds it) and an amount, without an Address object:
   * what the epoch saga does for every leaf of an epoch. Throws RewardsTreeError for another
   * address form or an amount that is not a bigint in 1..2^120-1.
   */
  setRaw(index: number, raw: string, amount: bigint): void {
    if (typeof raw !== 'string') invalidLeaf(index, 'address must be a raw address string');
    const colon = raw.length - 65;
    const workchain = raw === '' ? NaN : colon === 1 && raw.charCodeAt(0) === 0x30 ? 0 : colon === 2 && raw.startsWith('-1') ? -1 : NaN;
    if (Number.isNaN(workchain) || raw.charCodeAt(colon) !== 0x3a) invalidLeaf(index, `address ${JSON.stringify(raw.slice(0, 80))} is not 0:<64 hex> or -1:<64 hex>`);
    // native hex decoding; it stops at the first pair that is not hex, so 32 bytes = 64 hex digits
    if (this.hashView.write(raw.slice(colon + 1), index * 32, 32, 'hex') !== 32) {
      invalidLeaf(index, `address ${JSON.stringify(raw.slice(0, 80))} is not 0:<64 hex> or -1:<64 hex>`);
    }
    this.workchains[index] = workchain;
    this.setAmount(index, amount);
  }

  private setAmount(index: number, amount: bigint): void {
    if (typeof amount !== 'bigint') invalidLeaf(index, `amount must be a bigint (nanoTON), got ${typeof amount}`);
    if (amount <= 0n || amount > MAX_AMOUNT) invalidLeaf(index, `amount must be in 1..2^120-1 nanoTON, got ${amount}`);
    const slot = index * AMOUNT_SLOT;
    if (amount <= SAFE_AMOUNT) {
      // minimal big-endian bytes by arithmetic, allocation-free (all realistic rewards)
      const value = Number(amount);
      const byteCount = coinsBytes(value);
      this.amounts[slot] = byteCount;
      // the low 4 bytes by integer arithmetic, the rest (≤ 3 bytes above 2^32) by division
      let low = value % 0x100000000;
      let high = (value - low) / 0x100000000;
      for (let at = slot + byteCount; at > slot; at--) {
        if (at > slot + byteCount - 4) {
          this.amounts[at] = low & 0xff;
          low >>>= 8;
        } else {
          this.amounts[at] = high & 0xff;
          high >>>= 8;
        }
      }
      return;
    }
    // minimal big-endian bytes from the hex digits (there is no leading zero digit)
    const hex = amount.toString(16);
    this.amounts[slot] = (hex.length + 1) >>> 1;
    let out = slot + 1;
    let at = 0;
    if (hex.length & 1) this.amounts[out++] = hexValue(hex.charCodeAt(at++));
    while (at < hex.length) this.amounts[out++] = (hexValue(hex.charCodeAt(at++)) << 4) | hexValue(hex.charCodeAt(at++));
  }

  /** Index of the first leaf never set (its amount slot is empty), or −1 when all are. */
  firstUnset(): number {
    for (let i = 0; i < this.count; i++) if (this.amounts[i * AMOUNT_SLOT] === 0) return i;
    return -1;
  }

  /** Writes the leaf value `address:MsgAddressInt amount:Coins` of leaf `index`. */
  writeValue(index: number, w: BitWriter): void {
    w.writeUint(0b100, 3); // addr_std$10, anycast nothing$0
    w.writeUint(this.workchains[index]! & 0xff, 8);
    w.writeBytes(this.hashes, index * 32, 32);
    const slot = index * AMOUNT_SLOT;
    const byteCount = this.amounts[slot]!;
    w.writeUint(byteCount, 4);
    w.writeBytes(this.amounts, slot + 1, byteCount);
  }

  /** Data bits of leaf `index`'s value: addr_std (267) + Coins (4 + 8 × byte count). */
  valueBits(index: number): number {
    return 271 + 8 * this.amounts[index * AMOUNT_SLOT]!;
  }

  /** Writes the same bits as {@link writeValue} to a word writer (the tree build's hasher). */
  pushValue(index: number, w: WordWriter): void {
    w.push(0b10000000000 | (this.workchains[index]! & 0xff), 11); // addr_std$10, anycast nothing$0, workchain
    w.pushBytes(this.hashes, index * 32, 8);
    const slot = index * AMOUNT_SLOT;
    const byteCount = this.amounts[slot]!;
    // the 4-bit byte count and the bytes, in pushes of at most 28 bits
    let value = byteCount;
    let bits = 4;
    for (let i = 1; i <= byteCount; i++) {
      if (bits > 20) {
        w.push(value, bits);
        value = 0;
        bits = 0;
      }
      value = (value << 8) | this.amounts[slot + i]!;
      bits += 8;
    }
    w.push(value, bits);
  }

  /** Leaf `index` as a new object (a fresh Address). */
  get(index: number): RewardLeaf {
    const hash = Buffer.from(this.hashes.subarray(index * 32, index * 32 + 32));
    const slot = index * AMOUNT_SLOT;
    let amount = 0n;
    for (let i = 0; i < this.amounts[slot]!; i++) amount = (amount << 8n) | BigInt(this.amounts[slot + 1 + i]!);
    return { address: new Address(this.workchains[index]!, hash), amount };
  }
}

/**
 * Reads a leaf value `address:MsgAddressInt amount:Coins` written by `LeafStore.writeValue`.
 * Throws RangeError when the data is not an addr_std without anycast in workchain 0 or -1
 * followed by Coins in 1..2^120-1, or ends early.
 */
export function readLeafValue(r: BitReader): RewardLeaf {
  if (r.readUint(3) !== 0b100) throw new RangeError('leaf address is not addr_std without anycast');
  const workchain = (r.readUint(8) << 24) >> 24;
  if (workchain !== 0 && workchain !== -1) throw new RangeError(`leaf address workchain ${workchain} is not 0 or -1`);
  const hash = Buffer.from(r.readBytes(32));
  const byteCount = r.readUint(4);
  let amount = 0n;
  for (let i = 0; i < byteCount; i++) amount = (amount << 8n) | BigInt(r.readUint(8));
  if (amount === 0n) throw new RangeError('leaf amount is zero');
  return { address: new Address(workchain, hash), amount };
}
