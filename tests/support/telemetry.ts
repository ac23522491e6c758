/** A Cocoon worker process for telemetry tests: totals and decayed rates exactly as /jsonstats prints them. */
import { COUNTER_KEYS, type CounterKey, type TelemetrySample } from '../../domain/telemetry.ts';
import { AmortCounter } from '../../emulator/amortCounter.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';

export const OWNER = `0:${'a'.repeat(64)}`;
export const WALLET = `0:${'b'.repeat(64)}`;
const round6 = (x: number) => Math.round(x * 1e6) / 1e6; // what %.6f prints

/**
 * A worker process modelled with the emulator's AmortCounter (cocoon AmortCounter.h): its samples
 * carry totals and decayed rates exactly as /jsonstats prints them.
 */
export class Process {
  private readonly counters: Record<CounterKey, AmortCounter>;
  constructor(
    readonly startedAtS: number,
    readonly gitCommit = 'b75d4447',
  ) {
    this.counters = Object.fromEntries(COUNTER_KEYS.map((k) => [k, new AmortCounter(startedAtS)])) as Record<CounterKey, AmortCounter>;
  }
  /** `n` requests of `tokens` adjusted tokens each at `atS`. */
  work(atS: number, n: number, tokens = 100): this {
    for (let i = 0; i < n; i++) {
      for (const [k, v] of [['queries', 1], ['success', 1], ['bytesReceived', 900], ['bytesSent', 4000], ['timeSeconds', 1.25], ['totalAdjustedTokens', tokens], ['promptAdjustedTokens', tokens / 2], ['completionAdjustedTokens', tokens / 2]] as const) {
        this.counters[k].add(v, atS);
      }
    }
    return this;
  }
  /** Works steadily: one request every `everyS` seconds from `fromS` to `toS`. */
  steady(fromS: number, toS: number, everyS = 1): this {
    for (let t = fromS; t < toS; t += everyS) this.work(t, 1);
    return this;
  }
  sample(atS: number, over: Partial<TelemetrySample> = {}): TelemetrySample {
    const totals = {} as TelemetrySample['totals'];
    const rates = {} as NonNullable<TelemetrySample['rates']>;
    for (const k of COUNTER_KEYS) {
      const [total, ...r] = this.counters[k].read(atS).map(round6);
      totals[k] = total!;
      rates[k] = r;
    }
    return { observedAtMs: Math.round(atS * 1000), pollMs: 3, gitCommit: this.gitCommit, totals, rates, ownerAddress: OWNER, walletAddress: WALLET, ...over };
  }
}


/** A WorkerStatsSampled event carrying `s` (healthy, as the poller appends it). */
export function sampledEvent(workerId: string, s: TelemetrySample): PoolEvent {
  return {
    type: 'WorkerStatsSampled',
    version: 1,
    id: `stats:${workerId}:${s.observedAtMs}`,
    data: {
      workerId,
      observedAtMs: s.observedAtMs,
      pollMs: s.pollMs,
      gitCommit: s.gitCommit,
      totals: s.totals,
      ...(s.rates ? { rates: s.rates } : {}),
      health: { healthy: true, reasons: [], walletBalanceNanoton: '4731250113', tonLastSyncedAt: 1 },
      ownerAddress: s.ownerAddress,
      walletAddress: s.walletAddress,
      model: 'Qwen/Qwen3-8B',
    },
  };
}
