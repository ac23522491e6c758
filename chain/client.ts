/**
 * The chain as the rest of the pool sees it: read a contract's transactions, send messages from a
 * named wallet, run get-methods, read balances and account states.
 *
 * Two implementations are meant to exist: the local chain on @ton/sandbox (chain/localChain.ts,
 * used when no TON endpoint is configured) and, later, a real TON endpoint (@ton/ton TonClient plus
 * a highload wallet). Everything here is expressed in @ton/core types so that the chain indexer and
 * the sagas run unchanged on either.
 *
 * Units: amounts are nanoTON (bigint), logical time `lt` is bigint, time is unix seconds.
 */
import type { Address, Cell, StateInit, Transaction, TupleItem, TupleReader } from '@ton/core';

/** A wallet the pool controls, by role: 'operator', 'proxy-1', … (local chain: a sandbox treasury). */
export type WalletName = string;

/** One internal message a wallet sends. */
export interface OutgoingMessage {
  /** Destination account. */
  to: Address;
  /** Value attached, nanoTON (>= 0). The wallet pays forward fees on top (send mode 1). */
  value: bigint;
  /** Message body; an empty cell when absent. */
  body?: Cell;
  /** Bounce flag; default true (TON's default). Payouts to possibly uninitialised wallets set false. */
  bounce?: boolean;
  /** StateInit to deploy the destination with (its address must be derived from it). */
  init?: StateInit;
}

/** How one transaction produced by a send went (TON transaction phases, TL-B `TransactionDescr`). */
export interface SentTransaction {
  /** The account the transaction ran on. */
  address: Address;
  /** Logical time of the transaction. */
  lt: bigint;
  /** Transaction hash (the cell hash of the transaction, as `Transaction.hash()`). */
  hash: Buffer;
  /** True when the transaction was aborted (failed compute or action phase, or skipped compute). */
  aborted: boolean;
  /** True only when the compute phase ran on the TVM and succeeded (exit code 0 or 1). */
  computeSuccess: boolean;
  /** TVM exit code of the compute phase; null when the phase was skipped (e.g. no code to run). */
  exitCode: number | null;
  /** Action phase result code (0 = all actions done); null when there was no action phase. */
  actionResultCode: number | null;
}

/** What one `send` produced. */
export interface SendResult {
  /**
   * Every transaction caused by the send, in execution order: first the sending wallet's own
   * transaction, then the transactions its messages (and their messages, transitively) caused.
   */
  transactions: SentTransaction[];
}

/** Result of a get-method. */
export interface GetMethodResult {
  /** TVM exit code; 0 or 1 is success (then `stack` holds the results). */
  exitCode: number;
  /** The returned stack (empty when the method failed). */
  stack: TupleReader;
}

/**
 * Account state as on TON: 'active' has code and data, 'uninit' exists (holds a balance) without
 * code, 'frozen' was frozen for unpaid storage, 'none' has never received anything.
 */
export type AccountState = 'active' | 'uninit' | 'frozen' | 'none';

/** The chain, as producers and sagas use it. */
export interface ChainClient {
  /**
   * Transactions of one account, OLDEST FIRST, each with lt > `afterLt` (all when absent), at most
   * `limit` of them (all when absent). Each is a @ton/core `Transaction` decoded with
   * `loadTransaction` from its BoC, so `tx.hash()` gives its hash (Buffer), `tx.lt` its lt,
   * `tx.inMessage` / `tx.outMessages` its messages (external-out event messages included).
   * Only transactions whose effects are durable are returned.
   * @throws RangeError when `limit` is not a positive integer.
   */
  getTransactions(address: Address, opts: { afterLt?: bigint; limit?: number }): Promise<Transaction[]>;

  /**
   * Sends `messages` (1..255) from the named wallet in one external message, send mode 1 (the
   * wallet pays forward fees apart from the values). Resolves once every transaction the send
   * caused has run; a contract's failure does not reject, it shows in the result.
   * @throws UnknownWalletError for a name the chain has no wallet for.
   * @throws InvalidMessageError for an empty or too long list, or a negative value.
   * @throws SendRejectedError when the wallet itself did not accept the external message.
   */
  send(from: WalletName, messages: OutgoingMessage[]): Promise<SendResult>;

  /**
   * Runs get-method `name` on an active account with `args` as the input stack.
   * A TVM failure is returned as its exit code, not thrown.
   * @throws AccountNotActiveError when the account has no code.
   */
  runGetMethod(address: Address, name: string, args?: TupleItem[]): Promise<GetMethodResult>;

  /** Balance of an account in nanoTON (0 for an account that does not exist). */
  getBalance(address: Address): Promise<bigint>;

  /** State of an account, see {@link AccountState}. */
  getAccountState(address: Address): Promise<AccountState>;

  /** Current chain time, unix seconds; never decreases. */
  now(): number;

  /**
   * Address of a named wallet.
   * @throws UnknownWalletError for a name the chain has no wallet for.
   */
  walletAddress(name: WalletName): Address;
}

/** A wallet name the chain was not opened with. */
export class UnknownWalletError extends Error {
  constructor(readonly wallet: WalletName) {
    super(`unknown wallet '${wallet}'`);
    this.name = 'UnknownWalletError';
  }
}

/** A send that can never be valid (no messages, too many, negative value). */
export class InvalidMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}

/** The wallet did not accept the external message (e.g. it cannot pay for gas); nothing was sent. */
export class SendRejectedError extends Error {
  constructor(readonly wallet: WalletName, options: { cause: unknown }) {
    super(`wallet '${wallet}' rejected the external message`, options);
    this.name = 'SendRejectedError';
  }
}

/** A get-method was run on an account without code. */
export class AccountNotActiveError extends Error {
  constructor(readonly address: Address, readonly state: AccountState) {
    super(`account ${address.toString()} is ${state}, not active`);
    this.name = 'AccountNotActiveError';
  }
}

/*
 * The chain port as the real network shapes it (issue 10). The saga and the indexer are moving to
 * these two interfaces; `ChainClient` above stays until they have.
 *   - ChainReader: what is FINAL on chain (masterchain block seqno ≤ the latest final block).
 *   - ChainSender: submits signed external-in messages; a submission is only that — what happened
 *     is learnt later from final transactions through the reader.
 * Implemented by the local chain (chain/localChain.ts) and by TON Center (chain/toncenter/).
 */

/** An account as a reader sees it at the latest final block. */
export interface AccountInfo {
  state: AccountState;
  /** nanoTON */
  balance: bigint;
  /** representation hash of the code cell; null unless active */
  codeHash: Buffer | null;
  /** the account's last transaction; null when it has none */
  lastTransaction: { lt: bigint; hash: Buffer } | null;
}

/** Reads final chain state. */
export interface ChainReader {
  /**
   * Final transactions of one account, OLDEST FIRST, each with lt > `afterLt` (all when absent), at
   * most `limit` (all when absent), decoded with `loadTransaction` from their BoC. Consecutive
   * transactions link: each one's `prevTransactionLt`/`prevTransactionHash` is the one before.
   * @throws RangeError when `limit` is not a positive integer.
   * @throws ChainUnavailableError when the endpoint cannot answer now (retry later).
   */
  getTransactions(address: Address, opts: { afterLt?: bigint; limit?: number }): Promise<Transaction[]>;
  /**
   * Runs get-method `name` on an active account at the latest final block; a TVM failure is its exit code.
   * @throws AccountNotActiveError when the account has no code; ChainUnavailableError.
   */
  runGetMethod(address: Address, name: string, args?: TupleItem[]): Promise<GetMethodResult>;
  /** @throws ChainUnavailableError */
  getAccount(address: Address): Promise<AccountInfo>;
  /** Unix time (seconds) of the latest final masterchain block; never decreases. @throws ChainUnavailableError */
  chainTime(): Promise<number>;
}

/** What a submission returns: the message's identity, known before it runs. */
export interface SubmittedMessage {
  /** normalized hash of the external-in message (TEP-467): how its transaction is found later */
  normalizedHash: Buffer;
}

/** Submits signed external-in messages. */
export interface ChainSender {
  /**
   * Submits `message` (an external-in Message cell, as `beginCell().store(storeMessage(m))`).
   * Resolving means the endpoint accepted it for broadcast, not that it ran.
   * @throws SendRejectedError when the destination refused it (did not accept the external: bad
   *   signature, replayed or expired query id, no funds): it will never run.
   * @throws ChainUnavailableError on timeout, 429 or 5xx: it may or may not have been delivered.
   */
  sendMessage(message: Cell): Promise<SubmittedMessage>;
}

/** The chain endpoint could not answer now (timeout, rate limit, 5xx); retrying later may succeed. */
export class ChainUnavailableError extends Error {
  constructor(message: string, readonly code: 'timeout' | 'rate-limited' | 'server-error' | 'network', options?: { cause: unknown }) {
    super(message, options);
    this.name = 'ChainUnavailableError';
  }
}
