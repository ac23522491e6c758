/**
 * An emulated Cocoon proxy contract paying the pool: for each worker, every interval, the
 * adjusted tokens it completed since the last payout × `worker_fee_per_token`, sent to the
 * worker's owner_address (the pool's distribution contract) as a real Cocoon payout message:
 * op 0xc59a7cd3 (`payout`), body `query_id:uint64`, non-bounceable (cocoon_proxy.fc; see
 * tests/fixtures/cocoon/README.md "On-chain money").
 */
import type { Address } from '@ton/core';
import type { Logger } from 'pino';
import type { ChainClient, WalletName } from '../chain/client.ts';
import { cocoonPayoutBody } from '../contracts/distribution.ts';
import type { EmulatedWorker } from './worker.ts';

export interface EmulatedProxyOptions {
  chain: ChainClient;
  /** the proxy's wallet on the chain */
  wallet: WalletName;
  /** owner_address the workers are configured with: the pool's distribution contract */
  pool: Address;
  workers: readonly { id: string; worker: EmulatedWorker }[];
  /** nanoTON per adjusted token (root params `worker_fee_per_token`) */
  workerFeePerToken: bigint;
  payIntervalMs: number;
  logger: Logger;
}

/** Starts paying; `stop()` ends the timer and waits for a payout in progress. */
export function startEmulatedProxy(options: EmulatedProxyOptions): { stop(): Promise<void> } {
  // tokens already paid per worker; starts at what the worker had done when the proxy started
  const paid = new Map(options.workers.map(({ id, worker }) => [id, worker.cumulativeAdjustedTokens()]));
  let queryId = BigInt(Date.now()) * 1000n;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function payRound(): Promise<void> {
    const owed = options.workers
      .map(({ id, worker }) => ({ id, tokens: worker.cumulativeAdjustedTokens() - paid.get(id)! }))
      .filter((o) => o.tokens > 0)
      .slice(0, 255); // one wallet message carries at most 255 actions; the rest next round
    if (!owed.length) return;
    const messages = owed.map((o) => ({ to: options.pool, value: BigInt(o.tokens) * options.workerFeePerToken, body: cocoonPayoutBody({ queryId: ++queryId }), bounce: false }));
    try {
      const result = await options.chain.send(options.wallet, messages);
      if (result.transactions[0]?.aborted) throw new Error('proxy wallet transaction aborted');
      for (const o of owed) paid.set(o.id, paid.get(o.id)! + o.tokens);
    } catch (err) {
      options.logger.warn({ err }, 'emulated proxy payout failed; will retry');
    }
  }

  const timer = setInterval(() => {
    if (!stopped) running = running.then(payRound);
  }, options.payIntervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
