/**
 * The pool's own observation time: uptime, eligibility and reputation are measured against the
 * time in which the pool itself was watching, never against wall time, so the pool being down
 * (a crash, a stop, a lost broker) makes no worker look down.
 *
 * The pool records `PoolObserving` heartbeats (schemas/observation.ts): at `atMs` it is observing
 * and promises the next heartbeat within `validForMs`. The time between two consecutive heartbeats
 * is observed up to the earlier one's promise: min(next.atMs − prev.atMs, prev.validForMs). After a
 * crash the promise runs out and the time until the next start is the pool's outage; a clean stop
 * promises nothing (validForMs 0). This mirrors how a worker's uptime is credited between two
 * successful polls (domain/contribution.ts `sampleDelta`, capped at `maxCreditMs`), so a worker
 * that answered every poll has uptime ≈ observed time.
 *
 * Like worker uptime, the time between two heartbeats counts for the epoch in which the later
 * heartbeat is stored (by the cut, stream order): deterministic on replay. Integer milliseconds.
 */

/** One heartbeat: observing at `atMs` (unix ms), next heartbeat promised within `validForMs` (ms). */
export interface ObservationBeat {
  atMs: number;
  validForMs: number;
}

/**
 * Observed milliseconds credited by heartbeat `next` after `prev`: 0 for the first heartbeat
 * (nothing before it was observed), null for one not newer than `prev` (a duplicate or
 * out-of-order delivery, to be ignored).
 */
export function observationDelta(prev: ObservationBeat | null, next: ObservationBeat): number | null {
  if (!prev) return 0;
  if (next.atMs <= prev.atMs) return null;
  return Math.min(next.atMs - prev.atMs, prev.validForMs);
}

/** Observed milliseconds of a sequence of heartbeats in stream order (older repeats ignored). */
export function observedMs(beats: readonly ObservationBeat[]): number {
  let prev: ObservationBeat | null = null;
  let total = 0;
  for (const beat of beats) {
    const delta = observationDelta(prev, beat);
    if (delta === null) continue;
    total += delta;
    prev = beat;
  }
  return total;
}
