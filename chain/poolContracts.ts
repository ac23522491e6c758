/**
 * The pool's contracts on a chain: deploys RewardDistribution (owner = the operator wallet) when it
 * is not there yet, with a TopUp body so the deploy value is gas and storage reserve, not revenue.
 * Its address is derived from (owner, poolId), so every start finds the same contract.
 */
import type { Address } from '@ton/core';
import { rewardDistributionDeployment, topUpBody } from '../contracts/distribution.ts';
import type { LocalChain } from './localChain.ts';

export interface PoolContracts {
  distribution: Address;
}

/** nanoTON sent with the deploy: storage reserve (0.1 TON) plus gas for revenue messages. */
export const DISTRIBUTION_DEPLOY_VALUE = 10_000_000_000n;

/**
 * Deploys what is missing (idempotent).
 * @throws DeployError when the deploy transaction fails.
 */
export async function deployPoolContracts(chain: LocalChain, operatorWallet: string, poolId = 1n): Promise<PoolContracts> {
  const { init } = await rewardDistributionDeployment(chain.walletAddress(operatorWallet), poolId);
  const { address } = await chain.deploy(operatorWallet, { code: init.code!, data: init.data! }, DISTRIBUTION_DEPLOY_VALUE, topUpBody({ queryId: 0n }));
  return { distribution: address };
}
