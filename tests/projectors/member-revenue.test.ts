/**
 * The member-revenue projection (projectors/memberRevenue.ts) on a real nats-server and
 * PostgreSQL: per (epoch, member) verified revenue, paid, verified tokens, payouts and backlog,
 * attributed by the EpochClosing cut, each transaction once; the epochs projection counts the
 * member revenue the contract counted as epoch revenue, once. Live equals replay equals rebuild;
 * a message that is not a valid event is quarantined and changes nothing.
 */
import { sql, type Kysely } from 'kysely';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Database } from '../../db/schema.ts';
import { epochsProjection } from '../../projectors/epochs.ts';
import { memberRevenueProjection } from '../../projectors/memberRevenue.ts';
import { readCheckpoint, resetProjection, runProjection, runProjections } from '../../projectors/runner.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { closing, memberRevenue, participant, revenue, subjectOf } from '../support/events.ts';
import { deadLetters, startTestNats, type TestNats } from '../support/nats.ts';
import { until } from '../support/until.ts';

let nats: TestNats;
let live: TestDb;
let replay: TestDb;
test.before(async () => {
  [nats, live, replay] = await Promise.all([startTestNats(), createMigratedDatabase(), createMigratedDatabase()]);
});
test.after(async () => {
  await nats.stop();
  await Promise.all([live.drop(), replay.drop()]);
});

const logger = pino({ level: 'silent' });
const projections = [memberRevenueProjection(), epochsProjection()];
const TABLES = ['member_revenue', 'member_revenue_receipts', 'epochs', 'revenue'];

async function options(db: Kysely<Database>, extra: { follow?: boolean; signal?: AbortSignal } = {}) {
  return { store: nats.store, db, artifacts: await openArtifactStore(nats.nc), deadLetter: deadLetterTo(nats.js), logger, follow: false, batchSize: 3, ...extra };
}

async function rows(db: Kysely<Database>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of TABLES) out[t] = (await sql<Record<string, unknown>>`select * from ${sql.table(t)}`.execute(db)).rows.map((r) => JSON.stringify(r)).sort();
  return out;
}

const append = (events: PoolEvent[]) => nats.store.appendMany(events.map((event) => ({ subject: subjectOf(event), event })));

const TON = 1_000_000_000n;

test('per epoch and member: verified revenue, paid, verified tokens, payouts, backlog; epoch revenue includes it once; live = replay = rebuild', async () => {
  const ctl = new AbortController();
  const running = runProjections(projections, await options(live.db, { follow: true, signal: ctl.signal }));
  const epoch1: PoolEvent[] = [
    memberRevenue(1, 1, 10n * TON), // 10 TON at 1000 nanoTON/token: 10M tokens, 9.995 TON booked
    memberRevenue(2, 1, 12n * TON),
    memberRevenue(1, 1, 10n * TON), // the same transaction again (another id): once
    memberRevenue(3, 2, 11n * TON, { knownProxy: false }), // revenue, but its tokens are no proof
    memberRevenue(4, 2, 10n * TON, { countedByContract: false }), // not counted by the contract: no revenue, still paid and proven
    memberRevenue(5, 2, 0n, { kind: 'backlog', proxy: null, paidNanoton: null, amountNanoton: String(3n * TON), knownProxy: false, workerFeePerTokenNanoton: null, verifiedTokens: null }),
    revenue(1, 7n * TON), // pool revenue of another kind
  ];
  epoch1[2] = { ...epoch1[2]!, id: 'the-same-tx-indexed-again' };
  await append(epoch1);
  await append([closing(1), memberRevenue(6, 1, 20n * TON, { workerFeePerTokenNanoton: null, verifiedTokens: null })]);
  const last = await nats.store.lastSequence();
  await until('live projections caught up', async () => (await readCheckpoint(live.db, 'member-revenue')) >= last && (await readCheckpoint(live.db, 'epochs')) >= last);
  ctl.abort();
  await running;

  const totals = await live.db.selectFrom('member_revenue').selectAll().orderBy('epoch_id').orderBy('member').execute();
  assert.equal(totals.map((r) => [r.epoch_id, r.member, r.verified_revenue_nanoton, r.paid_nanoton, r.verified_tokens, r.payouts, r.backlog_nanoton]), [
    [1, participant(1), String(22n * TON - 10_000_000n), String(22n * TON), '22000000', 2, '0'],
    [1, participant(2), String(11n * TON - 5_000_000n + 3n * TON), String(21n * TON), '10000000', 2, String(3n * TON)],
    [2, participant(1), String(20n * TON - 5_000_000n), String(20n * TON), '0', 1, '0'],
  ]);
  const epochs = await live.db.selectFrom('epochs').select(['epoch_id', 'revenue_nanoton']).orderBy('epoch_id').execute();
  assert.equal(epochs.map((e) => [e.epoch_id, e.revenue_nanoton]), [
    [1, String(22n * TON - 10_000_000n + 11n * TON - 5_000_000n + 3n * TON + 7n * TON)],
    [2, String(20n * TON - 5_000_000n)],
  ], 'counted member revenue is epoch revenue, each transaction once; uncounted is not');
  const kinds = await live.db.selectFrom('revenue').select(['kind', sql<number>`count(*)::int`.as('n')]).groupBy('kind').orderBy('kind').execute();
  assert.equal(kinds.map((k) => [k.kind, k.n]), [['cocoon_payout', 1], ['member_backlog', 1], ['member_payout', 4]]);

  const liveRows = await rows(live.db);
  for (const p of projections) await runProjection(p, await options(replay.db));
  assert.equal(await rows(replay.db), liveRows, 'a replay into a fresh database gives the live rows');
  for (const p of projections) await resetProjection(live.db, p);
  await runProjections(projections, await options(live.db));
  assert.equal(await rows(live.db), liveRows, 'a rebuild gives identical rows');
});

test('a message that is not a valid MemberRevenueReceived is quarantined once and changes nothing', async () => {
  const before = await rows(live.db);
  const forged = { ...(memberRevenue(7, 3, 10n * TON) as { type: string; version: number; id: string; data: Record<string, unknown> }) };
  forged.data = { ...forged.data, verifiedTokens: 'a lot' };
  const seq = (await nats.js.publish('pool.chain.distribution', new TextEncoder().encode(JSON.stringify(forged)))).seq;
  await runProjection(memberRevenueProjection(), await options(live.db));
  await runProjection(memberRevenueProjection(), await options(live.db)); // a rerun letters nothing new
  const letters = (await deadLetters(nats.jsm)).filter((l) => l.originSequence === seq);
  assert.is(letters.length, 1);
  assert.is(letters[0]!.source, 'projection-member-revenue');
  assert.match(letters[0]!.reason, /verifiedTokens/);
  assert.equal(await rows(live.db), before);
  assert.is(await readCheckpoint(live.db, 'member-revenue'), seq);
});

test.run();
