/**
 * The read routes of issue 8 over real NATS and PostgreSQL: GET /api/v1/pool, the participants
 * list, an epoch's rewards table, and its artifacts served as files (byte-identical to what the
 * events reference, ETag/304, and enough for a third party to rebuild the Merkle root).
 *
 * Fixture: epoch 1 settled with 2,500 leaves (its rewards file spans several object-store chunks);
 * epoch 2 computed with 3 leaves in the older single-array artifact format; epoch 3 open.
 * Participants besides the rewarded: one only bound to a worker, one only registered on chain,
 * one only with verified member revenue.
 */
import { createHash } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import { Address } from '@ton/core';
import { Ajv } from 'ajv';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRewardsTree } from '../../domain/merkle/index.ts';
import type { FrozenContribution } from '../../projectors/contributions.ts';
import { poolProjections } from '../../projectors/all.ts';
import { runProjection } from '../../projectors/runner.ts';
import { buildReadApi } from '../../read-api/server.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { ArtifactError, openArtifactStore, type ArtifactRef, type ArtifactStore } from '../../streams/artifacts.ts';
import type { DeadLetter } from '../../streams/deadLetter.ts';
import { ARTIFACT_BUCKET } from '../../streams/topology.ts';
import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { openDatabase } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import * as m0001 from '../../db/migrations/0001_read_models.ts';
import * as m0010 from '../../db/migrations/0010_alerts.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { bound, closing, memberRevenue, participant, revenue, sample, subjectOf } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let pg: TestDb;
let api: ReturnType<typeof buildReadApi>;
let store: ArtifactStore;

const LEAVES_1 = 2500;
const amounts1 = Array.from({ length: LEAVES_1 }, (_, i) => BigInt(1000 + ((i * 7919) % 100_000)));
const tree1 = buildRewardsTree(amounts1.map((amount, i) => ({ address: Address.parseRaw(participant(i + 1)), amount })));
const epoch2 = [participant(1), participant(2), participant(3)].map((p, i) => ({ index: i, participant: p, amountNanoton: String(300_000 + i), scorePpb: 0 }));
const tree2 = buildRewardsTree(epoch2.map((r) => ({ address: Address.parseRaw(r.participant), amount: BigInt(r.amountNanoton) })));
const WORKER_ONLY = participant(9001);
const REGISTERED_ONLY = participant(9002);
const REVENUE_ONLY = participant(9003);
const SETTLED_AT = 1_700_000_500_000;
const paid0 = amounts1[0]!;
const refs: Record<string, ArtifactRef> = {};

const frozen = (p: number): FrozenContribution => ({
  participant: participant(p), workers: 1, adjustedTokens: '500', tasks: 4, tasksSucceeded: 3, taskMicros: 4_000_000, uptimeMs: 15_000, expectedMs: 20_000,
  pollsOk: 2, pollsFailed: 0, restarts: 0, slashes: 0, reputation: 500,
});

const rewardsComputed = (epochId: number, leafCount: number, merkleRoot: string, rewards: ArtifactRef, feeBps: number): PoolEvent => ({
  type: 'RewardsComputed', version: 1, id: `${epochId}:computed`,
  data: {
    epochId, formulaVersion: 1, params: { operatorFeeBps: feeBps }, revenueNanoton: '1000000', carryInNanoton: '0', operatorFeeNanoton: String(feeBps * 100),
    rewardsNanoton: String(1_000_000 - feeBps * 100), slashedNanoton: '0', carryOutNanoton: '0', eligible: leafCount, leafCount, merkleRoot, rewards,
  },
});

// uvu reports a failed before hook as failed tests without its error: print it
test.before(async () => {
  try {
    await setup();
  } catch (err) {
    console.error(err);
    throw err;
  }
});

async function setup() {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  const artifacts = (store = await openArtifactStore(nats.nc));
  refs.rewards1 = await artifacts.putRows('epoch-1-rewards.json', amounts1.map((a, i) => ({ index: i, participant: participant(i + 1), amountNanoton: String(a), scorePpb: 0 })));
  refs.contributions1 = await artifacts.putRows('epoch-1-contributions.json', [frozen(1), frozen(2)]);
  refs.contributions2 = await artifacts.putRows('epoch-2-contributions.json', [frozen(1)]);
  // the format before issue 12: one JSON array of row objects, stored as such
  const legacy = new TextEncoder().encode(JSON.stringify(epoch2));
  await (await new Objm(nats.nc).open(ARTIFACT_BUCKET)).putBlob({ name: 'epoch-2-rewards.json' }, legacy);
  refs.rewards2 = { bucket: ARTIFACT_BUCKET, name: 'epoch-2-rewards.json', sha256: createHash('sha256').update(legacy).digest('hex'), bytes: legacy.length, rows: epoch2.length };

  const txHash = 'ee'.repeat(32);
  const unhealthy = sample('w2', 3_000, 50) as Extract<PoolEvent, { type: 'WorkerStatsSampled' }>;
  unhealthy.data.health = { ...unhealthy.data.health, healthy: false, reasons: ['ton: not synced'] };
  const events: { subject?: string; event: PoolEvent }[] = [
    { event: bound('w1', 1) }, { event: bound('w2', 2) }, { event: bound('w3', 9001) },
    { event: { type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 0, endsAtMs: 20_000 } } },
    { event: sample('w1', 1_000, 100) }, { event: sample('w1', 3_000, 600) }, { event: sample('w2', 1_000, 0) }, { event: unhealthy },
    { event: revenue(1, 1_000_000n) },
    {
      subject: 'pool.chain.operator',
      event: {
        type: 'ParticipantRegistered', version: 1, id: 'ab'.repeat(32),
        data: { contract: participant(998), txHash: 'ab'.repeat(32), lt: '50', chainTime: 1_700_000_000, queryId: '1', participant: REGISTERED_ONLY, stakeNanoton: '5000000000', gpuSpecHash: 'cd'.repeat(32), gpuCount: 2, worker: null },
      },
    },
    { event: closing(1, 20_000) },
    { event: { type: 'ContributionsFrozen', version: 1, id: '1:frozen', data: { epochId: 1, cutSequence: 10, durationSeconds: 20, participants: 2, revenueNanoton: '1000000', carryInNanoton: '0', contributions: refs.contributions1! } } },
    { event: rewardsComputed(1, LEAVES_1, tree1.rootHex, refs.rewards1!, 500) },
    { event: { type: 'PayoutBatchPlanned', version: 1, id: '1:batch:0:planned', data: { epochId: 1, batch: 0, fromIndex: 0, count: 255 } } },
    {
      subject: 'pool.chain.distribution',
      event: {
        type: 'RewardBatchPaid', version: 1, id: txHash,
        data: {
          contract: participant(999), txHash, lt: '77', chainTime: 1_700_000_000, queryId: '5', epochId: 1, fromIndex: 0, count: 1, paidCount: 1,
          paidAmountNanoton: String(paid0), payouts: [{ index: 0, address: participant(1), amountNanoton: String(paid0) }],
        },
      },
    },
    { event: { type: 'PayoutBatchConfirmed', version: 1, id: '1:batch:0:confirmed', data: { epochId: 1, batch: 0, paidNanoton: String(paid0), txHashes: [txHash], confirmedAtMs: SETTLED_AT - 1 } } },
    { event: { type: 'EpochSettled', version: 1, id: '1:settled', data: { epochId: 1, payoutsConfirmed: 1, paidNanoton: String(paid0), settledAtMs: SETTLED_AT } } },
    { event: { type: 'EpochOpened', version: 1, id: '2:opened', data: { epochId: 2, startedAtMs: 20_000, endsAtMs: 40_000 } } },
    { event: memberRevenue(1, 9003, 10_000_000n) },
    { event: closing(2, 40_000) },
    { event: { type: 'ContributionsFrozen', version: 1, id: '2:frozen', data: { epochId: 2, cutSequence: 30, durationSeconds: 20, participants: 1, revenueNanoton: '5000000', carryInNanoton: '0', contributions: refs.contributions2! } } },
    { event: rewardsComputed(2, epoch2.length, tree2.rootHex, refs.rewards2, 700) },
    { event: { type: 'EpochOpened', version: 1, id: '3:opened', data: { epochId: 3, startedAtMs: 40_000, endsAtMs: 60_000 } } },
  ];
  await nats.store.appendMany(events.map(({ subject, event }) => ({ subject: subject ?? subjectOf(event), event })));
  const dead: DeadLetter[] = [];
  for (const projection of poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 })) {
    await runProjection(projection, {
      store: nats.store, db: pg.db, artifacts, logger: pino({ level: 'silent' }), follow: false,
      deadLetter: async (letter) => void dead.push(letter),
    });
  }
  assert.equal(dead.map((d) => d.reason), [], 'no event quarantined by the projections');
  api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }), artifacts, streamSequence: () => nats.store.lastSequence() });
}
test.after(async () => {
  await api?.close();
  await nats?.stop();
  await pg?.drop();
});

const get = async (url: string, headers: Record<string, string> = {}) => {
  const r = await api.inject({ method: 'GET', url, headers });
  return { status: r.statusCode, headers: r.headers, raw: r.rawPayload, body: r.headers['content-type']?.toString().startsWith('application/json') && r.rawPayload.length ? r.json() : null };
};
let listening: Promise<string> | null = null;
/** The API's base URL over real HTTP (listening from the first call on). */
const http = () => (listening ??= api.listen({ host: '127.0.0.1', port: 0 }));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every page of a cursor-paged list: follows `next` as `after` until null. */
async function walk<T>(url: (after: string | null) => string, items: (body: any) => T[]): Promise<{ pages: number; all: T[]; sizes: number[] }> {
  const all: T[] = [];
  const sizes: number[] = [];
  let after: string | null = null;
  for (let pages = 1; ; pages++) {
    const { status, body } = await get(url(after));
    assert.is(status, 200, url(after));
    all.push(...items(body));
    sizes.push(items(body).length);
    if (body.next === null) return { pages, all, sizes };
    after = body.next;
    assert.ok(pages < 100, 'the cursor ends');
  }
}

test('GET /api/v1/pool: fee of the last computed epoch, workers, participants, settled and open epochs, totals, stream position', async () => {
  const { status, body } = await get('/api/v1/pool');
  assert.is(status, 200);
  assert.is(body.operatorFeeBps, 700);
  assert.is(body.operatorFeeFrom, 'epoch');
  const workers = (await get('/api/v1/workers')).body.workers as { status: string; healthy: boolean | null }[];
  assert.equal(body.workers, {
    online: workers.filter((w) => w.status === 'online').length,
    total: workers.length,
    unhealthy: workers.filter((w) => w.healthy === false).length,
  });
  assert.equal(body.workers, { online: 2, total: 3, unhealthy: 1 }); // w3 was never polled; w2's last sample is unhealthy
  assert.equal(body.participants, { registered: 1, active: 1 });
  assert.equal(body.lastSettledEpoch, { id: 1, settledAt: new Date(SETTLED_AT).toISOString(), merkleRoot: tree1.rootHex });
  assert.equal(body.currentEpoch, { id: 3, startedAt: new Date(40_000).toISOString(), endsAt: new Date(60_000).toISOString() });
  const epochs = (await get('/api/v1/epochs')).body.epochs as { revenueNanoton: string; operatorFeeNanoton: string | null; rewardsNanoton: string | null; paidNanoton: string }[];
  const sum = (f: (e: (typeof epochs)[number]) => string | null) => String(epochs.reduce((s, e) => s + BigInt(f(e) ?? 0), 0n));
  assert.equal(body.totals, { revenueNanoton: sum((e) => e.revenueNanoton), operatorFeeNanoton: sum((e) => e.operatorFeeNanoton), rewardsNanoton: sum((e) => e.rewardsNanoton), paidNanoton: sum((e) => e.paidNanoton) });
  assert.equal(body.totals, { revenueNanoton: String(1_000_000 + 5_000_000), operatorFeeNanoton: '120000', rewardsNanoton: '1880000', paidNanoton: String(paid0) });
  const last = await nats.store.lastSequence();
  assert.is(body.stream.sequence, last);
  assert.ok(body.stream.projectedSequence > 0 && body.stream.projectedSequence <= last, `projected ${body.stream.projectedSequence} of ${last}`);

  // with the configured fee and without a stream
  const configured = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }), operatorFeeBps: 250 });
  try {
    const r = (await configured.inject({ method: 'GET', url: '/api/v1/pool' })).json();
    assert.equal([r.operatorFeeBps, r.operatorFeeFrom, r.stream.sequence], [250, 'config', null]);
  } finally {
    await configured.close();
  }
  assert.is((await get('/api/v1/pool?x=1')).status, 400);
});

test('GET /api/v1/participants: registered, bound, rewarded and paid-revenue participants, each once across pages, ordered by address', async () => {
  const expected = [...Array.from({ length: LEAVES_1 }, (_, i) => participant(i + 1)), WORKER_ONLY, REGISTERED_ONLY, REVENUE_ONLY].sort();
  for (const limit of [250, 999, 1000]) {
    const { all, pages, sizes } = await walk((after) => `/api/v1/participants?limit=${limit}${after ? `&after=${after}` : ''}`, (b) => b.participants as { address: string }[]);
    assert.equal(all.map((p) => p.address), expected, `limit ${limit}`);
    assert.is(pages, Math.ceil(expected.length / limit), `limit ${limit}: no empty last page`);
    assert.ok(sizes.every((n) => n <= limit));
  }
  const all = (await get('/api/v1/participants')).body;
  assert.is(all.participants.length, 1000, 'limit defaults to 1000');
  assert.is(all.next, all.participants[999].address);

  // the cursor in user-friendly form; rows agree with GET /participants/:address
  const friendly = Address.parseRaw(participant(1)).toString({ bounceable: false });
  const page = (await get(`/api/v1/participants?limit=3&after=${friendly}`)).body;
  assert.equal(page.participants.map((p: { address: string }) => p.address), expected.slice(expected.indexOf(participant(1)) + 1, expected.indexOf(participant(1)) + 4));
  const rows = new Map<string, any>((await walk((after) => `/api/v1/participants?limit=1000${after ? `&after=${after}` : ''}`, (b) => b.participants)).all.map((p: any) => [p.address, p]));
  for (const address of [participant(1), participant(2), participant(LEAVES_1), WORKER_ONLY, REGISTERED_ONLY, REVENUE_ONLY]) {
    const d = await get(`/api/v1/participants/${address}`);
    assert.is(d.status, 200, address);
    assert.equal(rows.get(address), {
      address,
      registryStatus: d.body.registry?.status ?? null,
      workers: d.body.workers.length,
      reputation: d.body.reputation,
      earnedNanoton: d.body.rewards.earnedNanoton,
      paidNanoton: d.body.rewards.paidNanoton,
    }, address);
  }
  assert.is(rows.get(participant(1)).paidNanoton, String(paid0));
  assert.is(rows.get(participant(1)).earnedNanoton, String(paid0 + 300_000n));
  assert.is(rows.get(REGISTERED_ONLY).registryStatus, 'active');
  assert.is(rows.get(WORKER_ONLY).workers, 1);
  assert.not.equal(rows.get(participant(1)).reputation, 500, 'reputation from epoch 1 and 2 contributions');
  assert.is((await get(`/api/v1/participants/${participant(9999)}`)).status, 404);
  assert.equal((await get(`/api/v1/participants?after=${participant(9999)}`)).body, { participants: [], next: null });

  for (const bad of ['limit=0', 'limit=1001', 'limit=1e3', 'after=nope', 'after=5:' + '0'.repeat(64), 'sort=address']) {
    const r = await get(`/api/v1/participants?${bad}`);
    assert.is(r.status, 400, bad);
    assert.is(r.body.error, 'bad_request', bad);
    assert.match(r.body.path, /^querystring\//, bad);
  }
});

test('GET /api/v1/epochs/:id/rewards: every leaf once in index order across pages, paid ones with their transaction', async () => {
  for (const limit of [97, 500, 1000]) {
    const { all, pages } = await walk((after) => `/api/v1/epochs/1/rewards?limit=${limit}${after === null ? '' : `&after=${after}`}`, (b) => b.rewards as { index: number; address: string; amountNanoton: string }[]);
    assert.equal(all.map((r) => r.index), [...amounts1.keys()], `limit ${limit}`);
    assert.equal(all.map((r) => r.amountNanoton), amounts1.map(String));
    assert.equal(all.map((r) => r.address), amounts1.map((_, i) => participant(i + 1)));
    assert.is(pages, Math.ceil(LEAVES_1 / limit));
  }
  const first = (await get('/api/v1/epochs/1/rewards?limit=2')).body;
  assert.equal(first, {
    epochId: 1, merkleRoot: tree1.rootHex, leafCount: LEAVES_1, next: '1',
    rewards: [
      { index: 0, address: participant(1), amountNanoton: String(paid0), status: 'paid', txHash: 'ee'.repeat(32) },
      { index: 1, address: participant(2), amountNanoton: String(amounts1[1]), status: 'pending', txHash: null },
    ],
  });
  const legacy = (await get('/api/v1/epochs/2/rewards')).body;
  assert.equal(legacy.rewards.map((r: { address: string; amountNanoton: string }) => [r.address, r.amountNanoton]), epoch2.map((r) => [r.participant, r.amountNanoton]));
  assert.is(legacy.next, null);
  assert.equal((await get(`/api/v1/epochs/1/rewards?after=${LEAVES_1 - 1}`)).body.rewards, []);

  const none = await get('/api/v1/epochs/99/rewards');
  assert.equal([none.status, none.body.error], [404, 'not_found']);
  const open = await get('/api/v1/epochs/3/rewards');
  assert.equal([open.status, open.body.message], [404, 'epoch 3 has no rewards table yet']);
  for (const bad of ['limit=0', 'limit=1001', 'after=-1', 'after=x', 'after=99999999999', 'before=3']) {
    const r = await get(`/api/v1/epochs/1/rewards?${bad}`);
    assert.is(r.status, 400, bad);
    assert.match(r.body.path, /^querystring\//, bad);
  }
  assert.is((await get('/api/v1/epochs/0/rewards')).status, 400);
});

test('GET /api/v1/epochs/:id/artifacts: the references the events carry, with the URL of each file', async () => {
  const { status, body } = await get('/api/v1/epochs/1/artifacts');
  assert.is(status, 200);
  const of = (kind: string, ref: ArtifactRef) => ({ kind, name: ref.name, bucket: ref.bucket, sha256: ref.sha256, bytes: ref.bytes, rows: ref.rows, url: `/api/v1/epochs/1/artifacts/${kind}` });
  assert.equal(body, { epochId: 1, artifacts: [of('contributions', refs.contributions1!), of('rewards', refs.rewards1!)] });
  assert.equal((await get('/api/v1/epochs/3/artifacts')).body, { epochId: 3, artifacts: [] });
  assert.is((await get('/api/v1/epochs/99/artifacts')).status, 404);
  assert.is((await get('/api/v1/epochs/1/artifacts?kind=rewards')).status, 400);
});

test('an artifact file: the stored bytes exactly (sha256 of the event), immutable, 304 on its ETag; the rewards file alone rebuilds the Merkle root', async () => {
  const r = await get('/api/v1/epochs/1/artifacts/rewards');
  assert.is(r.status, 200);
  assert.ok(refs.rewards1!.bytes > 128 * 1024, 'the file spans more than one object-store chunk');
  assert.is(r.raw.length, refs.rewards1!.bytes);
  assert.is(sha256(r.raw), refs.rewards1!.sha256);
  assert.is(r.headers['content-type'], 'application/x-ndjson');
  assert.is(r.headers.etag, `"${refs.rewards1!.sha256}"`);
  assert.is(r.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.is(Number(r.headers['content-length']), refs.rewards1!.bytes);
  assert.is(r.headers['content-disposition'], 'attachment; filename="epoch-1-rewards.ndjson"');

  // a third party: parse the downloaded lines, build the tree, compare with the epoch's root
  const [header, ...lines] = r.raw.toString('utf8').trimEnd().split('\n');
  const columns = JSON.parse(header!).columns as string[];
  const rows = lines.map((l) => Object.fromEntries((JSON.parse(l) as unknown[]).map((v, i) => [columns[i]!, v])) as { index: number; participant: string; amountNanoton: string });
  assert.ok(rows.every((row, i) => row.index === i));
  const rebuilt = buildRewardsTree(rows.map((row) => ({ address: Address.parseRaw(row.participant), amount: BigInt(row.amountNanoton) })));
  assert.is(rebuilt.rootHex, (await get('/api/v1/epochs/1')).body.merkleRoot);

  const contributions = await get('/api/v1/epochs/1/artifacts/contributions');
  assert.equal([contributions.status, contributions.raw.length, sha256(contributions.raw)], [200, refs.contributions1!.bytes, refs.contributions1!.sha256]);

  // the older single-array format: served as JSON, still byte-identical, and its root rebuilds too
  const legacy = await get('/api/v1/epochs/2/artifacts/rewards');
  assert.is(legacy.headers['content-type'], 'application/json');
  assert.is(legacy.headers['content-disposition'], 'attachment; filename="epoch-2-rewards.json"');
  assert.is(sha256(legacy.raw), refs.rewards2!.sha256);
  const legacyRows = JSON.parse(legacy.raw.toString('utf8')) as typeof epoch2;
  assert.is(buildRewardsTree(legacyRows.map((row) => ({ address: Address.parseRaw(row.participant), amount: BigInt(row.amountNanoton) }))).rootHex, (await get('/api/v1/epochs/2')).body.merkleRoot);

  for (const tag of [`"${refs.rewards1!.sha256}"`, `W/"${refs.rewards1!.sha256}"`, `"other", "${refs.rewards1!.sha256}"`, '*']) {
    const cached = await get('/api/v1/epochs/1/artifacts/rewards', { 'if-none-match': tag });
    assert.is(cached.status, 304, tag);
    assert.is(cached.raw.length, 0);
    assert.is(cached.headers.etag, `"${refs.rewards1!.sha256}"`);
  }
  assert.is((await get('/api/v1/epochs/1/artifacts/rewards', { 'if-none-match': `"${refs.contributions1!.sha256}"` })).status, 200);

  assert.is((await get('/api/v1/epochs/3/artifacts/rewards')).status, 404);
  assert.is((await get('/api/v1/epochs/99/artifacts/contributions')).status, 404);
  const bad = await get('/api/v1/epochs/1/artifacts/credits');
  assert.equal([bad.status, bad.body.path], [400, 'params/kind']);
});

test('an artifact file over real HTTP arrives whole, streamed; without an artifact store the route answers 503', async () => {
  const url = await http();
  const res = await fetch(`${url}/api/v1/epochs/1/artifacts/rewards`);
  assert.is(res.status, 200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.is(sha256(bytes), refs.rewards1!.sha256);
  const bare = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }) });
  try {
    const r = await bare.inject({ method: 'GET', url: '/api/v1/epochs/1/artifacts/rewards' });
    assert.equal([r.statusCode, r.json().error], [503, 'unavailable']);
    assert.is((await bare.inject({ method: 'GET', url: '/api/v1/epochs/1/artifacts' })).statusCode, 200);
  } finally {
    await bare.close();
  }
});

test('HEAD of an artifact file: its headers, no body', async () => {
  const r = await api.inject({ method: 'HEAD', url: '/api/v1/epochs/1/artifacts/contributions' });
  assert.is(r.statusCode, 200);
  assert.is(r.headers.etag, `"${refs.contributions1!.sha256}"`);
  assert.is(r.rawPayload.length, 0);
});

test('getBytes: the stored bytes chunk by chunk, checked against the reference at the end; a missing object fails before any', async () => {
  const chunks: Uint8Array[] = [];
  for await (const chunk of store.getBytes(refs.rewards1!)) chunks.push(chunk);
  assert.ok(chunks.length > 1, 'several chunks');
  assert.is(sha256(Buffer.concat(chunks)), refs.rewards1!.sha256);
  const drain = async (ref: ArtifactRef) => {
    let n = 0;
    try {
      for await (const chunk of store.getBytes(ref)) n += chunk.length;
    } catch (err) {
      return { n, err };
    }
    return { n, err: null };
  };
  const forged = await drain({ ...refs.rewards1!, sha256: '00'.repeat(32) });
  assert.instance(forged.err, ArtifactError);
  assert.match(String(forged.err), /the reference says/);
  assert.is(forged.n, refs.rewards1!.bytes, 'the error comes after every byte');
  const short = await drain({ ...refs.contributions1!, bytes: refs.contributions1!.bytes + 1 });
  assert.instance(short.err, ArtifactError);
  const missing = await drain({ ...refs.rewards1!, name: 'epoch-77-rewards.json' });
  assert.instance(missing.err, ArtifactError);
  assert.match(String(missing.err), /missing/);
  assert.is(missing.n, 0);
});

test('bytes that do not match the reference never reach a client whole: 500 within one chunk, an aborted body beyond', async () => {
  const url = await http();
  const forge = (column: 'rewards_artifact' | 'contributions_artifact', epochId: number, ref: ArtifactRef) =>
    pg.db.updateTable('epochs').set({ [column]: JSON.stringify(ref) as never }).where('epoch_id', '=', epochId).execute();
  try {
    await forge('contributions_artifact', 2, { ...refs.contributions2!, sha256: '11'.repeat(32) });
    const one = await fetch(`${url}/api/v1/epochs/2/artifacts/contributions`);
    assert.is(one.status, 500);
    assert.is(one.headers.get('etag'), null);
    assert.is(one.headers.get('cache-control'), null);
    assert.is(((await one.json()) as { error: string }).error, 'internal');

    await forge('rewards_artifact', 1, { ...refs.rewards1!, sha256: '22'.repeat(32) });
    const many = await fetch(`${url}/api/v1/epochs/1/artifacts/rewards`);
    assert.is(many.status, 200, 'the first chunk went out before the end was checked');
    let received = 0;
    const failed = await (async () => {
      try {
        for await (const chunk of many.body!) received += (chunk as Uint8Array).length;
        return false;
      } catch {
        return true;
      }
    })();
    assert.ok(failed, 'the body is aborted');
    assert.ok(received < refs.rewards1!.bytes, `${received} of ${refs.rewards1!.bytes} bytes`);
  } finally {
    await forge('contributions_artifact', 2, refs.contributions2!);
    await forge('rewards_artifact', 1, refs.rewards1!);
  }
  assert.is((await get('/api/v1/epochs/1/artifacts/rewards')).status, 200);
});

test('migration 0009 applies to a database already at 0010 (added after it shipped), and its epochs get the columns', async () => {
  const created = await createTestDatabase();
  const opened = await openDatabase({ url: created.url, maxConnections: 2 });
  try {
    const shipped = { '0001_read_models': m0001, '0010_alerts': m0010 };
    const first = await new Migrator({ db: opened.db, provider: { getMigrations: async () => shipped } }).migrateToLatest();
    assert.is(first.error, undefined);
    await migrateToLatest(opened.db);
    const columns = await sql<{ column_name: string }>`select column_name from information_schema.columns where table_name = 'epochs' and column_name like '%artifact'`.execute(opened.db);
    assert.equal(columns.rows.map((c) => c.column_name).sort(), ['contributions_artifact', 'rewards_artifact']);
  } finally {
    await opened.close();
    await created.drop();
  }
});

test('OpenAPI: the new routes are documented, and their real answers validate against the document', async () => {
  const { body: doc } = await get('/api/v1/openapi.json');
  for (const path of ['/api/v1/pool', '/api/v1/participants', '/api/v1/epochs/{id}/rewards', '/api/v1/epochs/{id}/artifacts', '/api/v1/epochs/{id}/artifacts/{kind}']) {
    assert.ok(doc.paths[path]?.get, path);
  }
  const file = doc.paths['/api/v1/epochs/{id}/artifacts/{kind}'].get.responses;
  assert.equal(Object.keys(file['200'].content).sort(), ['application/json', 'application/x-ndjson']);
  assert.ok(file['304']);
  const ajv = new Ajv({ strict: false });
  const calls: [string, string, string][] = [
    ['/api/v1/pool', '/api/v1/pool', '200'],
    ['/api/v1/pool?x=1', '/api/v1/pool', '4XX'],
    ['/api/v1/participants?limit=5', '/api/v1/participants', '200'],
    [`/api/v1/participants?after=${participant(9999)}`, '/api/v1/participants', '200'],
    ['/api/v1/participants?limit=0', '/api/v1/participants', '4XX'],
    ['/api/v1/epochs/1/rewards?limit=5', '/api/v1/epochs/{id}/rewards', '200'],
    ['/api/v1/epochs/2/rewards', '/api/v1/epochs/{id}/rewards', '200'],
    ['/api/v1/epochs/3/rewards', '/api/v1/epochs/{id}/rewards', '4XX'],
    ['/api/v1/epochs/1/artifacts', '/api/v1/epochs/{id}/artifacts', '200'],
    ['/api/v1/epochs/99/artifacts', '/api/v1/epochs/{id}/artifacts', '4XX'],
    ['/api/v1/epochs/3/artifacts/rewards', '/api/v1/epochs/{id}/artifacts/{kind}', '4XX'],
  ];
  for (const [url, path, code] of calls) {
    const answer = await get(url);
    assert.is(String(answer.status)[0], code[0], url);
    const schema = doc.paths[path].get.responses[code].content['application/json'].schema;
    assert.ok(ajv.validate(schema, answer.body), `${url}: ${ajv.errorsText()}`);
  }
});

test.run();
