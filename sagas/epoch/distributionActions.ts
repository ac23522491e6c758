/**
 * The epoch saga's chain actions on the RewardDistribution contract, sent from the operator
 * wallet. Values attached cover gas and forward fees with a margin; the contract returns the rest
 * (excesses). A send resolving means only "sent": confirmation comes from the chain indexer.
 */
import type { Address } from '@ton/core';
import type { ChainClient } from '../../chain/client.ts';
import { batchValue, commitEpochRootBody, payoutBatchBody, rootToUint } from '../../contracts/distribution.ts';
import type { DistributionActions } from './processManager.ts';

/** Basechain prices used to size attached values: nanoTON per gas unit, per one-cell message. */
const GAS_PRICE = 400n;
const FORWARD_FEE = 1_000_000n;
const COMMIT_VALUE = 200_000_000n;

/** Thrown when the operator wallet's own transaction failed: nothing reached the contract. */
export class OperatorSendError extends Error {
  override name = 'OperatorSendError';
}

export function distributionActions(chain: ChainClient, operatorWallet: string, distribution: Address): DistributionActions {
  async function send(body: import('@ton/core').Cell, value: bigint) {
    const result = await chain.send(operatorWallet, [{ to: distribution, value, body, bounce: true }]);
    if (result.transactions[0]?.aborted) throw new OperatorSendError(`operator wallet transaction aborted (exit ${result.transactions[0].exitCode})`);
  }
  return {
    sender: chain.walletAddress(operatorWallet).toRawString(),
    async commitRoot(a) {
      await send(
        commitEpochRootBody({ queryId: a.queryId, epochId: BigInt(a.epochId), root: rootToUint(a.root), leafCount: BigInt(a.leafCount), total: a.totalNanoton, operatorFee: a.operatorFeeNanoton }),
        COMMIT_VALUE,
      );
    },
    async payBatch(a) {
      await send(
        payoutBatchBody({ queryId: a.queryId, epochId: BigInt(a.epochId), fromIndex: BigInt(a.fromIndex), count: BigInt(a.count), proof: a.proof }),
        2n * batchValue(a.count, GAS_PRICE, FORWARD_FEE),
      );
    },
  };
}
