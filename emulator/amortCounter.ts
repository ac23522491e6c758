/**
 * One `stats.*` counter of a Cocoon worker (cocoon runners/helpers/AmortCounter.h): a cumulative
 * total since process start plus six exponentially decayed accumulators with time constants
 * 1s, 10s, 1m, 10m, 1h, 1d. `read()` gives the 7 numbers `/jsonstats` prints: [0] the total,
 * [1..6] the decayed accumulators divided by their period, i.e. per-second RATES (shared Cocoon
 * README / worker-jsonstats.schema.json "value*1/period").
 */
const AMORT_PERIODS_SECONDS = [1, 10, 60, 600, 3600, 86400] as const;

export class AmortCounter {
  private total = 0;
  private readonly decayed = AMORT_PERIODS_SECONDS.map(() => 0);
  private lastSeconds: number;

  constructor(nowSeconds: number) {
    this.lastSeconds = nowSeconds;
  }

  /** Adds `amount` at time `nowSeconds` (seconds, any monotonic origin). */
  add(amount: number, nowSeconds: number): void {
    this.relax(nowSeconds);
    this.total += amount;
    for (let i = 0; i < this.decayed.length; i++) this.decayed[i]! += amount;
  }

  /** [total, rate 1s, rate 10s, rate 1m, rate 10m, rate 1h, rate 1d] at `nowSeconds`. */
  read(nowSeconds: number): number[] {
    this.relax(nowSeconds);
    return [this.total, ...this.decayed.map((v, i) => v / AMORT_PERIODS_SECONDS[i]!)];
  }

  private relax(nowSeconds: number): void {
    const dt = Math.max(0, nowSeconds - this.lastSeconds);
    for (let i = 0; i < this.decayed.length; i++) this.decayed[i]! *= Math.exp(-dt / AMORT_PERIODS_SECONDS[i]!);
    this.lastSeconds = Math.max(this.lastSeconds, nowSeconds);
  }
}
