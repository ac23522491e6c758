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
    const where = `leaf ${index}`;
    if (typeof leaf !== 'object' || leaf === null) throw new RewardsTreeError(`${where}: not a { address, amount } object`);
    const { address, amount } = leaf;
    if (typeof address !== 'object' || address === null || !(address.hash instanceof Uint8Array) || address.hash.length !== 32) {
      throw new RewardsTreeError(`${where}: address must be an internal address (@ton/core Address with a 32-byte hash)`);
    }
    if (address.workChain !== 0 && address.workChain !== -1) {
      throw new RewardsTreeError(`${where}: address workchain must be 0 or -1, got ${String(address.workChain)}`);
    }
    if (typeof amount !== 'bigint') throw new RewardsTreeError(`${where}: amount must be a bigint (nanoTON), got ${typeof amount}`);
    if (amount <= 0n || amount > MAX_AMOUNT) {
      throw new RewardsTreeError(`${where}: amount must be in 1..2^120-1 nanoTON, got ${amount}`);
    }
    this.workchains[index] = address.workChain;
    this.hashes.set(address.hash, index * 32);
    const hex = amount.toString(16);
    const byteCount = (hex.length + 1) >>> 1;
    const slot = index * AMOUNT_SLOT;
    this.amounts[slot] = byteCount;
    const odd = hex.length & 1;
    if (odd) this.amounts[slot + 1] = parseInt(hex[0]!, 16);
    for (let i = odd; i < byteCount; i++) this.amounts[slot + 1 + i] = parseInt(hex.substr(2 * i - odd, 2), 16);
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
