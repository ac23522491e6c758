/**
 * An emulated Cocoon proxy contract paying workers' owners as Cocoon's proxy does: one account
 * per owner_address (ProxyRunner.cpp `register_worker`: every worker of an owner shares it), owed
 * the adjusted tokens its workers completed since the last payout; the owner is paid the whole
 * owed balance × `worker_fee_per_token` when it reaches the auto-pay threshold
 * (ProxyWorkerInfo.cpp:50 `delta * worker_fee_per_token >= min_worker_payout_sum`, 10 TON:
 * ProxyRunner.hpp:35-37; ../shared/cocoon/runtime-constants.json `proxy_runner.min_worker_payout_sum`)
 * or when one of its workers' `/request/payout` asks (emulator/worker.ts), whichever comes first;
 * the balance is looked at every interval. The payout is a real Cocoon payout message: op
 * 0xc59a7cd3 (`payout`), body `query_id:uint64`, non-bounceable, send mode 1 (cocoon_proxy.fc;
 * see tests/fixtures/cocoon/README.md "On-chain money").
 *
 * The payouts leave from a contract of their own, {@link EMULATED_PROXY_CODE} (a relay owned by the
 * proxy's wallet), so that the pool's proxy authenticity check passes the way it does for a real
 * proxy: the stand-in Cocoon root (emulator/cocoonRoot.ts) publishes that code's hash as
 * `proxy_sc_hash`, and no other account of the local chain has that code (every named wallet is a
 * sandbox treasury, whose code would let any wallet pass).
 *
 * Before each payout the proxy raises the owner's worker contract's `tokens` (a stand-in with
 * Cocoon's storage and get-method, emulator/cocoonWorkerContract.ts, deployed by the first update)
 * to the cumulative adjusted tokens paid, and tells the owner's workers, which report it as
 * `/jsonstats` `cached_out_tokens`, as Cocoon's worker reads it from its contract.
 * Differs from cocoon_proxy.fc: it pays what its owner wallet hands it (no signed claims, no stake;
 * the worker contract does not ask it to pay).
 */
import { beginCell, Cell, internal, storeMessageRelaxed, type Address } from '@ton/core';
import type { Logger } from 'pino';
import type { ChainClient, OutgoingMessage, WalletName } from '../chain/client.ts';

/** What the proxy needs of a chain: a wallet's send (ChainClient.send; the pool's over IPC in the emulator process). */
export type ProxySender = Pick<ChainClient, 'send'>;
import type { LocalChain } from '../chain/localChain.ts';
import { cocoonPayoutBody } from '../contracts/distribution.ts';
import { workerContractAddress, workerContractInit, workerTokensUpdateBody } from './cocoonWorkerContract.ts';
import type { EmulatedWorker } from './worker.ts';

/**
 * Code of the emulated proxy: relays one message per inbound message from its owner (data: the
 * owner's address; body: mode:uint8 ^MessageRelaxed; from anyone else: exit 401; an empty body or a
 * bounce is kept). The FunC below
 * compiled with @ton-community/func-js 0.11.0 (func-js-bin 0.4.6-wasmfix.debugger.1); code hash
 * 1526705df4ef65788cae8c8ac7bbde05e02f1425aa651cd99fc6f3ff03ba1626.
 *
 *   slice begin_parse(cell c) asm "CTOS";
 *   cell get_data() asm "c4 PUSH";
 *   (slice, cell) load_ref(slice s) asm(-> 1 0) "LDREF";
 *   (slice, slice) load_msg_addr(slice s) asm(-> 1 0) "LDMSGADDR";
 *   int equal_slices(slice a, slice b) asm "SDEQ";
 *   int slice_empty?(slice s) asm "SEMPTY";
 *   () send_raw_message(cell msg, int mode) impure asm "SENDRAWMSG";
 *   () recv_internal(cell in_msg_full, slice in_msg_body) impure {
 *     slice cs = in_msg_full.begin_parse();
 *     int flags = cs~load_uint(4);
 *     if ((flags & 1) | in_msg_body.slice_empty?()) { return (); }
 *     slice sender = cs~load_msg_addr();
 *     throw_unless(401, equal_slices(sender, get_data().begin_parse()));
 *     int mode = in_msg_body~load_uint(8);
 *     send_raw_message(in_msg_body~load_ref(), mode);
 *   }
 */
export const EMULATED_PROXY_CODE: Cell = Cell.fromBoc(
  Buffer.from('b5ee9c72410102010030000114ff00f4a413f4bcf2c80b010042d301d0d3030171b022c700b1915be0fa4030ed44d0c705f2e191d307d43001fb003f51faf6', 'hex'),
)[0]!;

/** nanoTON sent to the relay on top of each payout: its gas and the payout's forward fee (the rest stays on it). */
const RELAY_GAS = 10_000_000n;

/**
 * Deploys the emulated proxy owned by `wallet` (nothing is sent when it is already there: its
 * address derives from the owner).
 * @returns its address, the sender of the payouts
 * @throws the errors of LocalChain.deploy
 */
export async function deployEmulatedProxy(chain: LocalChain, wallet: WalletName): Promise<Address> {
  const data = beginCell().storeAddress(chain.walletAddress(wallet)).endCell();
  return (await chain.deploy(wallet, { code: EMULATED_PROXY_CODE, data }, 1_000_000_000n)).address;
}

/**
 * The messages the proxy's owner wallet sends for `payouts` (nanoTON, query_id) to `to`: one to the
 * emulated proxy `proxy` per payout, carrying the Cocoon payout it relays (mode 1) and its gas.
 */
export function relayedPayouts(proxy: Address, to: Address, payouts: readonly { value: bigint; queryId: bigint }[]): OutgoingMessage[] {
  return payouts.map(({ value, queryId }) => {
    const payout = beginCell().store(storeMessageRelaxed(internal({ to, value, body: cocoonPayoutBody({ queryId }), bounce: false }))).endCell();
    return { to: proxy, value: value + RELAY_GAS, body: beginCell().storeUint(1, 8).storeRef(payout).endCell(), bounce: true };
  });
}

/** nanoTON the relayed update carries to the worker contract: its deployment's storage and gas (the rest stays on it). */
const WORKER_CONTRACT_VALUE = 20_000_000n;

/**
 * The message the proxy's owner wallet sends to the emulated proxy `proxy` so that it raises the
 * worker contract of (`owner`, proxy, `proxyPublicKey`) to `newTokens` (cumulative adjusted tokens
 * paid), deploying it with its StateInit if it is not there yet (emulator/cocoonWorkerContract.ts).
 * @throws RangeError when queryId or newTokens is not a uint64.
 */
export function relayedWorkerUpdate(proxy: Address, owner: Address, proxyPublicKey: bigint, queryId: bigint, newTokens: bigint): OutgoingMessage {
  const key = { owner, proxy, proxyPublicKey };
  const update = internal({ to: workerContractAddress(key), value: WORKER_CONTRACT_VALUE, body: workerTokensUpdateBody(queryId, newTokens), bounce: false, init: workerContractInit(key) });
  const relayed = beginCell().store(storeMessageRelaxed(update)).endCell();
  return { to: proxy, value: WORKER_CONTRACT_VALUE + RELAY_GAS, body: beginCell().storeUint(1, 8).storeRef(relayed).endCell(), bounce: true };
}

/**
 * What the worker contracts of `owners` at the emulated proxy `proxy` hold (`get_cocoon_worker_data`
 * `tokens`, cumulative adjusted tokens paid; 0 for one not deployed yet), by raw owner address: read
 * by the pool process before the proxy starts, so that a restarted proxy raises them from there.
 * @throws Error when a deployed contract's get-method fails; the chain's errors
 */
export async function readWorkerContractTokens(chain: Pick<ChainClient, 'getAccountState' | 'runGetMethod'>, proxy: Address, owners: readonly Address[]): Promise<Map<string, bigint>> {
  const proxyPublicKey = emulatedProxyPublicKey(proxy);
  const tokens = new Map<string, bigint>();
  for (const owner of owners) {
    const contract = workerContractAddress({ owner, proxy, proxyPublicKey });
    if ((await chain.getAccountState(contract)) !== 'active') continue;
    const r = await chain.runGetMethod(contract, 'get_cocoon_worker_data');
    if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`worker contract ${contract.toString()}: get_cocoon_worker_data failed with exit code ${r.exitCode}`);
    tokens.set(owner.toRawString(), r.stack.skip(4).readBigNumber());
  }
  return tokens;
}

/** The proxy public key (uint256) the emulated proxy `proxy` reports and its worker contracts hold: its account id. */
export function emulatedProxyPublicKey(proxy: Address): bigint {
  return BigInt(`0x${proxy.hash.toString('hex')}`);
}

export interface EmulatedProxyOptions {
  chain: ProxySender;
  /** the proxy's owner wallet on the chain */
  wallet: WalletName;
  /** the emulated proxy contract ({@link deployEmulatedProxy}) */
  proxy: Address;
  /** the workers and the owner_address each is configured with (where its earnings are paid) */
  workers: readonly { id: string; worker: EmulatedWorker; owner: Address }[];
  /** nanoTON per adjusted token (root params `worker_fee_per_token`) */
  workerFeePerToken: bigint;
  /** nanoTON an owner's owed balance must reach to be paid without a `/request/payout` (Cocoon: 10 TON) */
  autoPayThresholdNanoton: bigint;
  /** how often owed balances are looked at, milliseconds */
  payIntervalMs: number;
  /** each owner's (raw address) worker contract `tokens` when the proxy starts ({@link readWorkerContractTokens}); absent = 0 */
  workerContractTokens: ReadonlyMap<string, bigint>;
  logger: Logger;
}

/** One wallet message carries at most 255 actions, two per owner paid (update, payout); the rest is paid next round. */
const MAX_PAYOUTS_PER_SEND = 127;

/** An owner's account at the proxy: its worker contract, the `tokens` it holds, the owner's workers. */
interface Account {
  owner: Address;
  contract: Address;
  chainTokens: bigint;
  workers: { id: string; worker: EmulatedWorker }[];
}

/** Starts paying; `stop()` ends the timer and waits for a payout in progress. */
export function startEmulatedProxy(options: EmulatedProxyOptions): { stop(): Promise<void> } {
  // tokens already paid per worker; starts at what the worker had done when the proxy started
  const paid = new Map(options.workers.map(({ id, worker }) => [id, worker.cumulativeAdjustedTokens()]));
  const proxyPublicKey = emulatedProxyPublicKey(options.proxy);
  // chainTokens: the owner's worker contract's `tokens` (what it held at start, then raised by each payout)
  const accounts = new Map<string, Account>();
  for (const w of options.workers) {
    const key = w.owner.toRawString();
    const account = accounts.get(key) ?? { owner: w.owner, contract: workerContractAddress({ owner: w.owner, proxy: options.proxy, proxyPublicKey }), chainTokens: options.workerContractTokens.get(key) ?? 0n, workers: [] };
    account.workers.push(w);
    accounts.set(key, account);
  }
  for (const account of accounts.values()) for (const { worker } of account.workers) worker.setCashedOutTokens(account.chainTokens);
  // owners whose workers asked for their payout since their last one
  const requested = new Set<string>();
  const unsubscribe = options.workers.map((w) => w.worker.onPayoutRequested(() => requested.add(w.owner.toRawString())));
  let queryId = BigInt(Date.now()) * 1000n;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function payRound(): Promise<void> {
    const due: { key: string; account: Account; done: { id: string; tokens: number }[]; owedTokens: number; value: bigint; asked: boolean }[] = [];
    for (const [key, account] of accounts) {
      const done = account.workers.map(({ id, worker }) => ({ id, tokens: worker.cumulativeAdjustedTokens() }));
      const owedTokens = done.reduce((s, d) => s + d.tokens - paid.get(d.id)!, 0);
      const value = BigInt(owedTokens) * options.workerFeePerToken;
      const asked = requested.delete(key); // a request with nothing owed is answered by nothing, as Cocoon's proxy pays nothing then
      if (owedTokens > 0 && (value >= options.autoPayThresholdNanoton || asked)) due.push({ key, account, done, owedTokens, value, asked });
      if (due.length === MAX_PAYOUTS_PER_SEND) break;
    }
    if (!due.length) return;
    const messages = due.flatMap((d) => [
      relayedWorkerUpdate(options.proxy, d.account.owner, proxyPublicKey, ++queryId, d.account.chainTokens + BigInt(d.owedTokens)),
      ...relayedPayouts(options.proxy, d.account.owner, [{ value: d.value, queryId }]),
    ]);
    try {
      const result = await options.chain.send(options.wallet, messages);
      if (result.transactions[0]?.aborted) throw new Error('proxy wallet transaction aborted');
      const relayFailed = result.transactions.filter((t) => t.address.equals(options.proxy) && t.aborted).length;
      if (relayFailed) options.logger.error({ relayFailed }, 'emulated proxy relay failed: those payouts bounced to its wallet and are not retried');
      for (const d of due) {
        for (const w of d.done) paid.set(w.id, w.tokens);
        d.account.chainTokens += BigInt(d.owedTokens);
        for (const { worker } of d.account.workers) worker.setCashedOutTokens(d.account.chainTokens);
      }
      options.logger.debug({ payouts: due.length, nanoton: String(due.reduce((s, d) => s + d.value, 0n)) }, 'emulated proxy paid owners');
    } catch (err) {
      for (const d of due) if (d.asked) requested.add(d.key);
      options.logger.warn({ err }, 'emulated proxy payout failed; will retry');
    }
  }

  const timer = setInterval(() => {
    if (!stopped) running = running.then(payRound);
  }, options.payIntervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      for (const u of unsubscribe) u();
      await running;
    },
  };
}
