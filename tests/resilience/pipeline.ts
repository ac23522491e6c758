/**
 * The pool's long-running readers as `pool start` composes them (projections, the epoch saga, the
 * heartbeat saga, each under `supervise`, and the read API), for tests that take a server away
 * under them. Logs are kept (warn and above) so a test can wait for the outage to be noticed.
 */
import { sql, type Kysely } from 'kysely';
import pino, { type Logger } from 'pino';
import * as assert from 'uvu/assert';
import { supervise } from '../../cli/start.ts';
import type { Database } from '../../db/schema.ts';
import { DEFAULT_REWARD_PARAMS } from '../../domain/rewards.ts';
import { poolProjections } from '../../projectors/all.ts';
import { readCheckpoint, runProjection } from '../../projectors/runner.ts';
import { buildReadApi } from '../../read-api/server.ts';
import { runEpochSaga } from '../../sagas/epoch/processManager.ts';
import { runHeartbeatSaga } from '../../sagas/heartbeat/processManager.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { openCursorStore } from '../../streams/cursors.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import type { TestNats } from '../support/nats.ts';
import { bound, pollFailed, sample, task } from '../support/events.ts';
import { prng } from '../support/random.ts';
import { recordingActions } from '../support/sagaActions.ts';
import { until } from '../support/until.ts';

export const projections = poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 });
export const readModelTables = [...new Set(projections.flatMap((p) => p.tables))];
export const EPOCH_MS = 60_000;

export interface LogLine {
  level: number;
  msg: string;
  component?: string;
  code?: string;
  err?: { code?: string; message?: string };
}

/** A pino logger at warn that keeps every line in `lines`. */
export function keptLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

/**
 * Telemetry, tasks and bindings of 5 workers over `steps` polls from poll `fromStep` (seeded):
 * misses in a row make WorkerWentOffline alerts, counters restart now and then.
 */
export function workload(steps: number, seed = 7, fromStep = 0): PoolEvent[] {
  const rand = prng(seed);
  const workers = ['w0', 'w1', 'w2', 'w3', 'w4'];
  const events: PoolEvent[] = workers.map((w, i) => bound(w, 1 + (i % 3)));
  const totals = new Map(workers.map((w) => [w, 0]));
  let n = fromStep * 10;
  for (let step = fromStep, t = 1_000_000 + fromStep * 2_000; step < fromStep + steps; step++, t += 2_000) {
    for (const [i, w] of workers.entries()) {
      const down = i === 4 && step % 40 >= 30; // w4 misses 10 polls in every 40
      if (down || rand() < 0.05) events.push(pollFailed(w, t));
      else {
        const next = rand() > 0.99 ? Math.floor(rand() * 500) : totals.get(w)! + Math.floor(rand() * 3000);
        totals.set(w, next);
        events.push(sample(w, t, next, Math.floor(next / 50)));
      }
      if (rand() < 0.4) events.push(task(w, n++, rand() > 0.1, rand() * 10));
    }
  }
  return events;
}

export interface Pipeline {
  /** the epoch saga's clock (unix ms); advance it to close an epoch */
  clock: { now: number };
  /** root commits the saga sent (epoch ids) */
  commits: number[];
  api: ReturnType<typeof buildReadApi>;
  stop(): Promise<void>;
}

/** Starts every reader against `nats` and `db`, each supervised as in `pool start`. */
export function startPipeline(nats: TestNats, db: Kysely<Database>, logger: Logger): Pipeline {
  const ctl = new AbortController();
  const clock = { now: 1_000_000 };
  const actions = recordingActions();
  const commits = actions.commits;
  const deadLetter = deadLetterTo(nats.js);
  const tasks: Promise<void>[] = [];
  const run = (name: string, task: () => Promise<void>) => tasks.push(supervise(name, logger, ctl.signal, task));
  for (const p of projections) {
    run(`projection-${p.name}`, async () =>
      runProjection(p, { store: nats.store, db, artifacts: await openArtifactStore(nats.nc), deadLetter, logger, batchSize: 25, signal: ctl.signal }),
    );
  }
  run('epoch-saga', async () =>
    runEpochSaga({
      store: nats.store, deadLetter, db, artifacts: await openArtifactStore(nats.nc), actions,
      settings: { epochMs: EPOCH_MS, batchSize: 10, maxBatchesInFlight: 1, resubmitAfterMs: 3_600_000, maxRefusedAttempts: 3 },
      rewardParams: DEFAULT_REWARD_PARAMS, logger: logger.child({ component: 'epoch-saga' }), tickMs: 50, now: () => clock.now, signal: ctl.signal,
    }),
  );
  run('heartbeat-saga', async () =>
    runHeartbeatSaga({ store: nats.store, cursors: await openCursorStore(nats.nc), deadLetter, settings: { offlineAfterMisses: 3 }, logger, signal: ctl.signal }),
  );
  const api = buildReadApi({ db, logger });
  return {
    clock,
    commits,
    api,
    async stop() {
      ctl.abort();
      await Promise.all(tasks);
      await api.close();
    },
  };
}

/** Every read-model table's rows (as sorted JSON lines) and each projection's checkpoint. */
export async function readModels(db: Kysely<Database>): Promise<{ tables: Record<string, string[]>; checkpoints: Record<string, number> }> {
  const tables: Record<string, string[]> = {};
  for (const t of readModelTables) {
    const r = await sql<Record<string, unknown>>`select * from ${sql.table(t)}`.execute(db);
    tables[t] = r.rows.map((row) => JSON.stringify(row)).sort();
  }
  const checkpoints: Record<string, number> = {};
  for (const p of projections) checkpoints[p.name] = await readCheckpoint(db, p.name);
  return { tables, checkpoints };
}

/** Replays the whole stream into `db` once (no interruption): the reference read models. */
export async function replay(nats: TestNats, db: Kysely<Database>): Promise<void> {
  const artifacts = await openArtifactStore(nats.nc);
  for (const p of projections) {
    await runProjection(p, { store: nats.store, db, artifacts, deadLetter: deadLetterTo(nats.js), logger: pino({ level: 'silent' }), follow: false });
  }
}

/**
 * Waits until `db` (the interrupted pool's read models) has caught up with a replay of the whole
 * stream into `reference` that never stopped, then asserts every table and checkpoint equal.
 */
export async function assertSameAsUninterrupted(nats: TestNats, db: Kysely<Database>, reference: Kysely<Database>): Promise<void> {
  // the reference is replayed again only when the stream has grown: each replay opens a consumer per
  // projection, and replaying on every poll piled up ephemeral consumers faster than the server drops them
  let replayedTo = -1;
  await until('the projections to catch up', async () => {
    const last = await nats.store.lastSequence();
    if (last !== replayedTo) {
      await replay(nats, reference);
      replayedTo = last;
    }
    return JSON.stringify((await readModels(db)).checkpoints) === JSON.stringify((await readModels(reference)).checkpoints);
  }, 120_000, 250);
  const [got, want] = [await readModels(db), await readModels(reference)];
  assert.equal(got.checkpoints, want.checkpoints);
  assert.equal(got.tables, want.tables);
}

/** Records uncaught exceptions and unhandled rejections (instead of dying of them) for a test to assert none. */
export function recordProcessFailures(): unknown[] {
  const failures: unknown[] = [];
  process.on('uncaughtException', (err) => void (failures.push(err), console.error('uncaught exception', err)));
  process.on('unhandledRejection', (err) => void (failures.push(err), console.error('unhandled rejection', err)));
  return failures;
}
