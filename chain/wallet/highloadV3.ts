/**
 * The official highload wallet v3 (https://github.com/ton-blockchain/highload-wallet-contract-v3,
 * code in ./highloadV3Code.ts): state init and address, its composite query_id, signing of
 * external messages, and its get-methods. Formats are from the contract's FunC source and TL-B
 * (`contracts/highload-wallet-v3.func`, `contracts/scheme.tlb`) and its TypeScript wrappers
 * (`wrappers/HighloadWalletV3.ts`, `wrappers/HighloadQueryId.ts`), commit f5d9b592.
 *
 * Everything but the get-method readers is pure (no I/O, no clock: the caller passes `createdAt`).
 *
 * Storage (TL-B): public_key:bits256 subwallet_id:uint32 old_queries:(HashmapE 13 ^Cell)
 *   queries:(HashmapE 13 ^Cell) last_clean_time:uint64 timeout:uint22.
 * External body: signature:bits512 ^MsgInner, the signature being Ed25519 over the hash of
 *   MsgInner = subwallet_id:uint32 message_to_send:^Cell send_mode:uint8 query_id:(shift:uint13
 *   bit_number:uint10) created_at:uint64 timeout:uint22.
 *
 * Acceptance (recv_external, in this order; a failed check throws before accept_message, so the
 * external message is not accepted and no transaction exists for it):
 *   33 bad signature; 34 subwallet_id differs; 38 timeout differs from the stored one;
 *   35 unless `now - timeout < created_at <= now` (`now`: unix time of the block that would include it);
 *   36 query_id already processed (in `queries` or `old_queries`).
 * So a message signed with `createdAt` is accepted only while `createdAt <= now < createdAt + timeout`:
 * it is refused at every `now >= expiresAt = createdAt + timeout` and at every `now < createdAt`.
 * A processed query_id is remembered for at least `timeout` seconds after its transaction (the
 * contract rotates `queries` → `old_queries` → dropped, each step at most once per `timeout`), so
 * within its validity window a message can never run twice.
 *
 * Once accepted, the contract commits its state (query_id marked) and only then checks
 * `message_to_send`: it must be an internal message with src addr_none and WITHOUT StateInit
 * (else exit 37 after commit: the query_id is spent, nothing is sent). It sends it with
 * `send_mode | 2` (IGNORE_ERRORS): an action-phase failure (e.g. balance too low) spends the
 * query_id and sends nothing.
 */
import {
  Address,
  beginCell,
  Cell,
  contractAddress,
  internal,
  SendMode,
  storeMessage,
  storeMessageRelaxed,
  storeOutList,
  toNano,
  type OutActionSendMsg,
  type StateInit,
} from '@ton/core';
import { sign } from '@ton/crypto';
import { InvalidMessageError, type ChainReader, type OutgoingMessage } from '../client.ts';
import { normalizedMessageHash } from '../messageHash.ts';
import { highloadV3Code } from './highloadV3Code.ts';

/** subwallet_id the contract's README recommends (distinct from regular and vesting wallets). */
export const HIGHLOAD_V3_DEFAULT_SUBWALLET_ID = 0x10ad;

/** Largest `timeout` the storage holds (uint22), seconds (~48.5 days). */
export const HIGHLOAD_V3_MAX_TIMEOUT = 2 ** 22 - 1;

/** Most messages one `signTransfer` carries: the official wrapper's limit for one internal_transfer action list. */
export const HIGHLOAD_V3_MAX_MESSAGES = 254;

/** op of the internal_transfer self-message (crc32 of its TL-B, scheme.tlb). */
export const OP_INTERNAL_TRANSFER = 0xae42e5a4;

/**
 * nanoTON the wallet sends to itself with the internal_transfer (0.05 TON). The wallet's
 * recv_internal does not accept_message, so the gas of the internal transaction is limited by
 * this value (value / gas price). That transaction uses 1,756 gas whatever the list length
 * (@ton/sandbox, bench/contracts.bench.ts), 0.7 mTON at the bundled basechain price: 0.05 TON
 * leaves a wide margin for price changes. The value is not spent, it comes back to the same
 * balance; the transfers' values and forward fees are paid from the whole balance by the internal
 * transaction's action phase. The external transaction must be able to pay it (plus its forward
 * fee) from the balance, else (IGNORE_ERRORS) the query_id is spent and nothing is sent.
 */
export const INTERNAL_TRANSFER_VALUE = toNano('0.05');

/** A highload v3 wallet's identity: what its address is derived from. */
export interface HighloadV3Config {
  /** Ed25519 public key, 32 bytes. */
  publicKey: Buffer;
  /** uint32; see {@link HIGHLOAD_V3_DEFAULT_SUBWALLET_ID}. */
  subwalletId: number;
  /** Seconds a signed message stays valid, 1 ..= {@link HIGHLOAD_V3_MAX_TIMEOUT} (README: 1 h to 24 h recommended). */
  timeout: number;
}

/** An argument outside what the contract can store or would ever accept. */
export class HighloadV3ArgumentError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'HighloadV3ArgumentError';
  }
}

function checkConfig(c: HighloadV3Config): void {
  if (c.publicKey.length !== 32) throw new HighloadV3ArgumentError(`publicKey must be 32 bytes, got ${c.publicKey.length}`);
  if (!Number.isInteger(c.subwalletId) || c.subwalletId < 0 || c.subwalletId > 0xffffffff) throw new HighloadV3ArgumentError(`subwalletId must be a uint32, got ${c.subwalletId}`);
  if (!Number.isInteger(c.timeout) || c.timeout < 1 || c.timeout > HIGHLOAD_V3_MAX_TIMEOUT) throw new HighloadV3ArgumentError(`timeout must be an integer in 1..${HIGHLOAD_V3_MAX_TIMEOUT} seconds, got ${c.timeout}`);
}

/**
 * StateInit of a fresh wallet: the code of ./highloadV3Code.ts and data
 * (public_key, subwallet_id, empty old_queries and queries, last_clean_time 0, timeout).
 * @throws HighloadV3ArgumentError for a key that is not 32 bytes, a subwallet_id not uint32, a timeout out of range.
 */
export function highloadV3StateInit(config: HighloadV3Config): StateInit {
  checkConfig(config);
  const data = beginCell()
    .storeBuffer(config.publicKey)
    .storeUint(config.subwalletId, 32)
    .storeBit(false) // old_queries: empty
    .storeBit(false) // queries: empty
    .storeUint(0, 64) // last_clean_time
    .storeUint(config.timeout, 22)
    .endCell();
  return { code: highloadV3Code, data };
}

/**
 * Address of the wallet `config` describes (workchain 0 unless given).
 * @throws HighloadV3ArgumentError as {@link highloadV3StateInit}.
 */
export function highloadV3Address(config: HighloadV3Config, workchain = 0): Address {
  return contractAddress(workchain, highloadV3StateInit(config));
}

const SHIFT_MAX = 8191; // uint13
const BIT_NUMBER_MAX = 1022; // a query cell holds bits 0..1022 (1023 bits)

/**
 * A highload v3 query_id: `shift` (uint13, 0..8191, the dictionary key) and `bitNumber`
 * (0..1022, the bit in that key's 1023-bit cell); as one number `shift << 10 | bitNumber`
 * (23 bits, 0..8389630, not every value in range is valid). There are 8192 × 1023 = 8,380,416
 * ids; `sequence` numbers them 0.. in `next()` order (shift-major).
 * As wrappers/HighloadQueryId.ts: `next()` never returns the very last id (8191, 1022), which
 * stays free for an emergency send.
 */
export class HighloadQueryId {
  private constructor(readonly shift: number, readonly bitNumber: number) {}

  /** @throws HighloadV3ArgumentError unless 0 <= shift <= 8191 and 0 <= bitNumber <= 1022 (integers). */
  static of(shift: number, bitNumber: number): HighloadQueryId {
    if (!Number.isInteger(shift) || shift < 0 || shift > SHIFT_MAX) throw new HighloadV3ArgumentError(`query_id shift must be an integer in 0..${SHIFT_MAX}, got ${shift}`);
    if (!Number.isInteger(bitNumber) || bitNumber < 0 || bitNumber > BIT_NUMBER_MAX) throw new HighloadV3ArgumentError(`query_id bit_number must be an integer in 0..${BIT_NUMBER_MAX}, got ${bitNumber}`);
    return new HighloadQueryId(shift, bitNumber);
  }

  /** The first id, (0, 0). */
  static first(): HighloadQueryId {
    return new HighloadQueryId(0, 0);
  }

  /** From the 23-bit number (`shift << 10 | bitNumber`). @throws HighloadV3ArgumentError when out of range or bitNumber = 1023. */
  static fromBigInt(value: bigint): HighloadQueryId {
    if (value < 0n || value >= 1n << 23n) throw new HighloadV3ArgumentError(`query_id must be in 0..2^23-1, got ${value}`);
    return HighloadQueryId.of(Number(value >> 10n), Number(value & 1023n));
  }

  /** From its position in `next()` order (shift × 1023 + bitNumber). @throws HighloadV3ArgumentError when out of 0..8380415. */
  static fromSequence(n: number): HighloadQueryId {
    if (!Number.isInteger(n) || n < 0 || n > SHIFT_MAX * 1023 + BIT_NUMBER_MAX) throw new HighloadV3ArgumentError(`query_id sequence must be an integer in 0..${SHIFT_MAX * 1023 + BIT_NUMBER_MAX}, got ${n}`);
    return new HighloadQueryId(Math.floor(n / 1023), n % 1023);
  }

  /** The 23-bit number the contract's MsgInner and `processed?` take. */
  toBigInt(): bigint {
    return (BigInt(this.shift) << 10n) | BigInt(this.bitNumber);
  }

  /** Position in `next()` order. */
  toSequence(): number {
    return this.shift * 1023 + this.bitNumber;
  }

  /** True unless this is the last id `next()` gives, (8191, 1021). */
  hasNext(): boolean {
    return !(this.shift === SHIFT_MAX && this.bitNumber >= BIT_NUMBER_MAX - 1);
  }

  /**
   * The following id: bitNumber + 1, or (shift + 1, 0) after 1022.
   * @throws HighloadV3ArgumentError when {@link hasNext} is false (all ids of the window are used).
   */
  next(): HighloadQueryId {
    if (!this.hasNext()) throw new HighloadV3ArgumentError('query_id space exhausted (the last id is kept for emergencies)');
    return this.bitNumber === BIT_NUMBER_MAX ? new HighloadQueryId(this.shift + 1, 0) : new HighloadQueryId(this.shift, this.bitNumber + 1);
  }

  equals(other: HighloadQueryId): boolean {
    return this.shift === other.shift && this.bitNumber === other.bitNumber;
  }

  toString(): string {
    return `${this.shift}:${this.bitNumber}`;
  }
}

/** What {@link signTransfer} signs. */
export interface SignTransferArgs {
  /** Ed25519 secret key, 64 bytes (@ton/crypto `KeyPair.secretKey`: seed ‖ public key). */
  secretKey: Buffer;
  /** When given, must be the public half of `secretKey` (a guard against signing with the wrong key). */
  publicKey?: Buffer;
  /** The wallet (its address is the destination of the external message and of the self-message). */
  walletAddress: Address;
  /** subwallet_id and timeout (seconds) stored in the wallet: both are checked by the contract. */
  subwalletId: number;
  timeout: number;
  queryId: HighloadQueryId;
  /** Unix seconds; must be <= the chain time of the block that includes it (take the chain's time, not the local clock). */
  createdAt: number;
  /** 1..254 internal messages, sent in this order. */
  messages: OutgoingMessage[];
  /** StateInit to deploy the wallet with (first message to a funded uninit address); must derive `walletAddress`. */
  init?: StateInit;
}

/** A signed external message and what identifies it on chain. */
export interface SignedTransfer {
  /** The external-in Message cell, as chain/client.ts `ChainSender.sendMessage` takes it. */
  message: Cell;
  /** TEP-467 normalized hash of `message` (chain/messageHash.ts): the wallet transaction's in-message has it. */
  normalizedHash: Buffer;
  queryId: HighloadQueryId;
  /** Unix seconds, as signed. */
  createdAt: number;
  /** Unix seconds, createdAt + timeout: the first chain time at which the wallet refuses the message. */
  expiresAt: number;
}

/** The internal_transfer body: op, query_id:uint64 (the 23-bit id, as the official wrapper), ^OutList. */
function internalTransferBody(actions: OutActionSendMsg[], queryId: HighloadQueryId): Cell {
  return beginCell()
    .storeUint(OP_INTERNAL_TRANSFER, 32)
    .storeUint(queryId.toBigInt(), 64)
    .storeRef(beginCell().store(storeOutList(actions)).endCell())
    .endCell();
}

/**
 * Signs one external message that makes the wallet send `messages`.
 *
 * Layout (always the official wrapper's `sendBatch` path): message_to_send is an internal_transfer
 * to the wallet itself carrying {@link INTERNAL_TRANSFER_VALUE}, send mode 1 (PAY_GAS_SEPARATELY,
 * the contract adds IGNORE_ERRORS), bounceable. Its body holds the out-action list: one
 * `send_msg` per message, in order, send mode 1 (the wallet pays forward fees apart from the
 * values), WITHOUT IGNORE_ERRORS, so the list is all-or-nothing: if one message cannot be sent
 * (balance too low, bad message) the internal transaction's action phase fails (its result code,
 * e.g. 37 not enough funds; no bounce) and none is sent, the balance staying. So every send is two wallet
 * transactions: the external one (spends the query_id, sends the self-message) and the internal
 * one (sends the messages). A message with a StateInit is fine in the list (the contract refuses
 * one only as message_to_send).
 *
 * @throws InvalidMessageError (chain/client.ts) for 0 or more than 254 messages or a negative value.
 * @throws HighloadV3ArgumentError for a secret key that is not 64 bytes or does not match
 *   `publicKey`, subwalletId/timeout out of range, createdAt not a non-negative integer, an
 *   `init` whose address is not `walletAddress`.
 */
export function signTransfer(args: SignTransferArgs): SignedTransfer {
  const { secretKey, walletAddress, subwalletId, timeout, queryId, createdAt, messages, init } = args;
  if (secretKey.length !== 64) throw new HighloadV3ArgumentError(`secretKey must be 64 bytes (seed + public key), got ${secretKey.length}`);
  if (args.publicKey && !secretKey.subarray(32).equals(args.publicKey)) throw new HighloadV3ArgumentError('secretKey does not belong to publicKey');
  checkConfig({ publicKey: secretKey.subarray(32), subwalletId, timeout });
  if (!Number.isSafeInteger(createdAt) || createdAt < 0) throw new HighloadV3ArgumentError(`createdAt must be a non-negative integer (unix seconds), got ${createdAt}`);
  if (messages.length === 0) throw new InvalidMessageError('a transfer needs at least one message');
  if (messages.length > HIGHLOAD_V3_MAX_MESSAGES) throw new InvalidMessageError(`a highload v3 transfer carries at most ${HIGHLOAD_V3_MAX_MESSAGES} messages, got ${messages.length}`);
  for (const m of messages) if (m.value < 0n) throw new InvalidMessageError(`negative value ${m.value} to ${m.to.toString()}`);
  if (init && !contractAddress(walletAddress.workChain, init).equals(walletAddress)) throw new HighloadV3ArgumentError('init does not derive walletAddress');

  const actions: OutActionSendMsg[] = messages.map((m) => ({
    type: 'sendMsg',
    mode: SendMode.PAY_GAS_SEPARATELY,
    outMsg: internal({ to: m.to, value: m.value, bounce: m.bounce ?? true, body: m.body ?? Cell.EMPTY, init: m.init ?? null }),
  }));
  const selfMessage = beginCell()
    .store(storeMessageRelaxed(internal({ to: walletAddress, value: INTERNAL_TRANSFER_VALUE, bounce: true, body: internalTransferBody(actions, queryId) })))
    .endCell();
  const inner = beginCell()
    .storeUint(subwalletId, 32)
    .storeRef(selfMessage)
    .storeUint(SendMode.PAY_GAS_SEPARATELY, 8)
    .storeUint(queryId.toBigInt(), 23)
    .storeUint(createdAt, 64)
    .storeUint(timeout, 22)
    .endCell();
  const body = beginCell().storeBuffer(sign(inner.hash(), secretKey)).storeRef(inner).endCell();
  const message = beginCell()
    .store(storeMessage({ info: { type: 'external-in', dest: walletAddress, importFee: 0n }, init: init ?? null, body }))
    .endCell();
  return { message, normalizedHash: normalizedMessageHash(message), queryId, createdAt, expiresAt: createdAt + timeout };
}

/** A highload v3 get-method ended with a TVM exit code other than 0/1. */
export class HighloadGetMethodError extends Error {
  constructor(readonly method: string, readonly exitCode: number) {
    super(`highload v3 get-method ${method} failed with exit code ${exitCode}`);
    this.name = 'HighloadGetMethodError';
  }
}

async function getInt(reader: ChainReader, wallet: Address, method: string, args: { type: 'int'; value: bigint }[] = []): Promise<bigint> {
  const r = await reader.runGetMethod(wallet, method, args);
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new HighloadGetMethodError(method, r.exitCode);
  return r.stack.readBigNumber();
}

/*
 * Get-methods over a ChainReader (the latest final state). Each throws what the reader throws
 * (AccountNotActiveError for an account without code, ChainUnavailableError) and
 * HighloadGetMethodError for a failed run.
 */

/** get_public_key: the wallet's Ed25519 public key, 32 bytes. */
export async function getHighloadPublicKey(reader: ChainReader, wallet: Address): Promise<Buffer> {
  return Buffer.from((await getInt(reader, wallet, 'get_public_key')).toString(16).padStart(64, '0'), 'hex');
}

/** get_subwallet_id: the stored subwallet_id (uint32). */
export async function getHighloadSubwalletId(reader: ChainReader, wallet: Address): Promise<number> {
  return Number(await getInt(reader, wallet, 'get_subwallet_id'));
}

/** get_timeout: the stored timeout, seconds. */
export async function getHighloadTimeout(reader: ChainReader, wallet: Address): Promise<number> {
  return Number(await getInt(reader, wallet, 'get_timeout'));
}

/** get_last_clean_time: unix seconds of the last rotation of the query dictionaries (0 before the first). */
export async function getHighloadLastCleanTime(reader: ChainReader, wallet: Address): Promise<number> {
  return Number(await getInt(reader, wallet, 'get_last_clean_time'));
}

/**
 * processed?(query_id, need_clean): whether the wallet remembers `queryId` as processed. With
 * `needClean` (default true, as the official wrapper) it first applies the rotation the next
 * external message would apply at the get-method's `now`, i.e. it answers "would this query_id be
 * refused as already executed now". A query_id is remembered at least `timeout` seconds after its
 * transaction, not forever: to prove a message did not land, look for its normalized hash in the
 * wallet's transactions too.
 */
export async function isHighloadProcessed(reader: ChainReader, wallet: Address, queryId: HighloadQueryId, needClean = true): Promise<boolean> {
  return (await getInt(reader, wallet, 'processed?', [{ type: 'int', value: queryId.toBigInt() }, { type: 'int', value: needClean ? -1n : 0n }])) !== 0n;
}
