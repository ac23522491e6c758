/** The pool's read models, configured from the pool's settings. */
import type { TelemetryLimits } from '../domain/telemetry.ts';
import { contributionsProjection } from './contributions.ts';
import { epochsProjection } from './epochs.ts';
import { memberRevenueProjection } from './memberRevenue.ts';
import { participantsProjection } from './participants.ts';
import { memberFloatsProjection } from './revenueFloats.ts';
import type { Projection } from './projection.ts';
import { reputationProjection } from './reputation.ts';
import { rewardsProjection } from './rewards.ts';
import { workerContractsProjection } from './workerContracts.ts';
import { workersProjection } from './workers.ts';
import { workerStatsProjection } from './workerStats.ts';

export interface ProjectionSettings {
  /** /jsonstats poll interval, milliseconds: uptime between two polls is credited up to 3 intervals */
  pollIntervalMs: number;
  /** see domain/reputation.ts */
  maxTaskSeconds: number;
  /** what a /jsonstats sample may claim (domain/telemetry.ts; default DEFAULT_TELEMETRY_LIMITS) */
  telemetry?: TelemetryLimits;
}

/**
 * Longest gap credited as uptime between two successful polls (and promised by each of the pool's
 * observation heartbeats, producers/observer.ts), milliseconds: 3 poll intervals.
 */
export function uptimeCreditMs(pollIntervalMs: number): number {
  return 3 * pollIntervalMs;
}

/** Every projection of the pool, in no particular order (each runs independently). */
export function poolProjections(settings: ProjectionSettings): Projection[] {
  const maxCreditMs = uptimeCreditMs(settings.pollIntervalMs);
  return [
    workersProjection({ maxCreditMs, telemetry: settings.telemetry }),
    contributionsProjection({ maxCreditMs, telemetry: settings.telemetry }),
    epochsProjection(),
    participantsProjection(),
    rewardsProjection(),
    reputationProjection({ maxTaskSeconds: settings.maxTaskSeconds }),
    memberFloatsProjection(),
    memberRevenueProjection(),
    workerContractsProjection(),
    workerStatsProjection({ maxCreditMs, telemetry: settings.telemetry }),
  ];
}
