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
import { Address, type StateInit } from '@ton/core';
import { rewardDistributionDeployment, topUpBody } from '../contracts/distribution.ts';
import { poolOperatorDeployment } from '../contracts/operator.ts';
import { ParticipantRegistry } from '../contracts/registry.ts';
import type { EventStore } from '../streams/eventStore.ts';
import type { ChainReader } from './client.ts';
import type { LocalChain } from './localChain.ts';

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
  const [distribution, operator] = await Promise.all([rewardDistributionDeployment(owner, poolId), poolOperatorDeployment(owner, poolId)]);
  const registry = await ParticipantRegistry.fromInit(operator.address, owner, poolId);
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
 * Deploys what is missing.
 * @throws DeployError when a deploy transaction fails.
 */
export async function deployPoolContracts(chain: LocalChain, operatorWallet: string, poolId = 1n): Promise<PoolContracts> {
  const owner = chain.walletAddress(operatorWallet);
  const distribution = await rewardDistributionDeployment(owner, poolId);
  await chain.deploy(operatorWallet, { code: distribution.init.code!, data: distribution.init.data! }, DISTRIBUTION_DEPLOY_VALUE, topUpBody({ queryId: 0n }));
  const operator = await poolOperatorDeployment(owner, poolId);
  await chain.deploy(operatorWallet, { code: operator.init.code!, data: operator.init.data! }, OPERATOR_DEPLOY_VALUE);
  return { distribution: distribution.address, operator: operator.address, registry: operator.registry };
}

/** Subject of the chain identity event (PoolContractsDeployed). */
export const CHAIN_IDENTITY_SUBJECT = 'pool.chain.contracts';

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
 * @throws ChainMismatchError saying what differs and what to do.
 * @throws DeployError when a deploy transaction fails; the event store's errors.
 */
export async function openPoolContracts(chain: LocalChain, operatorWallet: string, store: EventStore, chainDir: string, poolId = 1n): Promise<PoolContracts> {
  const owner = chain.walletAddress(operatorWallet);
  const expected = (await poolContractPlan(owner, poolId)).contracts;
  const refuse = (what: string) =>
    new ChainMismatchError(
      `the event stream's history names another chain than the one in ${chainDir}: ${what}. The local chain's state was lost or replaced, or this version's contract code differs from the deployed one, ` +
        'so the epochs, roots and payouts the stream records are not on it (running on would resend them to contracts that never saw them). ' +
        `Restore ${chainDir} from a backup taken with the rest of this data dir, or start a fresh data dir (--data-dir) with a fresh stream.`,
    );
  const recorded = await checkChainHistory(chain, store, expected, refuse);
  const contracts = await deployPoolContracts(chain, operatorWallet, poolId);
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
    const last = await store.lastOnSubject(`pool.chain.${name}`);
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

/**
 * Problems of the contracts of `plan` on `reader`'s chain, one string each: an account that is not
 * active (`<name> <address> is <state>`), or whose code hash is not this build's.
 * @returns [] when all three are active with this build's code.
 * @throws ChainUnavailableError (the reader's).
 */
export async function deployedContractProblems(reader: ChainReader, plan: PoolContractPlan): Promise<{ name: keyof PoolContracts; notActive: boolean; problem: string }[]> {
  const problems: { name: keyof PoolContracts; notActive: boolean; problem: string }[] = [];
  for (const name of NAMES) {
    const address = plan.contracts[name];
    const account = await reader.getAccount(address);
    if (account.state !== 'active') problems.push({ name, notActive: true, problem: `the ${name} contract ${address.toString()} is ${account.state === 'none' ? 'not deployed' : account.state}` });
    else if (!account.codeHash?.equals(plan.codeHashes[name])) {
      problems.push({
        name,
        notActive: false,
        problem: `the ${name} contract ${address.toString()} runs code ${account.codeHash?.toString('hex') ?? '(none)'}, this build's ${name} code is ${plan.codeHashes[name].toString('hex')} (contracts/build)`,
      });
    }
  }
  return problems;
}

/**
 * The pool's contracts on a network where the pool does not deploy (testnet, mainnet, an external
 * devnet), checked before anything runs:
 * - each configured address (`chain.contracts`) must be the contract of (`owner`, `poolId`): else the
 *   configuration names another pool's contracts, or the wallet (mnemonic, subwallet id, timeout)
 *   or the pool id changed since the deploy;
 * - each must be active and run this build's code (code hash against contracts/build);
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
  for (const name of NAMES) {
    const configured = Address.parse(options.configured[name]);
    if (!configured.equals(plan.contracts[name])) {
      throw new PoolContractsError(
        `chain.contracts.${name} is ${configured.toString()}, but the ${name} contract of the operator wallet ${owner.toString()} with chain.poolId ${poolId} is ${plan.contracts[name].toString()}: ` +
          'the configuration names another pool\'s contract, or the operator mnemonic, chain.wallet (subwallet id, timeout) or chain.poolId changed since the deploy. ' +
          `Restore the settings the contracts were deployed with, or deploy this wallet's contracts (${options.deployCommand}).`,
      );
    }
  }
  const problems = await deployedContractProblems(reader, plan);
  if (problems.length) {
    const undeployed = problems.every((p) => p.notActive);
    throw new PoolContractsError(
      `the pool's contracts on ${network} cannot be used: ${problems.map((p) => p.problem).join('; ')}. ` +
        (undeployed
          ? `Deploy them (${options.deployCommand}) and wait until it reports them final.`
          : 'They were deployed by another version of the pool: run the version that deployed them, or deploy this version\'s contracts under a new chain.poolId ' +
            `(${options.deployCommand}) and point the workers' owner_address at the new distribution contract.`),
    );
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
