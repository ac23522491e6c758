/**
 * Emulated participants on the local chain: one wallet each, registered in the pool through
 * PoolOperator with the minimum stake (100 TON) and a GPU spec, once (a registered participant
 * is skipped on later starts). Joining deploys each one's forwarder (the registry does it,
 * contracts/participant_registry.tact), the owner_address of its emulated workers (emulator/pool.ts).
 * The registrations are sent in batches ({@link REGISTRATION_BATCH} wallets' sends persisted as
 * one group: LocalChain.sendEach), not one durable send after another.
 */
import { createHash } from 'node:crypto';
import { Address, TupleBuilder } from '@ton/core';
import type { ChainClient, OutgoingMessage, SendResult } from '../chain/client.ts';
import { DEFAULT_POOL_PARAMS, REGISTER_GAS_VALUE, registerBody } from '../contracts/operator.ts';

/** Wallet name of emulated participant `k`. */
export const participantWallet = (k: number) => `participant-${k}`;

/** Registrations sent (and persisted) together. */
export const REGISTRATION_BATCH = 500;

/** What registering needs of the chain: reads, and several wallets' sends in one batch (LocalChain). */
export type RegistrationChain = Pick<ChainClient, 'getAccountState' | 'runGetMethod' | 'walletAddress'> & {
  sendEach(sends: readonly { from: string; messages: OutgoingMessage[] }[]): Promise<SendResult[]>;
};

/** The registry's counts: `info()` of contracts/participant_registry.tact (its first 8 results). */
async function registryCounts(chain: RegistrationChain, registry: Address): Promise<{ maxParticipants: number; participantCount: number }> {
  const r = await chain.runGetMethod(registry, 'info');
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`registry ${registry.toRawString()} info() failed with exit code ${r.exitCode}`);
  r.stack.readAddress(); // operator
  r.stack.readAddress(); // owner
  r.stack.readBigNumber(); // poolId
  r.stack.readBoolean(); // paused
  r.stack.readBigNumber(); // minStake
  const maxParticipants = Number(r.stack.readBigNumber());
  r.stack.readBigNumber(); // withdrawalDelay
  return { maxParticipants, participantCount: Number(r.stack.readBigNumber()) };
}

/** True when the registry lists `participant` as active. */
async function isActive(chain: RegistrationChain, registry: Address, participant: Address): Promise<boolean> {
  const args = new TupleBuilder();
  args.writeAddress(participant);
  const r = await chain.runGetMethod(registry, 'isActive', args.build());
  return r.exitCode === 0 && r.stack.readBoolean();
}

/**
 * Registers the participants 0..count-1 that are not yet, each from its own wallet, in batches.
 * Those registered are found by a binary search (they are a prefix: see below); on a registry
 * with no participant yet nothing is looked up.
 * @returns how many were registered now.
 * @throws Error when `count` exceeds the registry's maxParticipants (a pool parameter: the pool
 *   contract's default is 1,000; raising it is a ProposeParams/ApplyParams of the owner); when
 *   the registry is not deployed; when a registration transaction fails or is refused.
 */
export async function registerEmulatedParticipants(chain: RegistrationChain, operator: Address, registry: Address, count: number): Promise<number> {
  if ((await chain.getAccountState(registry)) !== 'active') throw new Error(`the registry ${registry.toRawString()} is not deployed`);
  const { maxParticipants, participantCount } = await registryCounts(chain, registry);
  if (count > maxParticipants) {
    throw new Error(`${count} emulated participants, but the pool's registry admits ${maxParticipants} (pool parameter maxParticipants; the owner raises it with ProposeParams + ApplyParams); use --participants ${maxParticipants} or fewer (workers are not limited: they are spread over the participants)`);
  }
  // the emulated participants register in order, each batch one durable group: those registered are
  // a prefix 0..m-1, found by a binary search (a get-method on a large registry costs tens of ms)
  const registered = async (k: number) => isActive(chain, registry, chain.walletAddress(participantWallet(k)));
  let [lo, hi] = [0, participantCount === 0 ? 0 : count]; // the first unregistered participant is in [lo, hi]
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (await registered(mid)) lo = mid + 1;
    else hi = mid;
  }
  const missing = Array.from({ length: count - lo }, (_, i) => lo + i);
  const stake = DEFAULT_POOL_PARAMS.minStake;
  for (let i = 0; i < missing.length; i += REGISTRATION_BATCH) {
    const batch = missing.slice(i, i + REGISTRATION_BATCH);
    const results = await chain.sendEach(
      batch.map((k) => {
        const gpuSpec = createHash('sha256').update(JSON.stringify({ model: 'NVIDIA H100 80GB', participant: k })).digest('hex');
        const body = registerBody({ queryId: BigInt(k + 1), stake, gpuSpecHash: BigInt(`0x${gpuSpec}`), gpuCount: 1n + BigInt(k % 4), worker: null });
        return { from: participantWallet(k), messages: [{ to: operator, value: stake + REGISTER_GAS_VALUE, body }] };
      }),
    );
    results.forEach((r, j) => {
      if (r.transactions.some((t) => t.aborted)) throw new Error(`registration of ${participantWallet(batch[j]!)} failed`);
    });
  }
  if (missing.length) {
    const after = await registryCounts(chain, registry);
    if (after.participantCount < participantCount + missing.length) {
      throw new Error(`the registry refused ${participantCount + missing.length - after.participantCount} of ${missing.length} registrations (it lists ${after.participantCount} participants)`);
    }
  }
  return missing.length;
}
