/**
 * The pool's contracts on a chain: RewardDistribution (deployed with a TopUp body so the deploy
 * value is gas and storage reserve, not revenue) and PoolOperator, which deploys its
 * ParticipantRegistry on its first message. The operator wallet owns all three; their addresses
 * derive from (owner, poolId), so every start finds the same contracts. Deploying is idempotent.
 *
 * Because the addresses are the same on every chain (the local chain's wallets derive from their
 * names), they do not tell one chain from another: a lost `<dataDir>/chain` would be recreated and
 * the contracts redeployed at the same addresses, empty. The chain's identity is the distribution
 * contract's first transaction (its deploy: hash and lt), recorded once in the stream
 * (`PoolContractsDeployed` on `pool.chain.contracts`); {@link openPoolContracts} checks it, and that
 * the last transaction the stream indexed of each contract is on the chain, before anything runs.
 *
 * On the local chain the pool deploys its contracts itself ({@link openPoolContracts}). On a real
 * network (and devnet) `pool deploy` sends the deploy from the operator's highload v3 wallet
 * ({@link deployPoolContractsFrom}) and `pool start` only opens them ({@link openDeployedPoolContracts}):
 * it checks that each configured address is the contract of (owner, poolId) and runs this build's
 * code (code hash against contracts/build), and refuses anything else.
 */
import { Address, fromNano, type Cell, type StateInit } from '@ton/core';
import { rewardDistributionDeployment, topUpBody } from '../contracts/distribution.ts';
import { poolOperatorDeployment } from '../contracts/operator.ts';
import { ParticipantRegistry } from '../contracts/registry.ts';
import type { KeyPair } from '@ton/crypto';
import { sleep } from '../runtime/sleep.ts';
import { subjectFor } from '../schemas/catalog.ts';
import type { EventStore } from '../streams/eventStore.ts';
import { ChainUnavailableError, type ChainReader, type ChainSender, type OutgoingMessage } from './client.ts';
import type { LocalChain } from './localChain.ts';
import { HighloadQueryId, INTERNAL_TRANSFER_VALUE, highloadV3Address, highloadV3StateInit, isHighloadProcessed, signTransfer, type HighloadV3Config } from './wallet/highloadV3.ts';

export interface PoolContracts {
  distribution: Address;
  operator: Address;
  registry: Address;
}

/** The contracts of (owner, poolId): where they are, what deploys them, and the code hash each must run. */
export interface PoolContractPlan {
  contracts: PoolContracts;
  distributionInit: StateInit;
  operatorInit: StateInit;
  /** representation hashes of this build's code cells (contracts/build), by contract */
  codeHashes: Record<keyof PoolContracts, Buffer>;
}

/**
 * The addresses, StateInits and code hashes of the pool's contracts for `owner` and `poolId`
 * (uint32), from this build's compiled code (contracts/build); pure.
 * @throws ContractMessageError when poolId is not a uint32.
 */
export async function poolContractPlan(owner: Address, poolId: bigint): Promise<PoolContractPlan> {
  const distribution = await rewardDistributionDeployment(owner, poolId);
  const operator = await poolOperatorDeployment(owner, poolId, distribution.address);
  const registry = await ParticipantRegistry.fromInit(operator.address, owner, poolId, distribution.address);
  return {
    contracts: { distribution: distribution.address, operator: operator.address, registry: operator.registry },
    distributionInit: distribution.init,
    operatorInit: operator.init,
    codeHashes: { distribution: distribution.init.code!.hash(), operator: operator.init.code!.hash(), registry: registry.init!.code!.hash() },
  };
}

/** nanoTON sent with the distribution deploy: storage reserve (0.1 TON) plus gas for revenue messages. */
export const DISTRIBUTION_DEPLOY_VALUE = 10_000_000_000n;
/** nanoTON sent with the operator deploy; it forwards part to deploy the registry. */
export const OPERATOR_DEPLOY_VALUE = 1_000_000_000n;

/**
 * Sends a deploy of `init` with `value` nanoTON and `body` unless the account is already active;
 * rejects when the deploy transaction failed (as LocalChain.deploy).
 */
export type Deploy = (init: { code: Cell; data: Cell }, value: bigint, body?: Cell) => Promise<unknown>;

/** The contracts' owner when it is not the deploying local wallet: its address and how it deploys. */
export interface ContractOwner {
  address: Address;
  deploy: Deploy;
}

/**
 * Deploys what is missing, from the local wallet `operatorWallet`, owned by `owner` (default that
 * wallet; the pool passes its highload wallet, which sends the owner operations: it deploys the
 * distribution contract itself, whose TopUp deploy body only the owner may send).
 * @throws DeployError when a deploy transaction fails.
 */
export async function deployPoolContracts(chain: LocalChain, operatorWallet: string, poolId = 1n, owner?: ContractOwner): Promise<PoolContracts> {
  const ownerAddress = owner?.address ?? chain.walletAddress(operatorWallet);
  const deployFromWallet: Deploy = (init, value, body) => chain.deploy(operatorWallet, init, value, body);
  const distribution = await rewardDistributionDeployment(ownerAddress, poolId);
  await (owner?.deploy ?? deployFromWallet)({ code: distribution.init.code!, data: distribution.init.data! }, DISTRIBUTION_DEPLOY_VALUE, topUpBody({ queryId: 0n }));
  const operator = await poolOperatorDeployment(ownerAddress, poolId, distribution.address);
  await deployFromWallet({ code: operator.init.code!, data: operator.init.data! }, OPERATOR_DEPLOY_VALUE);
  return { distribution: distribution.address, operator: operator.address, registry: operator.registry };
}

/** Subject of the chain identity event (PoolContractsDeployed). */
export const CHAIN_IDENTITY_SUBJECT = subjectFor('chain', 'contracts');

/** The event stream's history names another chain than the one opened (lost or replaced chain state). */
export class ChainMismatchError extends Error {
  override name = 'ChainMismatchError';
}

/**
 * The pool's contracts on `chain`, checked against what the stream `store` recorded:
 * - the stream names a chain (PoolContractsDeployed, or, for a stream from before that event, any
 *   indexed transaction on `pool.chain.<distribution|operator|registry>`): the contracts must be at the
 *   recorded addresses, the distribution's first transaction must be the recorded one, and the last
 *   indexed transaction of each contract must be on the chain — else ChainMismatchError, nothing is sent;
 * - a stream without chain history: deploys what is missing.
 * Then records the identity when the stream has none yet.
 * @param chainDir where the chain's files are, for the error message.
 * @param owner the contracts' owner (their addresses derive from it); default the `operatorWallet` that deploys them.
 * @throws ChainMismatchError saying what differs and what to do.
 * @throws DeployError when a deploy transaction fails; the event store's errors.
 */
export async function openPoolContracts(chain: LocalChain, operatorWallet: string, store: EventStore, chainDir: string, poolId = 1n, owner?: ContractOwner): Promise<PoolContracts> {
  const expected = (await poolContractPlan(owner?.address ?? chain.walletAddress(operatorWallet), poolId)).contracts;
  const refuse = (what: string) =>
    new ChainMismatchError(
      `the event stream's history names another chain than the one in ${chainDir}: ${what}. The local chain's state was lost or replaced, or this version's contract code or owner differs from the deployed one (the owner is now the operator's highload wallet: a data dir from before it needs a fresh start), ` +
        'so the epochs, roots and payouts the stream records are not on it (running on would resend them to contracts that never saw them). ' +
        `Restore ${chainDir} from a backup taken with the rest of this data dir, or start a fresh data dir (--data-dir) with a fresh stream.`,
    );
  const recorded = await checkChainHistory(chain, store, expected, refuse);
  const contracts = await deployPoolContracts(chain, operatorWallet, poolId, owner);
  if (!recorded) await recordChainIdentity(chain, store, contracts);
  return contracts;
}

/**
 * Checks the stream's chain history against `chain` (see {@link openPoolContracts}): the recorded
 * identity names `expected` and the distribution's first transaction, and the last indexed
 * transaction of each contract is on the chain.
 * @returns whether the stream holds the identity event.
 * @throws what `refuse` makes, naming the difference; the reader's and the store's errors.
 */
async function checkChainHistory(chain: ChainReader, store: EventStore, expected: PoolContracts, refuse: (what: string) => Error): Promise<boolean> {
  const recorded = await store.lastOnSubject(CHAIN_IDENTITY_SUBJECT);
  if (recorded && recorded.type !== 'PoolContractsDeployed') throw refuse(`${CHAIN_IDENTITY_SUBJECT} holds a ${recorded.type} event`);
  if (recorded) {
    for (const name of ['distribution', 'operator', 'registry'] as const) {
      if (recorded.data[name] !== expected[name].toRawString()) throw refuse(`the ${name} contract was recorded at ${recorded.data[name]}, this chain's is ${expected[name].toRawString()}`);
    }
    const [first] = await chain.getTransactions(expected.distribution, { limit: 1 });
    if (!first) throw refuse(`the distribution contract ${recorded.data.distribution} has no transactions here`);
    const firstHash = first.hash().toString('hex');
    if (firstHash !== recorded.data.deployTxHash || String(first.lt) !== recorded.data.deployLt) {
      throw refuse(`the distribution contract was deployed in transaction ${recorded.data.deployTxHash} (lt ${recorded.data.deployLt}), here in ${firstHash} (lt ${first.lt})`);
    }
  }
  for (const name of ['distribution', 'operator', 'registry'] as const) {
    const last = await store.lastOnSubject(subjectFor('chain', name));
    if (!last || !('txHash' in last.data) || !('lt' in last.data)) continue;
    const { txHash, lt } = last.data as { txHash: string; lt: string };
    const [tx] = await chain.getTransactions(expected[name], { afterLt: BigInt(lt) - 1n, limit: 1 });
    if (!tx || tx.lt !== BigInt(lt) || tx.hash().toString('hex') !== txHash) {
      throw refuse(`the stream's last ${name} transaction ${txHash} (lt ${lt}, stream sequence ${last.sequence}) is not on this chain`);
    }
  }
  return !!recorded;
}

/** Appends PoolContractsDeployed (the distribution's first transaction) to a stream that has none. */
async function recordChainIdentity(chain: ChainReader, store: EventStore, contracts: PoolContracts): Promise<void> {
  const [first] = await chain.getTransactions(contracts.distribution, { limit: 1 });
  if (!first) throw new ChainMismatchError(`the distribution contract ${contracts.distribution.toRawString()} has no final transaction yet: wait for its deploy to be final and start again`);
  const deployTxHash = first.hash().toString('hex');
  await store.append(
      CHAIN_IDENTITY_SUBJECT,
      {
        type: 'PoolContractsDeployed',
        version: 1,
        id: `contracts:${deployTxHash}`,
        data: {
          distribution: contracts.distribution.toRawString(), operator: contracts.operator.toRawString(), registry: contracts.registry.toRawString(),
          deployTxHash, deployLt: String(first.lt),
        },
      },
      { expectedLastSubjectSequence: 0 },
    );
}

/** A configured contract that is not this pool's, not deployed, or runs other code than this build's. */
export class PoolContractsError extends Error {
  override name = 'PoolContractsError';
}

/** The contract names, in deploy order. */
const NAMES = ['distribution', 'operator', 'registry'] as const;

/** Why a contract cannot be used: not active (`notActive`), or running other code than this build's. */
interface ContractProblem {
  name: keyof PoolContracts;
  notActive: boolean;
  problem: string;
}

/**
 * Problems of the contracts at `addresses` on `reader`'s chain (final state): an account that is
 * not active (`the <name> contract <address> is not deployed | uninit | frozen`), or whose code
 * hash is not this build's (`codeHashes`, contracts/build).
 * @returns [] when all three are active with this build's code.
 * @throws ChainUnavailableError (the reader's).
 */
export async function deployedContractProblems(reader: ChainReader, addresses: PoolContracts, codeHashes: PoolContractPlan['codeHashes']): Promise<ContractProblem[]> {
  const problems: ContractProblem[] = [];
  for (const name of NAMES) {
    const address = addresses[name];
    const account = await reader.getAccount(address);
    if (account.state !== 'active') problems.push({ name, notActive: true, problem: `the ${name} contract ${address.toString()} is ${account.state === 'none' ? 'not deployed' : account.state}` });
    else if (!account.codeHash?.equals(codeHashes[name])) {
      problems.push({
        name,
        notActive: false,
        problem: `the ${name} contract ${address.toString()} runs code ${account.codeHash?.toString('hex') ?? '(none)'}, this build's ${name} code is ${codeHashes[name].toString('hex')} (contracts/build)`,
      });
    }
  }
  return problems;
}

/**
 * The pool's contracts on a network where the pool does not deploy (testnet, mainnet), checked
 * before anything runs:
 * - each configured address (`chain.contracts`) must be active and run this build's code (code
 *   hash against contracts/build): else it is not deployed, or another version deployed it;
 * - each must be the contract of (`owner`, `poolId`): else the configuration names another pool's
 *   contracts, or the wallet (mnemonic, subwallet id, timeout) or the pool id changed since the deploy;
 * - the stream's chain history must be on this chain (as {@link openPoolContracts}); its identity
 *   is recorded when the stream has none.
 * Nothing is ever deployed or sent.
 * @param network how to name the chain in messages, e.g. `testnet (https://testnet.toncenter.com)`.
 * @throws PoolContractsError saying which contract, what differs and what to do.
 * @throws ChainMismatchError when the stream's history is not on this chain.
 * @throws ChainUnavailableError; the event store's errors.
 */
export async function openDeployedPoolContracts(options: {
  reader: ChainReader;
  owner: Address;
  poolId: bigint;
  configured: Record<keyof PoolContracts, string>;
  store: EventStore;
  network: string;
  /** the `pool deploy` command line that would deploy them, for the messages */
  deployCommand: string;
}): Promise<PoolContracts> {
  const { reader, owner, poolId, network } = options;
  const plan = await poolContractPlan(owner, poolId);
  const configured: PoolContracts = { distribution: Address.parse(options.configured.distribution), operator: Address.parse(options.configured.operator), registry: Address.parse(options.configured.registry) };
  const problems = await deployedContractProblems(reader, configured, plan.codeHashes);
  if (problems.length) {
    const undeployed = problems.every((p) => p.notActive);
    throw new PoolContractsError(
      `the pool's contracts on ${network} cannot be used: ${problems.map((p) => p.problem).join('; ')}. ` +
        (undeployed
          ? `Deploy them (${options.deployCommand}) and wait until it reports them final.`
          : 'They were deployed by another version of the pool (or chain.contracts names other contracts): run the version that deployed them, or deploy this version\'s contracts under a new chain.poolId ' +
            `(${options.deployCommand}) and point the workers' owner_address at the new distribution contract.`),
    );
  }
  for (const name of NAMES) {
    if (!configured[name].equals(plan.contracts[name])) {
      throw new PoolContractsError(
        `chain.contracts.${name} is ${configured[name].toString()}, but the ${name} contract of the operator wallet ${owner.toString()} with chain.poolId ${poolId} is ${plan.contracts[name].toString()}: ` +
          'the configuration names another pool\'s contract, or the operator mnemonic, chain.wallet (subwallet id, timeout) or chain.poolId changed since the deploy. ' +
          `Restore the settings the contracts were deployed with, or deploy this wallet's contracts (${options.deployCommand}).`,
      );
    }
  }
  const refuse = (what: string) =>
    new ChainMismatchError(
      `the event stream's history names other contracts or another chain than ${network}: ${what}. ` +
        'Point the pool at the network and contracts this data dir\'s stream was written with (chain.network, chain.contracts), or start a fresh data dir (--data-dir) with a fresh stream.',
    );
  const recorded = await checkChainHistory(reader, options.store, plan.contracts, refuse);
  if (!recorded) await recordChainIdentity(reader, options.store, plan.contracts);
  return plan.contracts;
}

/**
 * The operator's highload v3 wallet: its key (never logged, never in an event), the config its
 * address derives from, and that address (the shape of sagas/epoch/distributionActions.ts's).
 */
export interface OperatorWallet {
  keyPair: KeyPair;
  config: HighloadV3Config;
  address: Address;
}

/**
 * The operator wallet of `keyPair` with `subwalletId` (uint32) and `timeout` (seconds); pure.
 * @throws HighloadV3ArgumentError for a subwallet id or timeout out of range.
 */
export function operatorWallet(keyPair: KeyPair, subwalletId: number, timeout: number): OperatorWallet {
  const config: HighloadV3Config = { publicKey: keyPair.publicKey, subwalletId, timeout };
  return { keyPair, config, address: highloadV3Address(config) };
}

/** nanoTON kept for fees on top of the values sent when deploying (both wallet transactions, forward fees, the registry deploy). */
const DEPLOY_FEE_MARGIN = 200_000_000n;

/**
 * nanoTON the operator wallet needs to deploy the contracts whose deploy values are `values`
 * (default: all of them, the distribution with {@link DISTRIBUTION_DEPLOY_VALUE}): the values, the
 * wallet's internal_transfer value (returned to it) and a margin for fees.
 */
export function deployCost(values: bigint[] = [DISTRIBUTION_DEPLOY_VALUE, OPERATOR_DEPLOY_VALUE]): bigint {
  return values.reduce((sum, v) => sum + v, 0n) + INTERNAL_TRANSFER_VALUE + DEPLOY_FEE_MARGIN;
}

/** Seconds a deploy message stays valid at most: an unanswered deploy is known lost after this, not after the wallet's whole timeout. */
export const DEPLOY_VALIDITY_SECONDS = 300;

/** True when each contract has a final transaction (ChainUnavailableError counts as not yet). */
async function allHaveFinalTransactions(reader: ChainReader, contracts: PoolContracts): Promise<boolean> {
  try {
    for (const name of NAMES) if (!(await reader.getTransactions(contracts[name], { limit: 1 })).length) return false;
    return true;
  } catch (err) {
    if (err instanceof ChainUnavailableError) return false;
    throw err;
  }
}

/** Highload v3 query ids (8192 × 1023); the last one is kept for emergencies (HighloadQueryId.next never gives it). */
const QUERY_IDS = 8192 * 1023;

/** What {@link deployPoolContractsFrom} did. */
export interface DeployOutcome {
  contracts: PoolContracts;
  /** false when all three were already active with this build's code (nothing sent) */
  sent: boolean;
  /** the operator wallet, which sent the deploy */
  wallet: Address;
}

/**
 * Deploys the pool's contracts of (operator wallet, `poolId`) from the operator's highload v3
 * wallet, in one signed external message (deploying the wallet too when it is funded but not yet
 * initialised): RewardDistribution with `distributionValue` nanoTON and a TopUp body (a reserve,
 * not revenue), PoolOperator with {@link OPERATOR_DEPLOY_VALUE} (its first message deploys the
 * ParticipantRegistry). Contracts already active with this build's code are not sent again; with
 * all three so, nothing is sent.
 *
 * The message is signed with `createdAt` = chain time − (timeout − {@link DEPLOY_VALIDITY_SECONDS})
 * so it expires within 5 minutes, and a query_id drawn from the upper half of the id space (the
 * saga counts up from the first). It is resubmitted after ChainUnavailableError (the same message:
 * the wallet runs a query_id once) until the three contracts are active with this build's code in
 * the reader's final state, or the message expired in chain time.
 * @param progress called with a line for the operator at each step.
 * @throws PoolContractsError when the wallet cannot pay (`balance`, `needed` named), a contract is
 *   active with other code, or the message expired with the contracts not all deployed (saying
 *   whether the wallet processed it).
 * @throws SendRejectedError when the wallet refused the message (wrong key for the address, clock).
 * @throws PoolContractsError also when `signal` aborts the wait.
 * @throws ChainUnavailableError from the reads before the message is signed.
 */
export async function deployPoolContractsFrom(options: {
  reader: ChainReader;
  sender: ChainSender;
  wallet: OperatorWallet;
  poolId: bigint;
  /** nanoTON for the distribution contract; default {@link DISTRIBUTION_DEPLOY_VALUE} */
  distributionValue?: bigint;
  progress?: (line: string) => void;
  /** how often the final state is read while waiting, ms; default 2000 */
  pollMs?: number;
  signal?: AbortSignal;
}): Promise<DeployOutcome> {
  const { reader, sender, wallet, poolId } = options;
  const progress = options.progress ?? (() => {});
  const pollMs = options.pollMs ?? 2000;
  const distributionValue = options.distributionValue ?? DISTRIBUTION_DEPLOY_VALUE;
  const walletAddress = wallet.address;
  const plan = await poolContractPlan(walletAddress, poolId);
  const before = await deployedContractProblems(reader, plan.contracts, plan.codeHashes);
  const otherCode = before.filter((p) => !p.notActive);
  if (otherCode.length) {
    throw new PoolContractsError(`${otherCode.map((p) => p.problem).join('; ')}: deployed by another version of the pool. Deploy under a new chain.poolId instead.`);
  }
  if (!before.length) {
    progress(`the contracts of ${walletAddress.toString()} (pool id ${poolId}) are already deployed with this build's code: nothing to send`);
    return { contracts: plan.contracts, sent: false, wallet: walletAddress };
  }
  const missing = new Set(before.map((p) => p.name));
  const messages: OutgoingMessage[] = [];
  if (missing.has('distribution')) messages.push({ to: plan.contracts.distribution, value: distributionValue, body: topUpBody({ queryId: 0n }), init: plan.distributionInit });
  // the operator's deploy (its first message) deploys the registry
  if (missing.has('operator') || missing.has('registry')) messages.push({ to: plan.contracts.operator, value: OPERATOR_DEPLOY_VALUE, init: missing.has('operator') ? plan.operatorInit : undefined });

  const account = await reader.getAccount(walletAddress);
  const needed = deployCost(messages.map((m) => m.value));
  if (account.balance < needed) {
    throw new PoolContractsError(
      `the operator wallet ${walletAddress.toString({ bounceable: false })} holds ${fromNano(account.balance)} TON; deploying needs at least ${fromNano(needed)} TON ` +
        `(${fromNano(distributionValue)} for the distribution contract's reserve, ${fromNano(OPERATOR_DEPLOY_VALUE)} for the operator and registry, the rest fees). Fund it (pool wallet shows the address) and run pool deploy again.`,
    );
  }
  if (account.state === 'frozen') throw new PoolContractsError(`the operator wallet ${walletAddress.toString()} is frozen (unpaid storage): unfreeze it before deploying`);
  const init = account.state === 'active' ? undefined : highloadV3StateInit(wallet.config);

  let queryId: HighloadQueryId;
  do queryId = HighloadQueryId.fromSequence(QUERY_IDS / 2 + Math.floor(Math.random() * (QUERY_IDS / 2 - 1)));
  while (account.state === 'active' && (await isHighloadProcessed(reader, walletAddress, queryId)));
  const now = await reader.chainTime();
  const { timeout, subwalletId } = wallet.config;
  const createdAt = timeout > DEPLOY_VALIDITY_SECONDS ? now - (timeout - DEPLOY_VALIDITY_SECONDS) : now;
  const signed = signTransfer({
    secretKey: wallet.keyPair.secretKey, publicKey: wallet.keyPair.publicKey, walletAddress, subwalletId, timeout,
    queryId, createdAt, messages, init,
  });
  progress(`sending the deploy of ${[...missing].join(', ')} from ${walletAddress.toString({ bounceable: false })}${init ? ' (deploying the wallet too)' : ''}: message ${signed.normalizedHash.toString('hex')}, query_id ${queryId}, valid until chain time ${signed.expiresAt}`);

  let submitted = false;
  for (;;) {
    if (!submitted) {
      try {
        await sender.sendMessage(signed.message);
        submitted = true;
        progress('submitted; waiting until the contracts are active in a final block');
      } catch (err) {
        if (!(err instanceof ChainUnavailableError)) throw err;
        progress(`the endpoint did not answer (${err.message}); sending the same message again`);
      }
    }
    const problems = await deployedContractProblems(reader, plan.contracts, plan.codeHashes).catch((err: unknown) => {
      if (err instanceof ChainUnavailableError) return null;
      throw err;
    });
    // an endpoint's account state may run ahead of finality (TON Center v2): each contract's first transaction, read final-only, proves the deploy final
    if (problems && !problems.length && (await allHaveFinalTransactions(reader, plan.contracts))) {
      progress('deployed: all three contracts are active with this build\'s code in a final block');
      return { contracts: plan.contracts, sent: true, wallet: walletAddress };
    }
    const chainTime = await reader.chainTime().catch(() => 0);
    if (chainTime >= signed.expiresAt) {
      const processed = await isHighloadProcessed(reader, walletAddress, queryId).catch(() => null);
      throw new PoolContractsError(
        `the deploy message expired at chain time ${signed.expiresAt} with ${(problems ?? []).map((p) => p.problem).join('; ') || 'the contracts not all active'}; ` +
          (processed
            ? `the wallet processed it (query_id ${queryId}): look at ${walletAddress.toString()}'s transactions for why the contracts were not deployed`
            : 'the wallet did not process it: run pool deploy again'),
      );
    }
    await sleep(pollMs, options.signal);
    if (options.signal?.aborted) throw new PoolContractsError(`stopped while waiting for the deploy (message ${signed.normalizedHash.toString('hex')}, valid until chain time ${signed.expiresAt}); run pool deploy again to see how it went`);
  }
}
