/**
 * A rewards leaf and its value in the dictionary: `address:MsgAddressInt amount:Coins`, stored
 * inline in the leaf cell. The address is always `addr_std$10 anycast:(Maybe Anycast)=0
 * workchain_id:int8 address:bits256` (267 bits), the amount `Coins` = VarUInteger 16
 * (4-bit byte count, then that many bytes, minimal). block.tlb; @ton/core Builder.storeAddress
 * and storeCoins write the same bits.
 */
import { Address } from '@ton/core';
import type { BitReader, BitWriter } from './bits.ts';
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

/** Value of a lowercase hex digit's char code. */
function hexDigit(code: number): number {
  return code <= 0x39 ? code - 0x30 : code - 0x57;
}

/**
 * The leaves of a tree packed into flat arrays (~49 bytes a leaf instead of an Address object
 * each), copied from the input so later changes to the caller's objects cannot reach the tree.
 */
export class LeafStore {
  private readonly workchains: Int8Array;
  private readonly hashes: Uint8Array;
  private readonly amounts: Uint8Array;

  constructor(readonly count: number) {
    this.workchains = new Int8Array(count);
    this.hashes = new Uint8Array(count * 32);
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
    if (typeof amount !== 'bigint') invalidLeaf(index, `amount must be a bigint (nanoTON), got ${typeof amount}`);
    if (amount <= 0n || amount > MAX_AMOUNT) invalidLeaf(index, `amount must be in 1..2^120-1 nanoTON, got ${amount}`);
    this.workchains[index] = address.workChain;
    const hash = address.hash;
    for (let i = 0, at = index * 32; i < 32; i++) this.hashes[at + i] = hash[i]!; // faster than .set for 32 bytes
    const slot = index * AMOUNT_SLOT;
    if (amount <= SAFE_AMOUNT) {
      // minimal big-endian bytes by arithmetic, allocation-free (all realistic rewards)
      let value = Number(amount);
      let byteCount = 0;
      for (let rest = value; rest >= 1; rest = Math.floor(rest / 256)) byteCount++;
      this.amounts[slot] = byteCount;
      for (let at = slot + byteCount; at > slot; at--) {
        this.amounts[at] = value % 256;
        value = Math.floor(value / 256);
      }
      return;
    }
    // minimal big-endian bytes from the hex digits (there is no leading zero digit)
    const hex = amount.toString(16);
    this.amounts[slot] = (hex.length + 1) >>> 1;
    let out = slot + 1;
    let at = 0;
    if (hex.length & 1) this.amounts[out++] = hexDigit(hex.charCodeAt(at++));
    while (at < hex.length) this.amounts[out++] = (hexDigit(hex.charCodeAt(at++)) << 4) | hexDigit(hex.charCodeAt(at++));
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
