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
 */
import type { Address, Cell } from '@ton/core';
import { rewardDistributionDeployment, topUpBody } from '../contracts/distribution.ts';
import { poolOperatorDeployment } from '../contracts/operator.ts';
import type { EventStore } from '../streams/eventStore.ts';
import type { LocalChain } from './localChain.ts';

export interface PoolContracts {
  distribution: Address;
  operator: Address;
  registry: Address;
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
  const operator = await poolOperatorDeployment(ownerAddress, poolId);
  await deployFromWallet({ code: operator.init.code!, data: operator.init.data! }, OPERATOR_DEPLOY_VALUE);
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
 * @param owner the contracts' owner (their addresses derive from it); default the `operatorWallet` that deploys them.
 * @throws ChainMismatchError saying what differs and what to do.
 * @throws DeployError when a deploy transaction fails; the event store's errors.
 */
export async function openPoolContracts(chain: LocalChain, operatorWallet: string, store: EventStore, chainDir: string, poolId = 1n, owner?: ContractOwner): Promise<PoolContracts> {
  const ownerAddress = owner?.address ?? chain.walletAddress(operatorWallet);
  const [distribution, operator] = await Promise.all([rewardDistributionDeployment(ownerAddress, poolId), poolOperatorDeployment(ownerAddress, poolId)]);
  const expected: PoolContracts = { distribution: distribution.address, operator: operator.address, registry: operator.registry };
  const refuse = (what: string) =>
    new ChainMismatchError(
      `the event stream's history names another chain than the one in ${chainDir}: ${what}. The local chain's state was lost or replaced, or this version's contract code or owner differs from the deployed one (the owner is now the operator's highload wallet: a data dir from before it needs a fresh start), ` +
        'so the epochs, roots and payouts the stream records are not on it (running on would resend them to contracts that never saw them). ' +
        `Restore ${chainDir} from a backup taken with the rest of this data dir, or start a fresh data dir (--data-dir) with a fresh stream.`,
    );

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

  const contracts = await deployPoolContracts(chain, operatorWallet, poolId, owner);
  if (!recorded) {
    const [first] = await chain.getTransactions(contracts.distribution, { limit: 1 });
    const deployTxHash = first!.hash().toString('hex');
    await store.append(
      CHAIN_IDENTITY_SUBJECT,
      {
        type: 'PoolContractsDeployed',
        version: 1,
        id: `contracts:${deployTxHash}`,
        data: {
          distribution: contracts.distribution.toRawString(), operator: contracts.operator.toRawString(), registry: contracts.registry.toRawString(),
          deployTxHash, deployLt: String(first!.lt),
        },
      },
      { expectedLastSubjectSequence: 0 },
    );
  }
  return contracts;
}
