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
const amounts = [700_000n, 250_000n];
const tree = buildRewardsTree(amounts.map((amount, i) => ({ address: Address.parseRaw(participant(i + 1)), amount })));

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  const artifacts = await openArtifactStore(nats.nc);
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
  for (const projection of poolProjections({ pollIntervalMs: 2000, maxTaskSeconds: 60 })) {
    await runProjection(projection, { store: nats.store, db: pg.db, artifacts, deadLetter: deadLetterTo(nats.js), logger: pino({ level: 'silent' }), follow: false });
  }
  api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }), metrics: poolMetrics(pg.db, () => nats.store.lastSequence(), nats.store) });
});
test.after(async () => {
  await api.close();
  await nats.stop();
  await pg.drop();
});

const get = async (url: string) => {
  const r = await api.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() };
};

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

test('payouts by address: paid by batch with its transaction, or pending', async () => {
  const paid = await get(`/api/v1/payouts?address=${participant(1)}`);
  assert.equal(paid.body.payouts.map((p: { status: string; method: string; batch: number; txHash: string }) => [p.status, p.method, p.batch, p.txHash]), [['paid', 'batch', 0, 'ee'.repeat(32)]]);
  const pending = await get(`/api/v1/payouts?address=${participant(2)}`);
  assert.is(pending.body.payouts[0].status, 'pending');
  assert.is((await get('/api/v1/payouts')).status, 400);
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


test('OpenAPI 3.1 document: every /api/v1 route, and real answers validate against its response schemas', async () => {
  const { status, body: doc } = await get('/api/v1/openapi.json');
  assert.is(status, 200);
  assert.is(doc.openapi, '3.1.0');
  assert.equal(Object.keys(doc.paths).sort(), [
    '/api/v1/epochs', '/api/v1/epochs/{id}', '/api/v1/epochs/{id}/contributions', '/api/v1/epochs/{id}/proofs/{address}',
    '/api/v1/participants/{address}', '/api/v1/payouts', '/api/v1/workers', '/api/v1/workers/{id}', '/api/v1/workers/{id}/stats',
    // issue 8 (tests/read-api/reads.test.ts validates their answers)
    '/api/v1/epochs/{id}/artifacts', '/api/v1/epochs/{id}/artifacts/{kind}', '/api/v1/epochs/{id}/rewards', '/api/v1/participants', '/api/v1/pool',
    '/api/v1/participants/{address}/export',
  ].sort());
  const ajv = new Ajv({ strict: false });
  const calls: [string, string, string][] = [
    ['/api/v1/epochs/1/contributions', '/api/v1/epochs/{id}/contributions', '200'],
    ['/api/v1/epochs/99/contributions', '/api/v1/epochs/{id}/contributions', '4XX'],
    ['/api/v1/workers/nope', '/api/v1/workers/{id}', '4XX'],
    ['/api/v1/epochs/1/proofs/nope', '/api/v1/epochs/{id}/proofs/{address}', '4XX'],
    ['/api/v1/payouts', '/api/v1/payouts', '4XX'],
    [`/api/v1/payouts?address=${participant(1)}`, '/api/v1/payouts', '200'],
    [`/api/v1/epochs/1/proofs/${participant(2)}`, '/api/v1/epochs/{id}/proofs/{address}', '200'],
    ['/api/v1/workers/w1/stats?from=1970-01-01T00:00:00Z&to=1970-01-01T01:00:00Z&step=60', '/api/v1/workers/{id}/stats', '200'],
    ['/api/v1/workers/w1/stats?step=5', '/api/v1/workers/{id}/stats', '4XX'],
  ];
  for (const [url, path, code] of calls) {
    const answer = await get(url);
    assert.is(String(answer.status)[0], code[0], url);
    const schema = doc.paths[path].get.responses[code].content['application/json'].schema;
    assert.ok(ajv.validate(schema, answer.body), `${url}: ${ajv.errorsText()}`);
  }
});
test.run();
