/**
 * Emulated participants on the local chain: one wallet each, registered in the pool through
 * PoolOperator with the minimum stake (100 TON) and a GPU spec, once (a registered participant
 * is skipped on later starts). Joining deploys each one's forwarder (the registry does it,
 * contracts/participant_registry.tact), the owner_address of its emulated workers (emulator/pool.ts).
 */
import { createHash } from 'node:crypto';
import { Address, TupleBuilder } from '@ton/core';
import type { ChainClient } from '../chain/client.ts';
import { DEFAULT_POOL_PARAMS, REGISTER_GAS_VALUE, registerBody } from '../contracts/operator.ts';

/** Wallet name of emulated participant `k`. */
export const participantWallet = (k: number) => `participant-${k}`;

/** True when the registry lists `participant` as active. */
async function isActive(chain: ChainClient, registry: Address, participant: Address): Promise<boolean> {
  if ((await chain.getAccountState(registry)) !== 'active') return false;
  const args = new TupleBuilder();
  args.writeAddress(participant);
  const r = await chain.runGetMethod(registry, 'isActive', args.build());
  return r.exitCode === 0 && r.stack.readBoolean();
}

/**
 * Registers the participants that are not yet, each from its own wallet.
 * @throws Error when a registration transaction of the wallet fails.
 */
export async function registerEmulatedParticipants(chain: ChainClient, operator: Address, registry: Address, count: number): Promise<void> {
  for (let k = 0; k < count; k++) {
    const wallet = participantWallet(k);
    const address = chain.walletAddress(wallet);
    if (await isActive(chain, registry, address)) continue;
    const gpuSpec = createHash('sha256').update(JSON.stringify({ model: 'NVIDIA H100 80GB', participant: k })).digest('hex');
    const stake = DEFAULT_POOL_PARAMS.minStake;
    const result = await chain.send(wallet, [
      { to: operator, value: stake + REGISTER_GAS_VALUE, body: registerBody({ queryId: BigInt(k + 1), stake, gpuSpecHash: BigInt(`0x${gpuSpec}`), gpuCount: 1n + BigInt(k % 4), worker: null }) },
    ]);
    if (result.transactions.some((t) => t.aborted)) throw new Error(`registration of ${wallet} failed`);
  }
}
