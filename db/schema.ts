/**
 * Table types of the read models (kysely). Conventions: `numeric` columns (nanoTON, token totals)
 * come back as decimal strings; `bigint` columns (counts, unix ms, stream sequences) as numbers.
 * Migrations: db/migrations/.
 */
import type { Generated } from 'kysely';
import type { AnomalyReason, TelemetryState } from '../domain/telemetry.ts';
import type { ArtifactRef } from '../streams/artifacts.ts';


/** Decimal integer string (numeric column): nanoTON or a token total. */
export type Decimal = string;

export interface ProjectionCheckpointTable {
  name: string;
  /** last stream sequence whose effects are committed */
  position: number;
  updated_at_ms: number;
}

export interface WorkersTable {
  worker_id: string;
  participant: string | null;
  endpoint: string | null;
  /** unknown | online | offline */
  status: string;
  healthy: boolean | null;
  health_reasons: string[];
  last_seen_at_ms: number | null;
  last_poll_at_ms: number | null;
  consecutive_failures: number;
  polls_ok: number;
  polls_failed: number;
  /** credited uptime, milliseconds */
  uptime_ms: number;
  restarts: number;
  git_commit: string | null;
  model: string | null;
  owner_address: string | null;
  wallet_balance_nanoton: Decimal | null;
  adjusted_tokens: Decimal;
  /** raw cumulative totals of the last accepted sample (JSON) */
  last_totals: Record<string, number> | null;
  /** classification state (domain/telemetry.ts; JSON); null until the first sample */
  telemetry: TelemetryState | null;
  /** samples that were not credible and credited nothing */
  anomalies: number;
  /** whether the last sample was one of them */
  anomalous: boolean;
  /** the last of them: when, why */
  last_anomaly: { atMs: number; reason: AnomalyReason; detail: string } | null;
}

/** Singleton row (id = 1) per projection that attributes events to epochs by the cut. */
export interface EpochCursorTable {
  projection: string;
  current_epoch: number;
}

/**
 * Binding and last observation per worker, for restart-aware deltas (domain/contribution.ts).
 * `observed_at_ms` and `telemetry` are null until the worker's first successful poll.
 */
export interface WorkerCountersTable {
  worker_id: string;
  participant: string | null;
  observed_at_ms: number | null;
  /** classification state (domain/telemetry.ts; JSON) */
  telemetry: TelemetryState | null;
  /** was the last observation a successful poll */
  online: boolean;
}

/** Contribution of one worker for one participant in one epoch. */
export interface ContributionsTable {
  epoch_id: number;
  worker_id: string;
  participant: string;
  adjusted_tokens: Decimal;
  tasks: number;
  tasks_succeeded: number;
  /** Σ task durations, microseconds */
  task_us: number;
  /** credited uptime, milliseconds */
  uptime_ms: number;
  polls_ok: number;
  polls_failed: number;
  restarts: number;
}

/** Cocoon request ids already counted (a task line read twice counts once). */
export interface CountedTasksTable {
  request_id: string;
  epoch_id: number;
}

export interface EpochsTable {
  epoch_id: number;
  /** open | closing | computed | committed | paying | settled */
  status: string;
  started_at_ms: number | null;
  ends_at_ms: number | null;
  closed_at_ms: number | null;
  cut_sequence: number | null;
  revenue_nanoton: Decimal;
  carry_in_nanoton: Decimal | null;
  operator_fee_nanoton: Decimal | null;
  rewards_nanoton: Decimal | null;
  slashed_nanoton: Decimal | null;
  carry_out_nanoton: Decimal | null;
  eligible: number | null;
  leaf_count: number | null;
  merkle_root: string | null;
  formula_version: number | null;
  params: Record<string, number | string> | null;
  root_tx_hash: string | null;
  batches_planned: number;
  batches_confirmed: number;
  payouts_confirmed: number;
  paid_nanoton: Decimal;
  settled_at_ms: number | null;
  /** ArtifactRef of the ContributionsFrozen contributions table (JSON, streams/artifacts.ts); null before it (or when projected before migration 0009) */
  contributions_artifact: ArtifactRef | null;
  /** ArtifactRef of the RewardsComputed rewards table (JSON); null before it (or when projected before migration 0009) */
  rewards_artifact: ArtifactRef | null;
}

export interface RevenueTable {
  tx_hash: string;
  epoch_id: number;
  lt: Decimal;
  chain_time: number;
  sender: string;
  /** domain/revenue.ts RevenueKind: cocoon_payout (from a genuine Cocoon proxy) | unverified_payout | transfer | member_payout | member_backlog */
  kind: string;
  amount_nanoton: Decimal;
  query_id: string | null;
  known_proxy: boolean;
}

/** One MemberRevenueReceived transaction, booked for the epoch open when it was stored (projectors/memberRevenue.ts). */
export interface MemberRevenueReceiptsTable {
  tx_hash: string;
  epoch_id: number;
  member: string;
  /** payout | backlog */
  kind: string;
  forwarder: string;
  proxy: string | null;
  lt: Decimal;
  chain_time: number;
  amount_nanoton: Decimal;
  paid_nanoton: Decimal | null;
  verified_tokens: Decimal | null;
  known_proxy: boolean;
  counted_by_contract: boolean;
}

/** Per (epoch, member): what the chain proved the member earned (projectors/memberRevenue.ts). */
export interface MemberRevenueTable {
  epoch_id: number;
  member: string;
  /** Σ amountNanoton of the transactions the contract counted */
  verified_revenue_nanoton: Decimal;
  /** Σ paidNanoton of the payouts (what the proxies paid the forwarder) */
  paid_nanoton: Decimal;
  /** Σ verifiedTokens of the payouts from known proxies whose fee per token is known */
  verified_tokens: Decimal;
  payouts: number;
  /** Σ amountNanoton of the backlog flushes the contract counted */
  backlog_nanoton: Decimal;
}

/** Per (worker, proxy): the last check of its cached_out_tokens against its worker contract (projectors/workerContracts.ts). */
export interface WorkerContractChecksTable {
  worker_id: string;
  proxy: string;
  worker_contract: string;
  owner_address: string;
  /** /jsonstats cached_out_tokens of the checked sample, adjusted tokens */
  claimed_tokens: Decimal;
  /** the contract's `tokens`; null when it is not a genuine worker contract */
  on_chain_tokens: Decimal | null;
  /** on_chain_tokens × worker_fee_per_token, nanoTON */
  paid_nanoton: Decimal | null;
  worker_fee_per_token: Decimal;
  genuine: boolean;
  consistent: boolean;
  /** reason of the last WorkerTokensDiverged while not consistent; null when consistent */
  divergence: string | null;
  checks: number;
  divergences: number;
  sample_at_ms: number;
}

/** Per (epoch, participant) of an epoch computed with reward formula v2: its token credit (domain/rewardsV2.ts). */
export interface TokenCreditsTable {
  epoch_id: number;
  participant: string;
  claimed_tokens: Decimal;
  verified_tokens: Decimal;
  unpaid_claims_in: Decimal;
  unclaimed_payments_in: Decimal;
  credited_tokens: Decimal;
  unpaid_claims_out: Decimal;
  unclaimed_payments_out: Decimal;
  divergent: boolean;
}

/** Per worker, what attributes a cocoon wallet to a member (projectors/revenueFloats.ts). */
export interface FloatWorkersTable {
  worker_id: string;
  /** last WorkerBound participant; null before the worker is bound */
  participant: string | null;
  /** owner_address of its last sample (raw) */
  owner_address: string | null;
  /** its cocoon wallet, as its last sample reported it (raw) */
  wallet_address: string | null;
}

/** A cocoon wallet's "w" reply received by the pool: the member's float, owed, not revenue. */
export interface MemberFloatsTable {
  tx_hash: string;
  /** the pool contract that received it (raw) */
  contract: string;
  lt: Decimal;
  chain_time: number;
  wallet_address: string;
  amount_nanoton: Decimal;
  /** owed (to `participant`) | unattributed (no bound worker of the pool reports the wallet) | disputed (several members do) */
  status: string;
  participant: string | null;
  /** the workers that reported the wallet when it arrived */
  workers: string[];
}

/** One leaf of an epoch's rewards table and its payout. */
export interface RewardsTable {
  epoch_id: number;
  leaf_index: number;
  participant: string;
  amount_nanoton: Decimal;
  /** score share in parts per billion of the epoch total (for display) */
  score_ppb: number;
  /** pending | paid */
  status: string;
  /** batch | claim */
  method: string | null;
  batch: number | null;
  tx_hash: string | null;
  paid_at_ms: number | null;
}

export interface ReputationTable {
  participant: string;
  score: number;
  last_epoch_id: number;
}

export interface ReputationHistoryTable {
  participant: string;
  epoch_id: number;
  score_before: number;
  target: number;
  score_after: number;
}

/** A participant as the on-chain registry sees it (from its chain events). */
export interface ParticipantsTable {
  participant: string;
  stake_nanoton: Decimal;
  /** active | suspended | left */
  status: string;
  gpu_spec_hash: string;
  gpu_count: number;
  worker: string | null;
  registered_at_ms: number;
  pending_withdrawal_nanoton: Decimal;
  /** unix seconds when the pending withdrawal unlocks */
  unlock_at: number | null;
  slashed_nanoton: Decimal;
  slashes: number;
  /** lt of the last registry event applied: an older one delivered again is skipped */
  last_lt: Decimal;
}

/** Slashes of a participant counted for an epoch (by the cut, like contributions). */
export interface SlashesTable {
  epoch_id: number;
  participant: string;
  slashes: number;
  amount_nanoton: Decimal;
}

/** Last `PoolObserving` heartbeat per observer (domain/observation.ts). */
export interface ObservationStateTable {
  observer: string;
  at_ms: number;
  valid_for_ms: number;
}

/** Observed milliseconds of an epoch: the denominator of uptime (domain/observation.ts). */
export interface EpochObservationsTable {
  epoch_id: number;
  observed_ms: number;
  heartbeats: number;
}

/** The stream the read models and their checkpoints belong to (one row, id = 1). */
export interface StreamIdentityTable {
  id: number;
  stream: string;
  /** the stream's creation time as JetStream reports it (ISO 8601) */
  created: string;
  recorded_at_ms: number;
}

/** An operator's alert rule (read-api/alerts.ts, alerts/rules.ts); not a projection. */
export interface AlertRulesTable {
  rule_id: string;
  description: string | null;
  /** the event types that trigger it (alerts/rules.ts ALERT_EVENT_TYPES) */
  event_types: string[];
  /** only events of this worker; null = every worker */
  worker_id: string | null;
  /** webhook, http(s) */
  url: string;
  /** HMAC-SHA256 key of the X-Pool-Signature header; null = unsigned */
  secret: string | null;
  /** stream sequence when it was created: only later events trigger it */
  from_sequence: number;
  created_at_ms: number;
}

/** One delivery of one event to one rule's webhook, final (delivered after n attempts, or failed). */
export interface AlertDeliveriesTable {
  delivery_id: Generated<number>;
  rule_id: string;
  url: string;
  event_sequence: number;
  event_type: string;
  event_id: string;
  /** delivered | failed */
  status: string;
  attempts: number;
  /** HTTP status of the last attempt; null when it got no answer */
  response_status: number | null;
  last_error: string | null;
  finished_at_ms: number;
}

/** Singleton (id = 1): the stream sequence up to which the alert dispatcher has delivered. */
export interface AlertDispatchTable {
  id: number;
  position: number;
}

/**
 * What one worker was credited in one UTC minute (projectors/workerStats.ts): the amounts the
 * contributions projection credits, bucketed by the time of the observation instead of by epoch.
 */
export interface WorkerStatsMinutesTable {
  worker_id: string;
  /** unix ms of the minute's start (a multiple of 60 000) */
  bucket_start_ms: number;
  adjusted_tokens: Decimal;
  tasks: number;
  tasks_succeeded: number;
  /** credited uptime inside this minute, milliseconds (≤ 60 000) */
  uptime_ms: number;
  polls_ok: number;
  polls_failed: number;
}

/** The worker-stats projection's own copy of {@link WorkerCountersTable} (projections own disjoint tables). */
export type WorkerStatsCountersTable = WorkerCountersTable;

export interface Database {
  projection_checkpoints: ProjectionCheckpointTable;
  workers: WorkersTable;
  epoch_cursors: EpochCursorTable;
  worker_counters: WorkerCountersTable;
  contributions: ContributionsTable;
  counted_tasks: CountedTasksTable;
  epochs: EpochsTable;
  revenue: RevenueTable;
  float_workers: FloatWorkersTable;
  member_floats: MemberFloatsTable;
  member_revenue_receipts: MemberRevenueReceiptsTable;
  member_revenue: MemberRevenueTable;
  token_credits: TokenCreditsTable;
  worker_contract_checks: WorkerContractChecksTable;
  rewards: RewardsTable;
  reputation: ReputationTable;
  reputation_history: ReputationHistoryTable;
  participants: ParticipantsTable;
  slashes: SlashesTable;
  counted_slashes: { tx_hash: string; epoch_id: number };
  observation_state: ObservationStateTable;
  epoch_observations: EpochObservationsTable;
  stream_identity: StreamIdentityTable;
  alert_rules: AlertRulesTable;
  alert_deliveries: AlertDeliveriesTable;
  alert_dispatch: AlertDispatchTable;
  worker_stats_minutes: WorkerStatsMinutesTable;
  worker_stats_counters: WorkerStatsCountersTable;
  /** Cocoon request ids the worker-stats projection has counted */
  worker_stats_tasks: { request_id: string };
  kysely_migration: { name: string; timestamp: string };
}
