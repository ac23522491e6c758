import { Ajv } from 'ajv';
import { Address, Cell } from '@ton/core';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildRewardsTree, readRewardsProof } from '../../domain/merkle/index.ts';
import { poolProjections } from '../../projectors/all.ts';
import { runProjection } from '../../projectors/runner.ts';
import { poolMetrics } from '../../read-api/metrics.ts';
import { buildReadApi } from '../../read-api/server.ts';
import type { PoolEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { bound, closing, frozenAndComputed, participant, revenue, sample, subjectOf, task } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let pg: TestDb;
let api: ReturnType<typeof buildReadApi>;
/** the distribution contract pull claims are sent to */
const DISTRIBUTION = Address.parseRaw(participant(999));
let artifacts: Awaited<ReturnType<typeof openArtifactStore>>;
/** Runs every projection up to the stream's end (each resumes at its checkpoint). */
const project = async () => {
  for (const projection of poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 })) {
    await runProjection(projection, { store: nats.store, db: pg.db, artifacts, deadLetter: deadLetterTo(nats.js), logger: pino({ level: 'silent' }), follow: false });
  }
};
const amounts = [700_000n, 250_000n];
const tree = buildRewardsTree(amounts.map((amount, i) => ({ address: Address.parseRaw(participant(i + 1)), amount })));

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  artifacts = await openArtifactStore(nats.nc);
  const rewards = await artifacts.putRows('epoch-1-rewards.json', amounts.map((a, i) => ({ index: i, participant: participant(i + 1), amountNanoton: String(a), scorePpb: 0 })));
  const contributions = await artifacts.putRows('epoch-1-contributions.json', []);
  const txHash = 'ee'.repeat(32);
  const events: PoolEvent[] = [
    bound('w1', 1), bound('w2', 2),
    { type: 'EpochOpened', version: 1, id: '1:opened', data: { epochId: 1, startedAtMs: 0, endsAtMs: 20_000 } },
    sample('w1', 1_000, 100), sample('w1', 3_000, 600), sample('w2', 1_000, 0), sample('w2', 3_000, 50),
    task('w1', 1), revenue(1, 1_000_000n),
    closing(1, 20_000),
    ...frozenAndComputed(1, { revenue: 1_000_000n, feeBps: 500, merkleRoot: tree.rootHex, leafCount: 2, rewards, contributions, participants: 0, cutSequence: 10 }),
    { type: 'PayoutBatchPlanned', version: 1, id: '1:batch:0:planned', data: { epochId: 1, batch: 0, fromIndex: 0, count: 2 } },
    {
      type: 'RewardBatchPaid', version: 1, id: txHash,
      data: {
        contract: participant(999), txHash, lt: '77', chainTime: 1_700_000_000, queryId: '5', epochId: 1, fromIndex: 0, count: 2, paidCount: 1,
        paidAmountNanoton: '700000', payouts: [{ index: 0, address: participant(1), amountNanoton: '700000' }],
      },
    },
  ];
  await nats.store.appendMany(events.map((event) => ({ subject: event.type === 'RewardBatchPaid' ? 'pool.chain.distribution' : subjectOf(event), event })));
  await project();
  // every answer is checked against its route's response schema before serialization (a 500 if not)
  api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }), metrics: poolMetrics(pg.db, () => nats.store.lastSequence(), nats.store), artifacts, checkResponses: true, claims: { distribution: DISTRIBUTION, testOnly: true } });
});
test.after(async () => {
  await api.close();
  await nats.stop();
  await pg.drop();
});

const get = async (url: string, headers: Record<string, string> = {}) => {
  const r = await api.inject({ method: 'GET', url, headers });
  const json = /^application\/json\b/.test(String(r.headers['content-type']));
  return { status: r.statusCode, body: r.statusCode === 304 ? undefined : json ? r.json() : r.body, headers: r.headers };
};

/** Every item of a paged list, walking `next` from the first page with `limit` items a page; also the page count. */
async function walk(url: (cursor: string | null) => string, items: (body: any) => unknown[]) {
  const all: unknown[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const { status, body } = await get(url(cursor));
    assert.is(status, 200, url(cursor));
    assert.ok(items(body).length <= 1, 'a page holds at most limit items');
    all.push(...items(body));
    cursor = body.next;
    pages += 1;
    assert.ok(pages < 50, 'the walk ends');
  } while (cursor !== null);
  return { all, pages };
}

test('workers and one worker with its contributions', async () => {
  const { body } = await get('/api/v1/workers');
  assert.equal(body.workers.map((w: { id: string; status: string; participant: string }) => [w.id, w.status, w.participant]), [['w1', 'online', participant(1)], ['w2', 'online', participant(2)]]);
  const w1 = await get('/api/v1/workers/w1');
  assert.is(w1.body.adjustedTokens, '500');
  assert.is(w1.body.contributions[0].tasks, 1);
  assert.is((await get('/api/v1/workers/nope')).status, 404);
  assert.is((await get('/api/v1/workers/a.b')).status, 400);
});

test('participant: accepted in friendly form, returned raw, with rewards', async () => {
  const friendly = Address.parseRaw(participant(1)).toString({ bounceable: false });
  const { status, body } = await get(`/api/v1/participants/${friendly}`);
  assert.is(status, 200);
  assert.is(body.address, participant(1));
  assert.is(body.contributions[0].adjustedTokens, '500');
  assert.equal(body.rewards, { earnedNanoton: '700000', paidNanoton: '700000', pendingNanoton: '0' });
  assert.is((await get('/api/v1/participants/not-an-address')).status, 400);
});

test('epochs: list and detail with the split and the root', async () => {
  const list = await get('/api/v1/epochs');
  assert.is(list.body.epochs.length, 2); // epoch 2 is open after the cut
  const { body } = await get('/api/v1/epochs/1');
  assert.is(body.revenueNanoton, '1000000');
  assert.is(body.operatorFeeNanoton, '50000');
  assert.is(body.rewardsNanoton, '950000');
  assert.is(body.leafCount, 2);
  assert.is(body.merkleRoot, tree.rootHex);
  assert.is(body.status, 'paying');
  assert.is((await get('/api/v1/epochs/0')).status, 400);
  assert.is((await get('/api/v1/epochs/99')).status, 404);
});

test('a proof from the API verifies against the epoch root and names the leaf', async () => {
  const { status, body } = await get(`/api/v1/epochs/1/proofs/${participant(2)}`);
  assert.is(status, 200);
  assert.equal({ epochId: body.epochId, index: body.index, address: body.address, amountNanoton: body.amountNanoton, root: body.root }, {
    epochId: 1, index: 1, address: participant(2), amountNanoton: '250000', root: tree.rootHex,
  });
  const leaves = readRewardsProof(Cell.fromBase64(body.proofBoc), Buffer.from(body.root, 'hex'));
  assert.equal([...leaves.keys()], [1]);
  assert.is(leaves.get(1)!.amount, 250_000n);
  assert.is(leaves.get(1)!.address.toRawString(), participant(2));
  assert.is((await get(`/api/v1/epochs/1/proofs/${participant(3)}`)).status, 404);
});

test('a pull claim of a pending reward: the ClaimReward body of its proof and a ton://transfer link to the distribution; none for a paid one', async () => {
  const { status, body } = await get(`/api/v1/epochs/1/claims/${participant(2)}`);
  assert.is(status, 200);
  assert.equal([body.epochId, body.index, body.address, body.amountNanoton, body.root], [1, 1, participant(2), '250000', tree.rootHex]);
  assert.is(body.distribution, DISTRIBUTION.toString({ bounceable: true, testOnly: true }));
  const msg = Cell.fromBase64(body.bodyBoc).beginParse();
  assert.is(msg.loadUint(32), 0x50c0e003, 'ClaimReward');
  assert.equal([msg.loadUintBig(64), msg.loadUint(32), msg.loadUint(32)], [(1n << 32n) | 1n, 1, 1], 'query_id, epoch, index');
  const leaves = readRewardsProof(msg.loadRef(), Buffer.from(body.root, 'hex'));
  assert.is(leaves.get(1)!.amount, 250_000n);
  const link = new URL(body.link);
  assert.is(`${link.protocol}//${link.host}${link.pathname}`, `ton://transfer/${body.distribution}`);
  assert.is(link.searchParams.get('amount'), body.valueNanoton);
  assert.is(Buffer.from(link.searchParams.get('bin')!, 'base64url').toString('base64'), body.bodyBoc);
  assert.is((await get(`/api/v1/epochs/1/claims/${participant(1)}`)).status, 409, 'paid by the batch already');
  assert.is((await get(`/api/v1/epochs/1/claims/${participant(3)}`)).status, 404);
  const without = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }) });
  assert.is((await without.inject({ method: 'GET', url: `/api/v1/epochs/1/claims/${participant(2)}` })).statusCode, 503);
  await without.close();
});

test('payouts by address: paid by batch with its transaction, or pending', async () => {
  const paid = await get(`/api/v1/payouts?address=${participant(1)}`);
  assert.equal(paid.body.payouts.map((p: { status: string; method: string; batch: number; txHash: string }) => [p.status, p.method, p.batch, p.txHash]), [['paid', 'batch', 0, 'ee'.repeat(32)]]);
  assert.is(paid.body.address, participant(1));
  assert.equal(paid.body.payouts.map((p: { address: string }) => p.address), [participant(1)]);
  const pending = await get(`/api/v1/payouts?address=${participant(2)}`);
  assert.is(pending.body.payouts[0].status, 'pending');
  assert.is((await get(`/api/v1/payouts?address=nope`)).status, 400);
});

test('payouts pool-wide: every reward with its address, filtered by epoch and status', async () => {
  const all = await get('/api/v1/payouts');
  assert.is(all.status, 200);
  assert.is(all.body.address, undefined); // no address filter, no address field
  assert.equal(all.body.payouts.map((p: { epochId: number; index: number; address: string; status: string }) => [p.epochId, p.index, p.address, p.status]), [
    [1, 0, participant(1), 'paid'], [1, 1, participant(2), 'pending'],
  ]);
  assert.is(all.body.next, null);
  const pending = await get('/api/v1/payouts?status=pending');
  assert.equal(pending.body.payouts.map((p: { address: string }) => p.address), [participant(2)]);
  assert.equal((await get('/api/v1/payouts?status=paid&epoch=1')).body.payouts.map((p: { index: number }) => p.index), [0]);
  assert.equal((await get('/api/v1/payouts?epoch=2')).body.payouts, []);
  assert.equal((await get('/api/v1/payouts?before=1')).body.payouts, []);
  const bad = await get('/api/v1/payouts?status=lost');
  assert.is(bad.status, 400);
  assert.is(bad.body.path, 'querystring/status');
  assert.is((await get('/api/v1/payouts?cursor=1')).body.path, 'querystring/cursor');
  assert.is((await get('/api/v1/payouts?cursor=0:1')).body.path, 'querystring/cursor');
});

test('cursor pagination: walking next returns every row exactly once, the last page has next null', async () => {
  const lists: [string, (cursor: string | null) => string, (body: any) => unknown[], (item: any) => string][] = [
    ['/api/v1/workers', (c) => `/api/v1/workers?limit=1${c === null ? '' : `&after=${c}`}`, (b) => b.workers, (w) => w.id],
    ['/api/v1/epochs', (c) => `/api/v1/epochs?limit=1${c === null ? '' : `&before=${c}`}`, (b) => b.epochs, (e) => String(e.id)],
    ['/api/v1/epochs/1/contributions', (c) => `/api/v1/epochs/1/contributions?limit=1${c === null ? '' : `&after=${c}`}`, (b) => b.contributions, (m) => m.participant],
    ['/api/v1/payouts', (c) => `/api/v1/payouts?limit=1${c === null ? '' : `&cursor=${c}`}`, (b) => b.payouts, (p) => `${p.epochId}:${p.index}`],
  ];
  for (const [whole, url, items, key] of lists) {
    const full = await get(whole);
    assert.is(full.body.next, null, whole);
    const expected = items(full.body).map(key);
    assert.ok(expected.length >= 2, `${whole} has rows on more than one page of 1`);
    const { all, pages } = await walk(url, items);
    assert.equal(all.map(key), expected, whole);
    assert.is(pages, expected.length, whole);
  }
  // a page of 1 announces the next one; the last page does not
  const first = await get('/api/v1/workers?limit=1');
  assert.is(first.body.next, 'w1');
  assert.equal((await get('/api/v1/workers?limit=2')).body.next, null);
});

test('healthz reports projection positions', async () => {
  const { status, body } = await get('/healthz');
  assert.is(status, 200);
  assert.is(body.status, 'ok');
  assert.ok(body.database.projections.contributions > 0);
});

test('metrics: projection positions and lag, workers and epochs by status', async () => {
  const r = await api.inject({ method: 'GET', url: '/metrics' });
  assert.is(r.statusCode, 200);
  const last = await nats.store.lastSequence();
  assert.match(r.body, new RegExp(`pool_projection_position\\{projection="contributions"\\} ${last}`));
  assert.match(r.body, /pool_projection_lag_events\{projection="contributions"\} 0/);
  assert.match(r.body, /pool_workers\{status="online",healthy="true"\} 2/);
  assert.match(r.body, /pool_epochs\{status="paying"\} 1/);
  assert.match(r.body, /pool_process_/);
});

const failedTx = (n: number, exitCode: number): PoolEvent => ({
  type: 'ChainTransactionFailed', version: 1, id: n.toString(16).padStart(64, '0'),
  data: { contract: participant(999), txHash: n.toString(16).padStart(64, '0'), lt: String(100 + n), chainTime: 1_700_000_000, sender: participant(5), op: '0x00000001', queryId: '1', exitCode, valueNanoton: '1000' },
});

test('metrics: failed chain transactions counted by contract and exit code, each once across scrapes', async () => {
  const scrape = async () => (await api.inject({ method: 'GET', url: '/metrics' })).body;
  assert.not.match(await scrape(), /pool_chain_transactions_failed_total\{/);
  await nats.store.appendMany([failedTx(1, -14), failedTx(2, -14), failedTx(3, 1110)].map((event, i) => ({ subject: i < 2 ? 'pool.chain.distribution' : 'pool.chain.operator', event })));
  const [first, second] = await Promise.all([scrape(), scrape()]); // concurrent scrapes count each event once
  for (const body of [first, second]) {
    assert.match(body, /pool_chain_transactions_failed_total\{contract="distribution",exit_code="-14"\} 2/);
    assert.match(body, /pool_chain_transactions_failed_total\{contract="operator",exit_code="1110"\} 1/);
  }
  await nats.store.append('pool.chain.distribution', failedTx(4, -14));
  assert.match(await scrape(), /pool_chain_transactions_failed_total\{contract="distribution",exit_code="-14"\} 3/);
});


test('OpenAPI 3.1 document: every /api/v1 route with a 200 schema, and real answers validate against its response schemas', async () => {
  const { status, body: doc } = await get('/api/v1/openapi.json');
  assert.is(status, 200);
  assert.is(doc.openapi, '3.1.0');
  assert.equal(Object.keys(doc.paths).sort(), [
    '/api/v1/epochs', '/api/v1/epochs/{id}', '/api/v1/epochs/{id}/contributions', '/api/v1/epochs/{id}/proofs/{address}', '/api/v1/epochs/{id}/claims/{address}',
    '/api/v1/participants/{address}', '/api/v1/payouts', '/api/v1/workers', '/api/v1/workers/{id}', '/api/v1/workers/{id}/stats',
    // issue 8 (tests/read-api/reads.test.ts and export.test.ts test them in depth)
    '/api/v1/epochs/{id}/artifacts', '/api/v1/epochs/{id}/artifacts/{kind}', '/api/v1/epochs/{id}/rewards', '/api/v1/participants', '/api/v1/pool',
    '/api/v1/participants/{address}/export',
  ].sort());
  // every operation declares its 200 answer (JSON, or the media type it serves) and its error answers
  for (const [path, operations] of Object.entries<Record<string, any>>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(operations)) {
      const content = op.responses?.['200']?.content ?? {};
      assert.ok(Object.keys(content).length && Object.values<any>(content).every((c) => c.schema), `${method.toUpperCase()} ${path} declares no 200 schema`);
      assert.ok(op.responses?.['4XX']?.content?.['application/json']?.schema, `${method.toUpperCase()} ${path} declares no 4xx schema`);
    }
  }
  const ajv = new Ajv({ strict: false });
  const friendly = Address.parseRaw(participant(1)).toString({ bounceable: false });
  const calls: [string, string, string][] = [
    ['/api/v1/workers', '/api/v1/workers', '200'],
    ['/api/v1/workers?limit=1', '/api/v1/workers', '200'],
    ['/api/v1/workers?limit=0', '/api/v1/workers', '4XX'],
    ['/api/v1/workers/w1', '/api/v1/workers/{id}', '200'],
    ['/api/v1/workers/nope', '/api/v1/workers/{id}', '4XX'],
    [`/api/v1/participants/${friendly}`, '/api/v1/participants/{address}', '200'],
    [`/api/v1/participants/${participant(2)}`, '/api/v1/participants/{address}', '200'],
    [`/api/v1/participants/${participant(3)}`, '/api/v1/participants/{address}', '4XX'],
    ['/api/v1/epochs', '/api/v1/epochs', '200'],
    ['/api/v1/epochs?limit=1', '/api/v1/epochs', '200'],
    ['/api/v1/epochs/1', '/api/v1/epochs/{id}', '200'],
    ['/api/v1/epochs/2', '/api/v1/epochs/{id}', '200'],
    ['/api/v1/epochs/99', '/api/v1/epochs/{id}', '4XX'],
    ['/api/v1/epochs/1/contributions', '/api/v1/epochs/{id}/contributions', '200'],
    ['/api/v1/epochs/1/contributions?limit=1', '/api/v1/epochs/{id}/contributions', '200'],
    ['/api/v1/epochs/99/contributions', '/api/v1/epochs/{id}/contributions', '4XX'],
    [`/api/v1/epochs/1/proofs/${participant(2)}`, '/api/v1/epochs/{id}/proofs/{address}', '200'],
    ['/api/v1/epochs/1/proofs/nope', '/api/v1/epochs/{id}/proofs/{address}', '4XX'],
    [`/api/v1/epochs/1/claims/${participant(2)}`, '/api/v1/epochs/{id}/claims/{address}', '200'],
    [`/api/v1/epochs/1/claims/${participant(1)}`, '/api/v1/epochs/{id}/claims/{address}', '4XX'],
    ['/api/v1/payouts', '/api/v1/payouts', '200'],
    ['/api/v1/payouts?limit=1', '/api/v1/payouts', '200'],
    [`/api/v1/payouts?address=${participant(1)}`, '/api/v1/payouts', '200'],
    ['/api/v1/payouts?address=nope', '/api/v1/payouts', '4XX'],
    ['/api/v1/workers/w1/stats?from=1970-01-01T00:00:00Z&to=1970-01-01T01:00:00Z&step=60', '/api/v1/workers/{id}/stats', '200'],
    ['/api/v1/workers/w1/stats?step=5', '/api/v1/workers/{id}/stats', '4XX'],
    ['/api/v1/pool', '/api/v1/pool', '200'],
    ['/api/v1/participants', '/api/v1/participants', '200'],
    ['/api/v1/participants?limit=1', '/api/v1/participants', '200'],
    ['/api/v1/epochs/1/rewards', '/api/v1/epochs/{id}/rewards', '200'],
    ['/api/v1/epochs/1/rewards?limit=1', '/api/v1/epochs/{id}/rewards', '200'],
    ['/api/v1/epochs/99/rewards', '/api/v1/epochs/{id}/rewards', '4XX'],
    ['/api/v1/epochs/1/artifacts', '/api/v1/epochs/{id}/artifacts', '200'],
    ['/api/v1/epochs/1/artifacts/rewards', '/api/v1/epochs/{id}/artifacts/{kind}', '200'],
    ['/api/v1/epochs/1/artifacts/nope', '/api/v1/epochs/{id}/artifacts/{kind}', '4XX'],
    [`/api/v1/participants/${participant(1)}/export?format=csv`, '/api/v1/participants/{address}/export', '200'],
    [`/api/v1/participants/${participant(1)}/export?format=xls`, '/api/v1/participants/{address}/export', '4XX'],
  ];
  // a route of the document without a real 200 answer checked here fails the test
  assert.equal([...new Set(calls.filter((c) => c[2] === '200').map((c) => c[1]))].sort(), Object.keys(doc.paths).sort());
  for (const [url, path, code] of calls) {
    const answer = await get(url);
    assert.is(String(answer.status)[0], code[0], `${url}: ${JSON.stringify(answer.body)}`);
    // the answer's media type is one the document declares for it; a JSON body validates against its schema
    const type = String(answer.headers['content-type']).split(';')[0]!;
    const declared = doc.paths[path].get.responses[code].content;
    assert.ok(declared[type], `${url}: ${type} is not declared (${Object.keys(declared).join(', ')})`);
    assert.ok(ajv.validate(declared[type].schema, answer.body), `${url}: ${ajv.errorsText()}`);
  }
});

test('Swagger UI at /api/v1/docs over the same document, itself not in the document', async () => {
  const bare = await api.inject({ method: 'GET', url: '/api/v1/docs' });
  assert.ok(bare.statusCode === 200 || (bare.statusCode >= 300 && bare.statusCode < 400), `GET /api/v1/docs: ${bare.statusCode}`);
  const page = await api.inject({ method: 'GET', url: '/api/v1/docs/' });
  assert.is(page.statusCode, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.match(page.body, /swagger-ui/i);
  const init = await api.inject({ method: 'GET', url: '/api/v1/docs/static/swagger-initializer.js' });
  assert.is(init.statusCode, 200);
  assert.match(init.body, /resolveUrl\('\.\/json'\)/); // the UI loads ./json, beside it
  const bundle = await api.inject({ method: 'GET', url: '/api/v1/docs/static/swagger-ui-bundle.js' });
  assert.is(bundle.statusCode, 200); // the UI's own assets ship in the package
  assert.match(String(bundle.headers['content-type']), /javascript/);
  const uiDoc = await get('/api/v1/docs/json');
  assert.is(uiDoc.status, 200);
  assert.equal(uiDoc.body, (await get('/api/v1/openapi.json')).body);
  assert.ok(!Object.keys(uiDoc.body.paths).some((p) => p.startsWith('/api/v1/docs') || p === '/api/v1/openapi.json'));
  assert.is((await api.inject({ method: 'POST', url: '/api/v1/docs/' })).statusCode, 405);
});

test('CORS: none by default; an allowed origin gets Access-Control-Allow-Origin and a preflight, others not', async () => {
  const origin = 'https://pool.example';
  const preflight = (app: typeof api, from: string) =>
    app.inject({ method: 'OPTIONS', url: '/api/v1/epochs', headers: { origin: from, 'access-control-request-method': 'GET' } });
  // no origins configured: no CORS header, OPTIONS is a method no route takes
  const plain = await get('/api/v1/epochs', { origin });
  assert.is(plain.status, 200);
  assert.is(plain.headers['access-control-allow-origin'], undefined);
  const refused = await preflight(api, origin);
  assert.is(refused.statusCode, 405);
  assert.is(refused.headers['access-control-allow-origin'], undefined);

  const withCors = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }), cors: { origins: [origin] } });
  const star = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }), cors: { origins: ['*'] } });
  try {
    const allowed = await withCors.inject({ method: 'GET', url: '/api/v1/epochs', headers: { origin } });
    assert.is(allowed.statusCode, 200);
    assert.is(allowed.headers['access-control-allow-origin'], origin);
    const other = await withCors.inject({ method: 'GET', url: '/api/v1/epochs', headers: { origin: 'https://evil.example' } });
    assert.is(other.statusCode, 200);
    assert.is(other.headers['access-control-allow-origin'], undefined);
    const ok = await preflight(withCors, origin);
    assert.is(ok.statusCode, 204);
    assert.is(ok.headers['access-control-allow-origin'], origin);
    assert.match(String(ok.headers['access-control-allow-methods']), /GET/);
    const no = await preflight(withCors, 'https://evil.example');
    assert.is(no.headers['access-control-allow-origin'], undefined);
    // a method no route takes is still 405 with its Allow, preflight or not
    const del = await withCors.inject({ method: 'DELETE', url: '/api/v1/epochs', headers: { origin } });
    assert.is(del.statusCode, 405);
    assert.is(del.headers.allow, 'GET, HEAD');
    const any = await star.inject({ method: 'GET', url: '/api/v1/workers', headers: { origin: 'https://anyone.example' } });
    assert.is(any.headers['access-control-allow-origin'], '*');
    assert.is((await preflight(star, 'https://anyone.example')).statusCode, 204);
  } finally {
    await Promise.all([withCors.close(), star.close()]);
  }
});

test('caching: an unsettled epoch is no-cache; once settled its answers are immutable with an ETag and 304 on If-None-Match', async () => {
  const urls = ['/api/v1/epochs/1', '/api/v1/epochs/1/contributions', `/api/v1/epochs/1/proofs/${participant(2)}`, '/api/v1/epochs/1/rewards'];
  for (const url of urls) {
    const r = await get(url);
    assert.is(r.status, 200);
    assert.is(r.headers['cache-control'], 'no-cache', url);
    assert.is(r.headers.etag, undefined, url);
  }
  await nats.store.append('pool.epoch.1', { type: 'EpochSettled', version: 1, id: '1:settled', data: { epochId: 1, payoutsConfirmed: 2, paidNanoton: '950000', settledAtMs: 30_000 } });
  await project();
  assert.is((await get('/api/v1/epochs/1')).body.status, 'settled');
  assert.is((await get('/api/v1/epochs/2')).headers['cache-control'], 'no-cache'); // still open
  const etags = new Set<string>();
  for (const url of urls) {
    const r = await get(url);
    assert.is(r.status, 200);
    assert.is(r.headers['cache-control'], 'public, max-age=31536000, immutable', url);
    const etag = String(r.headers.etag);
    assert.match(etag, /^"[0-9a-f]{32}"$/, url); // strong
    etags.add(etag);
    const again = await get(url, { 'if-none-match': etag });
    assert.is(again.status, 304, url);
    assert.is(again.headers.etag, etag);
    assert.is((await api.inject({ method: 'GET', url, headers: { 'if-none-match': etag } })).body, '');
    assert.is((await get(url, { 'if-none-match': `"other", W/${etag}` })).status, 304, `${url}: weak or listed tag`);
    const changed = await get(url, { 'if-none-match': '"0123456789abcdef0123456789abcdef"' });
    assert.is(changed.status, 200);
    assert.equal(changed.body, r.body);
  }
  assert.is(etags.size, urls.length); // one tag per answer
  const doc = (await get('/api/v1/openapi.json')).body;
  for (const path of ['/api/v1/epochs/{id}', '/api/v1/epochs/{id}/contributions', '/api/v1/epochs/{id}/proofs/{address}', '/api/v1/epochs/{id}/rewards']) assert.ok(doc.paths[path].get.responses['304'], `${path} documents its 304`);
  // another page of the same epoch is another answer, with its own tag
  const page1 = await get('/api/v1/epochs/1/contributions?limit=1');
  assert.ok(page1.headers.etag && !etags.has(String(page1.headers.etag)));
});
test.run();
