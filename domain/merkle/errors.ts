/** Bad input to the rewards tree: a leaf that cannot be paid, or a proof request outside it. */
export class RewardsTreeError extends Error {
  override name = 'RewardsTreeError';
}

/** Why a rewards proof was rejected (see readRewardsProof). */
export type RewardsProofReason =
  /** not an exotic Merkle-proof cell (type 3) of 280 bits and one reference */
  | 'not-merkle-proof'
  /** the hash the proof commits to is not the expected root */
  | 'wrong-root'
  /** the stored hash or depth differs from the recomputed hash or depth of the proven cell */
  | 'hash-mismatch'
  /** the proven cell is not a rewards dictionary (bad label, leaf value, pruned cell, refs) */
  | 'malformed';

/** A rewards Merkle proof that does not prove leaves of the expected root. */
export class RewardsProofError extends Error {
  override name = 'RewardsProofError';

  constructor(
    readonly reason: RewardsProofReason,
    message: string,
  ) {
    super(`${reason}: ${message}`);
  }
}
