/** The rewards Merkle tree: build it, prove leaves, read proofs (see tree.ts, readProof.ts). */
export { RewardsProofError, type RewardsProofReason, RewardsTreeError } from './errors.ts';
export { LeafStore, MAX_AMOUNT, type RewardLeaf } from './leaf.ts';
export { readRewardsProof } from './readProof.ts';
export { buildRewardsTree, EMPTY_TREE_ROOT_HEX, RewardsTree } from './tree.ts';
