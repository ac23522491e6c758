/**
 * Distribution actions for saga tests that stop before the chain matters (no chain runs in them):
 * signing records the epoch and returns a message that never expires; submitting does nothing.
 * Tests of the chain side use sagas/epoch/distributionActions.ts on the real local chain.
 */
import type { DistributionActions } from '../../sagas/epoch/processManager.ts';
import type { SignedMessage } from '../../sagas/epoch/state.ts';

export function recordingActions(): DistributionActions & { commits: number[] } {
  const commits: number[] = [];
  let n = 0;
  const message = (walletSequence: number): SignedMessage => ({
    wallet: '0:' + '0'.repeat(64), walletQueryId: walletSequence, walletSequence, createdAt: 0, expiresAt: 2 ** 40,
    normalizedHash: (++n).toString(16).padStart(64, '0'), messageBoc: 'AA==', walletLastLt: '0',
  });
  return {
    commits,
    sender: '0:' + '0'.repeat(64),
    storedRoot: async () => null,
    paidLeaves: async () => [],
    async signCommit(args) {
      commits.push(args.epochId);
      return message(args.walletSequence);
    },
    signBatch: async () => {
      throw new Error('no payouts in this test');
    },
    chainTime: async () => 0,
    submit: async () => undefined,
    proveExpired: async () => null,
  };
}
