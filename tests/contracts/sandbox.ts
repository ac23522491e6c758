/**
 * Helpers for the contract tests: sending raw bodies through @ton/sandbox, reading the
 * outcome of one account's transaction, and building rewards trees with @ton/core's Dictionary
 * (the reference format, contracts/README.md "Proof format").
 */
import { type Blockchain, type SendMessageResult, type SandboxContract, type TreasuryContract } from '@ton/sandbox';
import { Address, beginCell, type Builder, type Cell, Dictionary, type Slice, type Transaction } from '@ton/core';
import { transactionEvents } from '../../contracts/events.ts';

/** Sends `body` with `value` nanoTON from `from` to `to` (bounceable unless said otherwise). */
export async function sendBody(
  blockchain: Blockchain,
  from: Address,
  to: Address,
  value: bigint,
  body: Cell,
  options: { bounce?: boolean; bounced?: boolean } = {},
): Promise<SendMessageResult> {
  return blockchain.sendMessage({
    info: {
      type: 'internal',
      ihrDisabled: true,
      bounce: options.bounce ?? true,
      bounced: options.bounced ?? false,
      src: from,
      dest: to,
      value: { coins: value },
      ihrFee: 0n,
      forwardFee: 0n,
      createdLt: 0n,
      createdAt: 0,
    },
    body,
  });
}

/** The (first) transaction of `address` in `result`; throws when there is none. */
export function txOn(result: SendMessageResult, address: Address): Transaction {
  const tx = result.transactions.find((t) => t.inMessage?.info.dest instanceof Address && t.inMessage.info.dest.equals(address));
  if (!tx) throw new Error(`no transaction on ${address.toString()}`);
  return tx;
}

/** What happened in `address`'s transaction: compute exit code, action result, success. */
export function outcome(result: SendMessageResult, address: Address): { exitCode: number; actionCode: number | null; ok: boolean; gas: bigint } {
  const d = txOn(result, address).description;
  if (d.type !== 'generic' || d.computePhase.type !== 'vm') return { exitCode: -1, actionCode: null, ok: false, gas: 0n };
  const actionCode = d.actionPhase ? d.actionPhase.resultCode : null;
  return { exitCode: d.computePhase.exitCode, actionCode, ok: d.computePhase.success && (d.actionPhase?.success ?? false) && !d.aborted, gas: d.computePhase.gasUsed };
}

/** The exit code of `address`'s transaction (0 on success). */
export function exitCode(result: SendMessageResult, address: Address): number {
  return outcome(result, address).exitCode;
}

/**
 * Decoded events of `address`'s transaction, addresses as raw strings ("0:ab…") so that
 * assert.equal can compare them.
 */
export function eventsOn(result: SendMessageResult, address: Address): Record<string, unknown>[] {
  return transactionEvents(txOn(result, address)).map(plain);
}

/** `value` with every Address replaced by its raw string (recursively through plain objects). */
export function plain<T>(value: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as object)) {
    if (v instanceof Address) out[key] = v.toRawString();
    else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) out[key] = plain(v);
    else out[key] = v;
  }
  return out;
}

/** Internal messages `address`'s transaction sent: destination, value, bounce flag, body. */
export function sentBy(result: SendMessageResult, address: Address): { to: Address; value: bigint; bounce: boolean; body: Cell }[] {
  const out = [];
  for (const m of txOn(result, address).outMessages.values()) {
    if (m.info.type === 'internal') out.push({ to: m.info.dest, value: m.info.value.coins, bounce: m.info.bounce, body: m.body });
  }
  return out;
}

/** A deterministic basechain address for test participant `i`. */
export function testAddress(i: number): Address {
  const hash = Buffer.alloc(32, 0x5a);
  hash.writeUInt32BE(i, 0);
  return new Address(0, hash);
}

/** One leaf of a rewards table. */
export interface Leaf {
  address: Address;
  amount: bigint;
}

const leafValue = {
  serialize: (leaf: Leaf, builder: Builder) => {
    builder.storeAddress(leaf.address).storeCoins(leaf.amount);
  },
  parse: (slice: Slice): Leaf => ({ address: slice.loadAddress(), amount: slice.loadCoins() }),
};

/** A rewards tree built with @ton/core: root hash (uint256), total, proofs. */
export interface TestTree {
  leaves: Leaf[];
  root: bigint;
  total: bigint;
  proof(indexes: number[]): Cell;
}

/** Builds the rewards dictionary of `leaves` (key = position) exactly as the backend does. */
export function buildTestTree(leaves: Leaf[]): TestTree {
  const dict = Dictionary.empty(Dictionary.Keys.Uint(32), leafValue);
  leaves.forEach((leaf, i) => dict.set(i, leaf));
  const root = BigInt('0x' + beginCell().storeDictDirect(dict).endCell().hash().toString('hex'));
  return {
    leaves,
    root,
    total: leaves.reduce((s, l) => s + l.amount, 0n),
    proof: (indexes) => dict.generateMerkleProof(indexes),
  };
}

/** `count` leaves to test addresses (participant ids from `firstId`) of 0.001 TON + i nanoTON. */
export function makeLeaves(count: number, firstId = 1): Leaf[] {
  return Array.from({ length: count }, (_, i) => ({ address: testAddress(firstId + i), amount: 1_000_000n + BigInt(i) }));
}

export type Wallet = SandboxContract<TreasuryContract>;
