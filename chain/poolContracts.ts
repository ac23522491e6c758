/**
 * The pool's contracts on a chain: RewardDistribution (deployed with a TopUp body so the deploy
 * value is gas and storage reserve, not revenue) and PoolOperator, which deploys its
 * ParticipantRegistry on its first message. The operator wallet owns all three; their addresses
 * derive from (owner, poolId), so every start finds the same contracts. Deploying is idempotent.
 */
import type { Address } from '@ton/core';
import { rewardDistributionDeployment, topUpBody } from '../contracts/distribution.ts';
import { poolOperatorDeployment } from '../contracts/operator.ts';
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
