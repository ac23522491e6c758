/**
 * The local chain: a {@link ChainClient} on @ton/sandbox (the real TVM and transaction executor)
 * that survives restarts and `kill -9`. Used when no TON endpoint is configured.
 *
 * - Named wallets are sandbox treasuries: the address is derived from the name (seed), the initial
 *   balance is minted once when the wallet is first created in the directory.
 * - Every transaction the sandbox executes (all accounts) is recorded: raw BoC, hash, lt, account,
 *   now. `getTransactions` serves from that record.
 * - After every send its transactions and the accounts they changed are appended to the log as
 *   one group and fdatasynced; the whole state is snapshotted only now and then (chain/store.ts
 *   describes the files and the crash argument).
 * - Sends run one at a time; chain time follows the wall clock (or {@link LocalChain.setNow}).
 */
import {
  Address,
  Cell,
  SendMode,
  TupleReader,
  contractAddress,
  internal,
  loadMessage,
  loadTransaction,
  type Message,
  type StateInit,
  type Transaction,
  type TupleItem,
} from '@ton/core';
import {
  Blockchain,
  Executor,
  GetMethodError,
  LocalBlockchainStorage,
  snapshotFromSerializable,
  snapshotToSerializable,
  type BlockchainSnapshot,
  type BlockchainTransaction,
  type SandboxContract,
  type TreasuryContract,
} from '@ton/sandbox';
import {
  AccountNotActiveError,
  InvalidMessageError,
  type AccountInfo,
  type ChainReader,
  type ChainSender,
  type SubmittedMessage,
  SendRejectedError,
  UnknownWalletError,
  type AccountState,
  type ChainClient,
  type GetMethodResult,
  type OutgoingMessage,
  type SendResult,
  type SentTransaction,
  type WalletName,
} from './client.ts';
import { normalizedMessageHash } from './messageHash.ts';
import { ChainStore, ChainStoreError, openChainStore, type TxRecord } from './store.ts';

/** Balance minted for a wallet when it is first created: 1,000,000 TON in nanoTON (sandbox default). */
export const DEFAULT_WALLET_BALANCE = 1_000_000_000_000_000n;

/** The treasury {@link LocalChain.mint} transfers from; created with the chain, never listed by the pool. */
const FAUCET_WALLET = 'faucet';

/** A wallet can send at most this many messages at once (sandbox treasury, like a highload wallet). */
const MAX_MESSAGES = 255;

/** Sandbox logging off: the pool's logs are its own. */
const QUIET = { print: false, blockchainLogs: false, vmLogs: 'none', debugLogs: false } as const;

type SerializedSandbox = ReturnType<typeof snapshotToSerializable>;
type SerializedAccount = SerializedSandbox['contracts'][number];

/**
 * What chain.json's `state` holds: the sandbox snapshot without config and transactions. A commit
 * line in the log (chain/store.ts) has the same shape with only the accounts that changed.
 */
interface PersistedState {
  wallets: WalletName[];
  sandbox: Omit<SerializedSandbox, 'networkConfig' | 'transactions'>;
}

/** `state` with each commit applied in order: its wallets and globals replace, its accounts overwrite by address. */
function applyCommits(state: PersistedState, commits: readonly PersistedState[]): PersistedState {
  if (!commits.length) return state;
  const accounts = new Map(state.sandbox.contracts.map((c) => [c.address, c]));
  let last = state;
  for (const commit of commits) {
    for (const c of commit.sandbox.contracts) accounts.set(c.address, c);
    last = commit;
  }
  return { wallets: last.wallets, sandbox: { ...last.sandbox, contracts: [...accounts.values()] } };
}

/** Options of {@link openLocalChain}. */
export interface LocalChainOptions {
  /** Directory of the chain's files (created if missing), e.g. `./var/chain`. */
  dir: string;
  /** Wallets to have; those missing in `dir` are created (wallets created earlier are kept). */
  wallets?: readonly WalletName[];
  /** nanoTON minted to each wallet created now; default {@link DEFAULT_WALLET_BALANCE}. */
  walletBalance?: bigint;
}

/** `setNow` asked for a time before the chain's latest transaction. */
export class ChainTimeError extends Error {
  constructor(readonly requested: number, readonly latest: number) {
    super(`chain time cannot go back: ${requested} < ${latest}`);
    this.name = 'ChainTimeError';
  }
}

/**
 * The deploy message did not run successfully on the new account (no transaction there, or its
 * compute or action phase failed). The executor installs the StateInit even when the compute phase
 * fails, so the account may be active anyway; `result` holds the exit codes.
 */
export class DeployError extends Error {
  constructor(readonly address: Address, readonly result: SendResult) {
    const tx = result.transactions.find((t) => t.address.equals(address));
    super(
      `deploy of ${address.toString()} failed: ` +
        (tx ? `exit code ${tx.exitCode}, action result ${tx.actionResultCode}` : 'no transaction on the account'),
    );
    this.name = 'DeployError';
  }
}

/** Sandbox whose executed transactions can be taken out (the list would otherwise grow forever). */
class RecordingBlockchain extends Blockchain {
  static async createQuiet(): Promise<RecordingBlockchain> {
    const chain = new RecordingBlockchain({ executor: await Executor.create(), storage: new LocalBlockchainStorage() });
    chain.verbosity = { ...QUIET };
    return chain;
  }

  /** Every transaction executed since the last call, in execution order. */
  takeTransactions(): BlockchainTransaction[] {
    const taken = this.transactions;
    this.transactions = [];
    return taken;
  }

  /**
   * What `snapshot()` holds, minus the accounts and transactions: `snapshot()` copies every
   * account, which made each send cost O(accounts); the accounts are serialised apart, when they
   * change.
   */
  snapshotWithoutAccounts(): BlockchainSnapshot {
    return {
      contracts: [],
      networkConfig: this.networkConfig,
      lt: this.currentLt,
      time: this.currentTime,
      verbosity: { ...this.logsVerbosity },
      libs: this.globalLibs,
      nextCreateWalletIndex: this.nextCreateWalletIndex,
      prevBlocksInfo: this.prevBlocksInfo,
      randomSeed: this.randomSeed,
      autoDeployLibs: this.autoDeployLibs,
      transactions: [],
    };
  }
}

/** A transaction in the in-memory history; decoded on first read. */
interface HistoryEntry {
  lt: bigint;
  boc: Buffer;
  decoded?: Transaction;
}

/**
 * Opens the local chain stored in `opts.dir`, creating it (and the wallets) when new.
 * Reopening gives the same balances, contract states and history; lt continues to increase.
 * @throws ChainStoreError when the directory's files are inconsistent or unreadable.
 */
export async function openLocalChain(opts: LocalChainOptions): Promise<LocalChain> {
  const { store, state, commits, records, legacySnapshot } = await openChainStore(opts.dir);
  try {
    const sandbox = await RecordingBlockchain.createQuiet();
    let wallets: WalletName[] = [];
    let accounts: SerializedAccount[] = [];
    if (state === undefined && !commits.length) {
      await store.writeConfig(Buffer.from(sandbox.configBase64, 'base64'));
    } else {
      const committed = commits.map(parseState);
      const persisted = applyCommits(state === undefined ? committed[0]! : parseState(state), committed);
      if (legacySnapshot) await store.writeSnapshot(persisted); // format 1 → 2 before anything is appended
      const networkConfig = (await store.readConfig()).toString('base64');
      await sandbox.loadFrom(snapshotFromSerializable({ ...persisted.sandbox, networkConfig, transactions: [] }));
      sandbox.verbosity = { ...QUIET };
      wallets = persisted.wallets;
      accounts = persisted.sandbox.contracts;
    }
    const chain = new LocalChain(store, sandbox, records, accounts);
    await chain.addWallets([...wallets, ...(opts.wallets ?? [])], opts.walletBalance ?? DEFAULT_WALLET_BALANCE);
    return chain;
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** The local chain; see the module comment. Create with {@link openLocalChain}. */
export class LocalChain implements ChainClient, ChainReader, ChainSender {
  private readonly wallets = new Map<WalletName, SandboxContract<TreasuryContract>>();
  /** Per account (raw address), transactions in lt order; only durable ones. */
  private readonly history = new Map<string, HistoryEntry[]>();
  /** Per account (raw address), its state as last persisted. */
  private readonly accounts = new Map<string, SerializedAccount>();
  /** Tail of the one-at-a-time queue of sends. */
  private queue: Promise<void> = Promise.resolve();
  private nowOverride: number | undefined;
  /** Set when a write failed or the chain was closed: memory may be ahead of disk, stop. */
  private unusable: Error | undefined;
  private closed = false;

  /** Use {@link openLocalChain}. */
  constructor(
    private readonly store: ChainStore,
    private readonly sandbox: RecordingBlockchain,
    records: readonly TxRecord[],
    accounts: readonly SerializedAccount[],
  ) {
    for (const r of records) this.remember(r);
    for (const a of accounts) this.accounts.set(Address.parse(a.address).toRawString(), a);
  }

  /** See {@link ChainClient.getTransactions}. */
  async getTransactions(address: Address, opts: { afterLt?: bigint; limit?: number }): Promise<Transaction[]> {
    const { afterLt, limit } = opts;
    if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) {
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    }
    const entries = this.history.get(address.toRawString()) ?? [];
    const start = afterLt === undefined ? 0 : firstAfter(entries, afterLt);
    const end = limit === undefined ? entries.length : Math.min(entries.length, start + limit);
    return entries.slice(start, end).map((e) => (e.decoded ??= loadTransaction(Cell.fromBoc(e.boc)[0]!.beginParse())));
  }

  /** See {@link ChainClient.send}. Also throws ChainStoreError when persisting fails (reopen then). */
  async send(from: WalletName, messages: OutgoingMessage[]): Promise<SendResult> {
    const wallet = this.wallet(from);
    if (messages.length === 0 || messages.length > MAX_MESSAGES) {
      throw new InvalidMessageError(`a send carries 1..${MAX_MESSAGES} messages, got ${messages.length}`);
    }
    for (const m of messages) {
      if (m.value < 0n) throw new InvalidMessageError(`negative value ${m.value} to ${m.to.toString()}`);
    }
    const relaxed = messages.map((m) => internal({ to: m.to, value: m.value, body: m.body, bounce: m.bounce, init: m.init }));
    return this.exclusive(async () => {
      this.sandbox.now = this.now();
      let result;
      try {
        result = await wallet.sendMessages(relaxed, SendMode.PAY_GAS_SEPARATELY);
      } catch (error) {
        throw new SendRejectedError(from, { cause: error });
      } finally {
        await this.persist();
      }
      return { transactions: result.transactions.map(describe) };
    });
  }

  /**
   * Runs several wallets' sends (each as {@link send}: 1..255 messages from one named wallet) one
   * after the other in one turn of the queue, and persists them as one group: one log append and
   * fdatasync for the batch instead of one per send (e.g. many participants registering at once).
   * A rejected send stops the batch; the sends before it stay done and durable.
   * @returns each send's result, in order.
   * @throws what {@link send} throws (InvalidMessageError before anything runs, for any send of the batch).
   */
  async sendEach(sends: readonly { from: WalletName; messages: OutgoingMessage[] }[]): Promise<SendResult[]> {
    const prepared = sends.map(({ from, messages }) => {
      const wallet = this.wallet(from);
      if (messages.length === 0 || messages.length > MAX_MESSAGES) {
        throw new InvalidMessageError(`a send carries 1..${MAX_MESSAGES} messages, got ${messages.length}`);
      }
      for (const m of messages) {
        if (m.value < 0n) throw new InvalidMessageError(`negative value ${m.value} to ${m.to.toString()}`);
      }
      return { from, wallet, relaxed: messages.map((m) => internal({ to: m.to, value: m.value, body: m.body, bounce: m.bounce, init: m.init })) };
    });
    return this.exclusive(async () => {
      this.sandbox.now = this.now();
      const results: SendResult[] = [];
      try {
        for (const { from, wallet, relaxed } of prepared) {
          let result;
          try {
            result = await wallet.sendMessages(relaxed, SendMode.PAY_GAS_SEPARATELY);
          } catch (error) {
            throw new SendRejectedError(from, { cause: error });
          }
          results.push({ transactions: result.transactions.map(describe) });
        }
      } finally {
        await this.persist();
      }
      return results;
    });
  }

  /**
   * See {@link ChainSender.sendMessage}. Runs the external-in message `message` and everything it
   * causes, then persists, so it resolves after the transactions are durable and visible to
   * {@link getTransactions} (on the local chain every transaction is final at once).
   * @returns the message's normalized hash (TEP-467).
   * @throws InvalidMessageError when `message` is not an external-in Message cell.
   * @throws SendRejectedError when the destination did not accept it (nothing ran).
   * @throws ChainStoreError when persisting fails (reopen then).
   */
  async sendMessage(message: Cell): Promise<SubmittedMessage> {
    let parsed: Message;
    try {
      parsed = loadMessage(message.beginParse());
    } catch (error) {
      throw new InvalidMessageError(`not a message cell: ${(error as Error).message}`);
    }
    if (parsed.info.type !== 'external-in') throw new InvalidMessageError(`an external-in message is needed, got ${parsed.info.type}`);
    const dest = parsed.info.dest;
    const normalizedHash = normalizedMessageHash(parsed);
    return this.exclusive(async () => {
      this.sandbox.now = this.now();
      try {
        await this.sandbox.sendMessage(parsed);
      } catch (error) {
        throw new SendRejectedError(dest.toRawString(), { cause: error });
      } finally {
        await this.persist();
      }
      return { normalizedHash };
    });
  }

  /**
   * Transfers `nanoton` from the chain's faucet to `address` (non-bounceable, so an uninitialised
   * address keeps it), as funding a wallet from an exchange would: the account sees an ordinary
   * incoming transaction. For the local chain and the devnet endpoint only.
   * @throws InvalidMessageError for a non-positive amount; the errors of {@link send}.
   */
  async mint(address: Address, nanoton: bigint): Promise<void> {
    if (nanoton <= 0n) throw new InvalidMessageError(`mint needs a positive amount, got ${nanoton}`);
    if (!this.wallets.has(FAUCET_WALLET)) await this.addWallets([FAUCET_WALLET], DEFAULT_WALLET_BALANCE * 1000n);
    await this.send(FAUCET_WALLET, [{ to: address, value: nanoton, bounce: false }]);
  }

  /** See {@link ChainReader.getAccount}: the state as of the last durable transaction. */
  async getAccount(address: Address): Promise<AccountInfo> {
    const contract = await this.sandbox.getContract(address);
    const state = await this.getAccountState(address);
    const account = contract.accountState;
    const codeHash = state === 'active' && account?.type === 'active' && account.state.code ? account.state.code.hash() : null;
    const lt = contract.lastTransactionLt;
    const lastTransaction = lt === 0n ? null : { lt, hash: Buffer.from(contract.lastTransactionHash.toString(16).padStart(64, '0'), 'hex') };
    return { state, balance: contract.balance, codeHash, lastTransaction };
  }

  /**
   * Code and data cells of an active account; null for any other state. For the devnet endpoint
   * (TON Center's `getAddressInformation` returns them).
   */
  async getAccountCells(address: Address): Promise<{ code: Cell; data: Cell } | null> {
    const account = (await this.sandbox.getContract(address)).accountState;
    if (account?.type !== 'active' || !account.state.code || !account.state.data) return null;
    return { code: account.state.code, data: account.state.data };
  }

  /** See {@link ChainReader.chainTime}: {@link now}. */
  async chainTime(): Promise<number> {
    return this.now();
  }

  /**
   * Deploys a contract with `init` from wallet `from`, attaching `value` nanoTON and `body` (empty
   * when absent) in a bounceable message. The address is `contractAddress(0, init)`. When the
   * account is already active nothing is sent (so it is safe to call on every start).
   * @returns the address, and the send's result when a message was sent.
   * @throws DeployError when the deploy transaction on the new account failed.
   * @throws the errors of {@link send}.
   */
  async deploy(
    from: WalletName,
    init: { code: Cell; data: Cell },
    value: bigint,
    body?: Cell,
  ): Promise<{ address: Address; result?: SendResult }> {
    const stateInit: StateInit = { code: init.code, data: init.data };
    const address = contractAddress(0, stateInit);
    if ((await this.getAccountState(address)) === 'active') return { address };
    const result = await this.send(from, [{ to: address, value, body, bounce: true, init: stateInit }]);
    const tx = result.transactions.find((t) => t.address.equals(address));
    if (tx === undefined || tx.aborted || !tx.computeSuccess) throw new DeployError(address, result);
    return { address, result };
  }

  /** See {@link ChainClient.runGetMethod}. Runs at {@link now}. */
  async runGetMethod(address: Address, name: string, args: TupleItem[] = []): Promise<GetMethodResult> {
    const state = await this.getAccountState(address);
    if (state !== 'active') throw new AccountNotActiveError(address, state);
    try {
      const r = await this.sandbox.runGetMethod(address, name, args, { now: this.now() });
      return { exitCode: r.exitCode, stack: r.stackReader };
    } catch (error) {
      if (error instanceof GetMethodError) return { exitCode: error.exitCode, stack: new TupleReader([]) };
      throw error;
    }
  }

  /** See {@link ChainClient.getBalance}. */
  async getBalance(address: Address): Promise<bigint> {
    return (await this.sandbox.getContract(address)).balance;
  }

  /** See {@link ChainClient.getAccountState}. */
  async getAccountState(address: Address): Promise<AccountState> {
    const contract = await this.sandbox.getContract(address);
    const state = contract.accountState;
    if (state === undefined) return 'none';
    if (state.type !== 'uninit') return state.type;
    return contract.lastTransactionLt === 0n && contract.balance === 0n ? 'none' : 'uninit';
  }

  /**
   * See {@link ChainClient.now}: the value set by {@link setNow}, else the wall clock, never less
   * than the time of the chain's latest send.
   */
  now(): number {
    return this.nowOverride ?? Math.max(Math.floor(Date.now() / 1000), this.sandbox.now ?? 0);
  }

  /**
   * Fixes chain time at `seconds` (tests); `undefined` returns to the wall clock.
   * @throws ChainTimeError when `seconds` is before the chain's latest send.
   * @throws RangeError when `seconds` is not a non-negative integer.
   */
  setNow(seconds: number | undefined): void {
    if (seconds !== undefined) {
      if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError(`bad unix time ${seconds}`);
      const latest = this.sandbox.now ?? 0;
      if (seconds < latest) throw new ChainTimeError(seconds, latest);
    }
    this.nowOverride = seconds;
  }

  /** See {@link ChainClient.walletAddress}. */
  walletAddress(name: WalletName): Address {
    return this.wallet(name).address;
  }

  /**
   * Waits for the sends already queued, then closes the files; later sends fail with
   * ChainStoreError. Also to be called after a persist failure, before reopening.
   */
  async close(): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.closed) return;
      this.closed = true;
      this.unusable ??= new ChainStoreError('the local chain is closed');
      await this.store.close();
    });
    this.queue = run.catch(() => undefined);
    await run;
  }

  /**
   * Creates the named wallets that do not exist yet (a treasury deployed, then `balance` minted),
   * then persists. Existing ones are reopened as they are: `resetBalanceIfZero: false` keeps a
   * wallet that spent everything at 0, and an active treasury is never redeployed.
   */
  async addWallets(names: readonly WalletName[], balance: bigint): Promise<void> {
    await this.exclusive(async () => {
      this.sandbox.now = this.now();
      try {
        for (const name of names) {
          if (name.length === 0) throw new InvalidMessageError('a wallet name cannot be empty');
          if (this.wallets.has(name)) continue;
          this.wallets.set(name, await this.sandbox.treasury(name, { balance, resetBalanceIfZero: false }));
        }
      } finally {
        await this.persist();
      }
    });
  }

  private wallet(name: WalletName): SandboxContract<TreasuryContract> {
    const wallet = this.wallets.get(name);
    if (wallet === undefined) throw new UnknownWalletError(name);
    return wallet;
  }

  /** Runs `fn` after every earlier exclusive call has finished (sends never interleave). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.unusable) throw this.unusable;
      return fn();
    });
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Appends the transactions executed since the last call and the accounts they changed to the log
   * as one group (fdatasync); only then they become visible in `getTransactions`. Now and then
   * (chain/store.ts `snapshotDue`) the whole state is snapshotted too, so opening replays a bounded tail.
   * @throws ChainStoreError (and the chain becomes unusable) when a write fails.
   */
  private async persist(): Promise<void> {
    let records: TxRecord[];
    try {
      records = this.sandbox.takeTransactions().map(toRecord);
      if (!records.length) return; // nothing ran: the state is as persisted
      const changed = await this.serializeChanged(new Set(records.map((r) => r.account)));
      await this.store.appendCommit(records, changed);
      if (this.store.snapshotDue) await this.store.writeSnapshot(this.fullState(changed));
    } catch (error) {
      this.unusable = new ChainStoreError('persisting the local chain failed; reopen it', { cause: error });
      throw this.unusable;
    }
    for (const r of records) this.remember(r);
  }

  /**
   * What changed since the last persist: the globals, the wallets, and the accounts in `touched`
   * (those that ran a transaction since then: the sandbox changes an account only by a transaction
   * on it, or by minting a treasury's balance right after the treasury's deploy transaction).
   */
  private async serializeChanged(touched: ReadonlySet<string>): Promise<PersistedState> {
    const changed = await Promise.all(
      [...touched].map(async (raw) => (await this.sandbox.getContract(Address.parse(raw))).snapshot()),
    );
    const {
      networkConfig: _config,
      transactions: _none,
      contracts,
      ...globals
    } = snapshotToSerializable({ ...this.sandbox.snapshotWithoutAccounts(), contracts: changed });
    contracts.forEach((c, i) => this.accounts.set(changed[i]!.address.toRawString(), c));
    return { wallets: [...this.wallets.keys()], sandbox: { ...globals, contracts } };
  }

  /** The whole state, for a snapshot: `changed`'s globals and wallets, every account. */
  private fullState(changed: PersistedState): PersistedState {
    return { wallets: changed.wallets, sandbox: { ...changed.sandbox, contracts: [...this.accounts.values()] } };
  }

  private remember(r: TxRecord): void {
    let entries = this.history.get(r.account);
    if (entries === undefined) this.history.set(r.account, (entries = []));
    entries.push({ lt: r.lt, boc: r.boc });
  }
}

/** Index of the first entry with lt > `afterLt` (entries are in increasing lt). */
function firstAfter(entries: readonly HistoryEntry[], afterLt: bigint): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid]!.lt <= afterLt) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The account a transaction ran on: the destination of its inbound message. */
function accountOf(tx: Transaction): Address {
  const info = tx.inMessage?.info;
  if (info === undefined || info.type === 'external-out') {
    throw new ChainStoreError(`transaction ${tx.hash().toString('hex')} has no inbound message`);
  }
  return info.dest;
}

function toRecord(tx: BlockchainTransaction): TxRecord {
  return {
    account: accountOf(tx).toRawString(),
    lt: tx.lt,
    hash: tx.hash(),
    now: tx.now,
    boc: tx.raw.toBoc(),
  };
}

/** Phase outcomes of a transaction (TL-B `TransactionDescr`, ordinary transactions). */
function describe(tx: BlockchainTransaction): SentTransaction {
  const base = { address: accountOf(tx), lt: tx.lt, hash: tx.hash() };
  const d = tx.description;
  if (d.type !== 'generic') {
    return { ...base, aborted: true, computeSuccess: false, exitCode: null, actionResultCode: null };
  }
  const vm = d.computePhase.type === 'vm' ? d.computePhase : undefined;
  return {
    ...base,
    aborted: d.aborted,
    computeSuccess: vm?.success ?? false,
    exitCode: vm?.exitCode ?? null,
    actionResultCode: d.actionPhase?.resultCode ?? null,
  };
}

/**
 * Checks the shape of a persisted state (the rest is checked by the sandbox's own deserialisation).
 * @throws ChainStoreError on a state this code did not write.
 */
function parseState(state: unknown): PersistedState {
  const s = state as Partial<PersistedState> | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    !Array.isArray(s.wallets) ||
    !s.wallets.every((w) => typeof w === 'string') ||
    typeof s.sandbox !== 'object' ||
    s.sandbox === null ||
    !Array.isArray(s.sandbox.contracts)
  ) {
    throw new ChainStoreError('chain.json holds no local chain state');
  }
  return s as PersistedState;
}
