/**
 * Health of a Cocoon worker as seen in its `/jsonstats` (rule from the shared Cocoon README,
 * "Worker observability"; thresholds from runtime-constants.json).
 */
import type { WorkerStats } from './jsonstats.ts';

/** Root-contract state older than this is not "synced" (WorkerRunner.cpp:570-581: synced iff age < 600 s). */
export const TON_SYNC_MAX_AGE_SECONDS = 600;
/** The worker's own "balance too low" threshold, nanoTON (BaseRunner.hpp:335-337 min_wallet_balance). */
export const MIN_WALLET_BALANCE_NANOTON = 2_100_000_000n;

export type WorkerHealthReason =
  /** status.ton_last_synced_at is absent: the worker never read the root contract. */
  | 'ton-never-synced'
  /** status.ton_last_synced_at is more than 600 s before now. */
  | 'ton-out-of-sync'
  /** status.actual_image_hash is false: the TDX image is not in the root contract's worker_hashes. */
  | 'image-hash-not-in-root'
  /** status.actual_model is false: sha256(model) is not in the root contract's model_hashes. */
  | 'model-not-in-root'
  /** status.wallet_balance is absent: the Cocoon wallet is not initialised. */
  | 'wallet-not-initialised'
  /** status.wallet_balance < 2.1 TON. */
  | 'wallet-balance-low';

export interface WorkerHealth {
  healthy: boolean;
  /** Every rule that failed, in the order listed in {@link WorkerHealthReason}; empty when healthy. */
  reasons: WorkerHealthReason[];
}

/**
 * Applies the README rule: a worker is unhealthy when `ton_last_synced_at` is over 600 s old
 * (`nowSeconds - tonLastSyncedAt > 600`), `actual_image_hash` or `actual_model` is false, or the
 * wallet balance is under 2.1 TON (2_100_000_000 nanoTON). A worker that has not yet synced or has
 * no wallet is unhealthy too (it cannot serve). Pure; `nowSeconds` is unix seconds.
 */
export function workerHealth(stats: WorkerStats, nowSeconds: number): WorkerHealth {
  const reasons: WorkerHealthReason[] = [];
  const { status } = stats;
  if (status.tonLastSyncedAt === null) reasons.push('ton-never-synced');
  else if (nowSeconds - status.tonLastSyncedAt > TON_SYNC_MAX_AGE_SECONDS) reasons.push('ton-out-of-sync');
  if (!status.actualImageHash) reasons.push('image-hash-not-in-root');
  if (!status.actualModel) reasons.push('model-not-in-root');
  if (status.walletBalanceNanoton === null) reasons.push('wallet-not-initialised');
  else if (status.walletBalanceNanoton < MIN_WALLET_BALANCE_NANOTON) reasons.push('wallet-balance-low');
  return { healthy: reasons.length === 0, reasons };
}
