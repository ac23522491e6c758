/**
 * Contribution read model: per epoch, per worker and the participant it was bound to — adjusted
 * tokens (restart-aware deltas of /jsonstats totals, domain/contribution.ts), tasks and their
 * success and seconds (log lines, each Cocoon request id counted once ever), uptime seconds and
 * polls (a sample that is not credible, domain/telemetry.ts, credits no tokens); and per epoch and
 * participant the slashes the registry recorded (ParticipantSlashed); and per epoch the time the
 * pool itself was observing (PoolObserving heartbeats, domain/observation.ts), the denominator of
 * uptime. Events count for the epoch open when they were stored (projectors/epochCursor.ts).
 * The epoch saga freezes an epoch from these rows once this projection has passed the cut.
 */
import { sql } from 'kysely';
import { afterFailure, afterSample, sampleDelta, type CounterState } from '../domain/contribution.ts';
import { DEFAULT_TELEMETRY_LIMITS, EMPTY_TELEMETRY, telemetrySample, type TelemetryLimits } from '../domain/telemetry.ts';
import { observationDelta, type ObservationBeat } from '../domain/observation.ts';
import type { ContributionsTable, Database } from '../db/schema.ts';
import type { RecordedEvent } from '../schemas/catalog.ts';
import { epochAfterCut, loadCurrentEpoch, saveCurrentEpoch } from './epochCursor.ts';
import type { Projection, ProjectionContext } from './projection.ts';
import { addRows, insertNew, jsonColumns, jsonRows } from './rows.ts';

export const CONTRIBUTIONS_PROJECTION = 'contributions';

interface Counter {
  participant: string | null;
  state: CounterState | null;
  dirty: boolean;
}

/** A contributions row being accumulated in memory (tokens as a number until written). */
type Increment = Omit<ContributionsTable, 'adjusted_tokens'> & { adjusted_tokens: number };

export interface ContributionsOptions {
  /** Cap on uptime credited between two successful polls, milliseconds (e.g. 3 × poll interval). */
  maxCreditMs: number;
  /** what a sample may claim (domain/telemetry.ts; default DEFAULT_TELEMETRY_LIMITS); an anomaly credits no tokens */
  telemetry?: TelemetryLimits;
}

/** Creates the contributions projection. */
export function contributionsProjection(options: ContributionsOptions): Projection {
  return {
    name: CONTRIBUTIONS_PROJECTION,
    canHandle: ['WorkerBound', 'WorkerStatsSampled', 'WorkerPollFailed', 'TaskCompleted', 'EpochClosing', 'ParticipantSlashed', 'PoolObserving'],
    tables: ['contributions', 'worker_counters', 'counted_tasks', 'slashes', 'counted_slashes', 'observation_state', 'epoch_observations'],
    handle: (events, ctx) => apply(events, ctx, options),
  };
}

async function apply(events: readonly RecordedEvent[], { db }: ProjectionContext, options: ContributionsOptions): Promise<void> {
  let epoch = await loadCurrentEpoch(db, CONTRIBUTIONS_PROJECTION);
  const startEpoch = epoch;

  const workerIds = [...new Set(events.flatMap((e) => ('workerId' in e.data ? [e.data.workerId as string] : [])))];
  const counters = new Map<string, Counter>();
  if (workerIds.length) {
    const rows = await db.selectFrom('worker_counters').selectAll().where('worker_id', 'in', workerIds).execute();
    for (const r of rows) {
      counters.set(r.worker_id, {
        participant: r.participant,
        state: r.observed_at_ms === null ? null : { observedAtMs: r.observed_at_ms, online: r.online, telemetry: r.telemetry ?? EMPTY_TELEMETRY },
        dirty: false,
      });
    }
  }
  const counter = (id: string): Counter => {
    let c = counters.get(id);
    if (!c) counters.set(id, (c = { participant: null, state: null, dirty: true }));
    return c;
  };

  // Claim every request id of the batch in one statement: the ids that come back are new and count
  // (once: `fresh.delete`); the others were counted before. Each id is claimed for the epoch its event
  // falls in, which depends only on the cuts before it.
  const claims = new Map<string, number>();
  for (let at = epoch, i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === 'EpochClosing') at = epochAfterCut(at, e.data.epochId);
    else if (e.type === 'TaskCompleted' && !claims.has(e.data.requestId)) claims.set(e.data.requestId, at);
  }
  const fresh = await insertNew(db, 'counted_tasks', 'request_id', [...claims].map(([request_id, epoch_id]) => ({ request_id, epoch_id })));

  const increments = new Map<string, Increment>();
  const inc = (workerId: string, participant: string): Increment => {
    const key = `${epoch}|${workerId}|${participant}`;
    let row = increments.get(key);
    if (!row) {
      row = { epoch_id: epoch, worker_id: workerId, participant, adjusted_tokens: 0, tasks: 0, tasks_succeeded: 0, task_us: 0, uptime_ms: 0, polls_ok: 0, polls_failed: 0, restarts: 0 };
      increments.set(key, row);
    }
    return row;
  };
  const openedFor: { epoch: number }[] = [];
  const slashes = new Map<string, { epoch_id: number; participant: string; slashes: number; amount: bigint }>();
  const slashTxs = events.flatMap((e) => (e.type === 'ParticipantSlashed' ? [e.data.txHash] : []));
  const countedSlashes = new Set<string>();
  if (slashTxs.length) {
    for (const r of await db.selectFrom('counted_slashes').select('tx_hash').where('tx_hash', 'in', slashTxs).execute()) countedSlashes.add(r.tx_hash);
  }
  const newSlashTxs: { tx_hash: string; epoch_id: number }[] = [];
  // the pool's own heartbeats: last one per observer, observed ms per epoch
  const beats = new Map<string, ObservationBeat>();
  const dirtyBeats = new Set<string>();
  if (events.some((e) => e.type === 'PoolObserving')) {
    for (const r of await db.selectFrom('observation_state').selectAll().execute()) beats.set(r.observer, { atMs: Number(r.at_ms), validForMs: Number(r.valid_for_ms) });
  }
  const observed = new Map<number, { observed_ms: number; heartbeats: number }>();

  for (const e of events) {
    switch (e.type) {
      case 'WorkerBound': {
        const c = counter(e.data.workerId);
        c.participant = e.data.participant;
        c.dirty = true;
        inc(e.data.workerId, e.data.participant); // the worker is expected to work this epoch
        break;
      }
      case 'WorkerStatsSampled': {
        const c = counter(e.data.workerId);
        const sample = telemetrySample(e.data);
        const delta = sampleDelta(c.state, sample, options.maxCreditMs, options.telemetry ?? DEFAULT_TELEMETRY_LIMITS);
        if (!delta) break; // duplicate or older sample
        c.state = afterSample(sample, delta);
        c.dirty = true;
        if (!c.participant) break; // unbound worker: nobody to credit
        const row = inc(e.data.workerId, c.participant);
        row.adjusted_tokens += delta.adjustedTokens;
        row.uptime_ms += delta.uptimeMs;
        row.polls_ok += 1;
        row.restarts += delta.restarted ? 1 : 0;
        break;
      }
      case 'WorkerPollFailed': {
        const c = counter(e.data.workerId);
        const next = afterFailure(c.state, e.data.observedAtMs);
        if (next === c.state && c.state) break; // older than what we know
        c.state = next;
        c.dirty = true;
        if (c.participant) inc(e.data.workerId, c.participant).polls_failed += 1;
        break;
      }
      case 'TaskCompleted': {
        if (!fresh.delete(e.data.requestId)) break; // a line read twice counts once
        const participant = counter(e.data.workerId).participant;
        if (!participant) break;
        const row = inc(e.data.workerId, participant);
        row.tasks += 1;
        row.tasks_succeeded += e.data.success ? 1 : 0;
        row.task_us += Math.round(e.data.seconds * 1e6);
        break;
      }
      case 'ParticipantSlashed': {
        if (countedSlashes.has(e.data.txHash)) break; // a transaction indexed again counts once
        countedSlashes.add(e.data.txHash);
        newSlashTxs.push({ tx_hash: e.data.txHash, epoch_id: epoch });
        const key = `${epoch}|${e.data.participant}`;
        const s = slashes.get(key) ?? { epoch_id: epoch, participant: e.data.participant, slashes: 0, amount: 0n };
        s.slashes += 1;
        s.amount += BigInt(e.data.amountNanoton);
        slashes.set(key, s);
        break;
      }
      case 'PoolObserving': {
        const observer = e.subject.slice(e.subject.lastIndexOf('.') + 1);
        const beat = { atMs: e.data.atMs, validForMs: e.data.validForMs };
        const delta = observationDelta(beats.get(observer) ?? null, beat);
        if (delta === null) break; // older than the last heartbeat
        beats.set(observer, beat);
        dirtyBeats.add(observer);
        const o = observed.get(epoch) ?? { observed_ms: 0, heartbeats: 0 };
        o.observed_ms += delta;
        o.heartbeats += 1;
        observed.set(epoch, o);
        break;
      }
      case 'EpochClosing': {
        const next = epochAfterCut(epoch, e.data.epochId);
        if (next !== epoch) {
          epoch = next;
          openedFor.push({ epoch });
        }
        break;
      }
    }
  }

  if (increments.size) {
    const rows = [...increments.values()].map((r) => ({ ...r, adjusted_tokens: String(r.adjusted_tokens) }));
    await addRows(db, 'contributions', ['epoch_id', 'worker_id', 'participant'], ['adjusted_tokens', 'tasks', 'tasks_succeeded', 'task_us', 'uptime_ms', 'polls_ok', 'polls_failed', 'restarts'], rows);
  }
  const dirty = [...counters.entries()].filter(([, c]) => c.dirty);
  if (dirty.length) {
    const rows = dirty.map(([worker_id, c]) => ({
      worker_id,
      participant: c.participant,
      observed_at_ms: c.state?.observedAtMs ?? null,
      telemetry: c.state ? c.state.telemetry : null,
      online: c.state?.online ?? false,
    }));
    await db
      .insertInto('worker_counters')
      .columns(jsonColumns(rows))
      .expression(jsonRows('worker_counters', rows) as never)
      .onConflict((oc) =>
        oc.column('worker_id').doUpdateSet({
          participant: sql`excluded.participant`,
          observed_at_ms: sql`excluded.observed_at_ms`,
          telemetry: sql`excluded.telemetry`,
          online: sql`excluded.online`,
        }),
      )
      .execute();
  }
  if (slashes.size) {
    await db
      .insertInto('slashes')
      .values([...slashes.values()].map((s) => ({ epoch_id: s.epoch_id, participant: s.participant, slashes: s.slashes, amount_nanoton: String(s.amount) })))
      .onConflict((oc) =>
        oc.columns(['epoch_id', 'participant']).doUpdateSet({
          slashes: sql`slashes.slashes + excluded.slashes`,
          amount_nanoton: sql`slashes.amount_nanoton + excluded.amount_nanoton`,
        }),
      )
      .execute();
  }
  if (newSlashTxs.length) await db.insertInto('counted_slashes').values(newSlashTxs).execute();
  if (dirtyBeats.size) {
    await db
      .insertInto('observation_state')
      .values([...dirtyBeats].map((observer) => ({ observer, at_ms: beats.get(observer)!.atMs, valid_for_ms: beats.get(observer)!.validForMs })))
      .onConflict((oc) => oc.column('observer').doUpdateSet({ at_ms: sql`excluded.at_ms`, valid_for_ms: sql`excluded.valid_for_ms` }))
      .execute();
  }
  if (observed.size) {
    await db
      .insertInto('epoch_observations')
      .values([...observed].map(([epoch_id, o]) => ({ epoch_id, ...o })))
      .onConflict((oc) =>
        oc.column('epoch_id').doUpdateSet({
          observed_ms: sql`epoch_observations.observed_ms + excluded.observed_ms`,
          heartbeats: sql`epoch_observations.heartbeats + excluded.heartbeats`,
        }),
      )
      .execute();
  }
  // every bound worker gets a row in each new epoch, so a worker offline all epoch still counts as expected
  for (const { epoch: opened } of openedFor) {
    await sql`insert into contributions (epoch_id, worker_id, participant)
              select ${opened}, worker_id, participant from worker_counters where participant is not null
              on conflict do nothing`.execute(db);
  }
  if (epoch !== startEpoch) await saveCurrentEpoch(db, CONTRIBUTIONS_PROJECTION, epoch);
}

/** Frozen contribution of one participant for one epoch (the ContributionsFrozen artifact row). */
export interface FrozenContribution {
  participant: string;
  workers: number;
  adjustedTokens: string;
  tasks: number;
  tasksSucceeded: number;
  taskMicros: number;
  uptimeMs: number;
  expectedMs: number;
  pollsOk: number;
  pollsFailed: number;
  restarts: number;
  slashes: number;
  /** reputation in force during the epoch */
  reputation: number;
  /**
   * Reward formula v2 only (absent in rows frozen for v1; domain/rewardsV2.ts): adjusted tokens
   * the network paid the participant for during the epoch, the nanoTON the contract booked as its
   * (projectors/memberRevenue.ts), and its token carries in (decimal strings). `adjustedTokens` is
   * what it claimed.
   */
  verifiedTokens?: string;
  verifiedRevenueNanoton?: string;
  unpaidClaimsIn?: string;
  unclaimedPaymentsIn?: string;
}

/**
 * A participant's workers summed per epoch (the contributions table), one row per (epoch,
 * participant) ordered by epoch then participant, for one epoch or one participant. Counts are
 * numbers; `adjustedTokens` (adjusted tokens), `taskMicros` (microseconds) and `uptimeMs`
 * (milliseconds) are summed in the database.
 */
export async function contributionTotals(db: import('kysely').Kysely<Database>, filter: { epochId: number } | { participant: string }) {
  const rows = await db
    .selectFrom('contributions')
    .select([
      'epoch_id',
      'participant',
      sql<number>`count(distinct worker_id)::int`.as('workers'),
      sql<string>`sum(adjusted_tokens)::text`.as('adjusted_tokens'),
      sql<number>`sum(tasks)::int8`.as('tasks'),
      sql<number>`sum(tasks_succeeded)::int8`.as('tasks_succeeded'),
      sql<string>`sum(task_us)::text`.as('task_us'),
      sql<string>`sum(uptime_ms)::text`.as('uptime_ms'),
      sql<number>`sum(polls_ok)::int8`.as('polls_ok'),
      sql<number>`sum(polls_failed)::int8`.as('polls_failed'),
      sql<number>`sum(restarts)::int8`.as('restarts'),
    ])
    .where((eb) => ('epochId' in filter ? eb('epoch_id', '=', filter.epochId) : eb('participant', '=', filter.participant)))
    .groupBy(['epoch_id', 'participant'])
    .orderBy('epoch_id')
    .orderBy('participant')
    .execute();
  return rows.map((r) => ({
    epochId: r.epoch_id,
    participant: r.participant,
    workers: Number(r.workers),
    adjustedTokens: r.adjusted_tokens,
    tasks: Number(r.tasks),
    tasksSucceeded: Number(r.tasks_succeeded),
    taskMicros: Number(r.task_us),
    uptimeMs: Number(r.uptime_ms),
    pollsOk: Number(r.polls_ok),
    pollsFailed: Number(r.polls_failed),
    restarts: Number(r.restarts),
  }));
}

/**
 * Per-participant totals of an epoch ({@link contributionTotals}), ordered by participant.
 * `expectedMs` = `observedMs` (the time the pool was observing, {@link epochObservedMs}) × number
 * of the participant's workers. Call only after the projection has passed the epoch's cut.
 */
export async function epochContributions(
  db: import('kysely').Kysely<Database>,
  epochId: number,
  observedMs: number,
): Promise<Omit<FrozenContribution, 'reputation' | 'slashes'>[]> {
  // the artifact's columns are these keys in this order (its sha256 is over them)
  return (await contributionTotals(db, { epochId })).map((r) => ({
    participant: r.participant,
    workers: r.workers,
    adjustedTokens: r.adjustedTokens,
    tasks: r.tasks,
    tasksSucceeded: r.tasksSucceeded,
    taskMicros: r.taskMicros,
    uptimeMs: r.uptimeMs,
    expectedMs: observedMs * r.workers,
    pollsOk: r.pollsOk,
    pollsFailed: r.pollsFailed,
    restarts: r.restarts,
  }));
}

/**
 * The time the pool was observing during epoch `epochId`, milliseconds (domain/observation.ts),
 * from the heartbeats stored before its cut. A stream that had no heartbeat up to this epoch
 * predates them: its epochs are measured against their wall duration `wallMs`, as they were when
 * recorded. Call only after the projection has passed the epoch's cut.
 */
export async function epochObservedMs(db: import('kysely').Kysely<Database>, epochId: number, wallMs: number): Promise<number> {
  const rows = await db.selectFrom('epoch_observations').select(['epoch_id', 'observed_ms']).where('epoch_id', '<=', epochId).execute();
  if (!rows.length) return wallMs;
  return Number(rows.find((r) => r.epoch_id === epochId)?.observed_ms ?? 0);
}
