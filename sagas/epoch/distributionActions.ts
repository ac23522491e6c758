/**
 * The epoch saga's chain actions on the RewardDistribution contract, sent from the operator's
 * highload wallet v3 (chain/wallet/highloadV3.ts) over the chain port (chain/client.ts): get-methods
 * and chain time from a ChainReader, signed external messages through a ChainSender. Values
 * attached cover gas and forward fees with a margin; the contract returns the rest (excesses).
 * Submitting means only "accepted for broadcast": confirmation comes from the chain indexer.
 */
import { Address, Cell, TupleBuilder, type Transaction } from '@ton/core';
import type { ChainReader, ChainSender } from '../../chain/client.ts';
import { normalizedMessageHash } from '../../chain/messageHash.ts';
import type { OperatorWallet } from '../../chain/poolContracts.ts';
import { HighloadQueryId, signTransfer } from '../../chain/wallet/highloadV3.ts';
import { loadTupleEpochInfo } from '../../contracts/build/RewardDistribution/RewardDistribution_RewardDistribution.ts';
import { batchValue, commitEpochRootBody, payoutBatchBody, rootToUint } from '../../contracts/distribution.ts';
import type { DistributionActions } from './processManager.ts';
import type { SignedMessage } from './state.ts';

/** Basechain prices used to size attached values: nanoTON per gas unit, per one-cell message. */
const GAS_PRICE = 400n;
const FORWARD_FEE = 1_000_000n;
const COMMIT_VALUE = 200_000_000n;

/**
 * Wallet query_ids the saga signs with: sequence `walletSequence mod SAGA_QUERY_IDS` (reused only
 * after 8,380,413 messages, long after the wallet's timeout); the three above are kept for the
 * local set-up and emergencies (cli/start.ts).
 */
export const SAGA_QUERY_IDS = 8_380_413;

/** Transactions read per page while proving a message expired. */
const PAGE = 100;

/** The wallet's transactions did not link: the proof of absence could not read a contiguous history. */
export class WalletHistoryGapError extends Error {
  override name = 'WalletHistoryGapError';
}

/**
 * `DistributionActions` over `reader` + `sender` for `wallet`, paying `distribution`.
 * Signing takes `createdAt` from `reader.chainTime()` (the wallet checks created_at against the
 * block's time, not the local clock) and the wallet query_id from the saga's wallet sequence
 * (HighloadQueryId.fromSequence; the saga never reuses one within the wallet's timeout).
 */
export function distributionActions(reader: ChainReader, sender: ChainSender, wallet: OperatorWallet, distribution: Address): DistributionActions {
  async function sign(body: Cell, value: bigint, walletSequence: number): Promise<SignedMessage> {
    const [createdAt, account] = await Promise.all([reader.chainTime(), reader.getAccount(wallet.address)]);
    const signed = signTransfer({
      secretKey: wallet.keyPair.secretKey, publicKey: wallet.keyPair.publicKey, walletAddress: wallet.address,
      subwalletId: wallet.config.subwalletId, timeout: wallet.config.timeout, queryId: HighloadQueryId.fromSequence(walletSequence % SAGA_QUERY_IDS),
      createdAt, messages: [{ to: distribution, value, body, bounce: true }],
    });
    return {
      wallet: wallet.address.toRawString(),
      walletQueryId: Number(signed.queryId.toBigInt()),
      walletSequence,
      createdAt: signed.createdAt,
      expiresAt: signed.expiresAt,
      normalizedHash: signed.normalizedHash.toString('hex'),
      messageBoc: signed.message.toBoc().toString('base64'),
      walletLastLt: String(account.lastTransaction?.lt ?? 0n),
    };
  }

  return {
    sender: wallet.address.toRawString(),
    async storedRoot(epochId) {
      const args = new TupleBuilder();
      args.writeNumber(epochId);
      const r = await reader.runGetMethod(distribution, 'epoch', args.build());
      if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`distribution getter epoch(${epochId}) failed with exit code ${r.exitCode}`);
      const info = r.stack.readTupleOpt();
      return info ? loadTupleEpochInfo(info).root.toString(16).padStart(64, '0') : null;
    },
    async paidLeaves(epochId, fromIndex, count) {
      const paid: number[] = [];
      for (let i = fromIndex; i < fromIndex + count; i++) {
        const args = new TupleBuilder();
        args.writeNumber(epochId);
        args.writeNumber(i);
        const r = await reader.runGetMethod(distribution, 'isClaimed', args.build());
        if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`distribution getter isClaimed(${epochId}, ${i}) failed with exit code ${r.exitCode}`);
        if (r.stack.readBoolean()) paid.push(i);
      }
      return paid;
    },
    signCommit(a) {
      const body = commitEpochRootBody({ queryId: a.queryId, epochId: BigInt(a.epochId), root: rootToUint(a.root), leafCount: BigInt(a.leafCount), total: a.totalNanoton, operatorFee: a.operatorFeeNanoton });
      return sign(body, COMMIT_VALUE, a.walletSequence);
    },
    signBatch(a) {
      const body = payoutBatchBody({ queryId: a.queryId, epochId: BigInt(a.epochId), fromIndex: BigInt(a.fromIndex), count: BigInt(a.count), proof: a.proof });
      return sign(body, 2n * batchValue(a.count, GAS_PRICE, FORWARD_FEE), a.walletSequence);
    },
    chainTime: () => reader.chainTime(),
    async submit(message) {
      await sender.sendMessage(Cell.fromBase64(message.messageBoc));
    },
    proveExpired: (message) => proveExpired(reader, wallet.address, message),
  };
}

/** True when `tx`'s in-message is the external message with normalized hash `hash` (hex). */
function carries(tx: Transaction, hash: string): boolean {
  return tx.inMessage?.info.type === 'external-in' && normalizedMessageHash(tx.inMessage).toString('hex') === hash;
}

/**
 * Proof that `message` never ran on `wallet`: the final chain time is at or past its expiry (the
 * wallet refuses it at every later block), and the wallet's final transactions after
 * `walletLastLt`, read oldest first up to the account's last transaction (read after the chain
 * time, so at a final block no older than it) and checked to link by prevTransactionLt, hold none
 * with its normalized hash. Null when it is not expired yet or it ran.
 * @throws WalletHistoryGapError when the transactions do not link; the reader's errors.
 */
export async function proveExpired(reader: ChainReader, wallet: Address, message: SignedMessage): Promise<{ chainTime: number; checkedThroughLt: bigint } | null> {
  const chainTime = await reader.chainTime();
  if (chainTime < message.expiresAt) return null;
  const last = (await reader.getAccount(wallet)).lastTransaction?.lt ?? 0n;
  let after = BigInt(message.walletLastLt);
  while (after < last) {
    const txs = await reader.getTransactions(wallet, { afterLt: after, limit: PAGE });
    if (!txs.length) throw new WalletHistoryGapError(`wallet ${wallet.toRawString()}: no transactions after lt ${after}, the account's last is ${last}`);
    for (const tx of txs) {
      if (tx.lt > last) return { chainTime, checkedThroughLt: last };
      if (after !== 0n && tx.prevTransactionLt !== after) throw new WalletHistoryGapError(`wallet ${wallet.toRawString()}: transaction lt ${tx.lt} follows lt ${tx.prevTransactionLt}, expected ${after}`);
      if (carries(tx, message.normalizedHash)) return null;
      after = tx.lt;
    }
  }
  return { chainTime, checkedThroughLt: last };
}
