/**
 * The tax export (GET /api/v1/participants/:address/export) against a real PostgreSQL: rewards rows
 * written into the read model, the CSV parsed back and checked cell by cell; the price file loader;
 * the nanoTON and fiat formatters.
 */
import { Address } from '@ton/core';
import { Ajv } from 'ajv';
import { parse } from 'csv-parse/sync';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../config/config.ts';
import { fiatValue, formatTonFixed, MoneyError } from '../../domain/money.ts';
import { loadPriceFile } from '../../read-api/routes/exports.ts';
import { buildReadApi } from '../../read-api/server.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { participant } from '../support/events.ts';

let pg: TestDb;
let api: ReturnType<typeof buildReadApi>;
let withPrices: ReturnType<typeof buildReadApi>;
const dir = mkdtempSync(join(tmpdir(), 'export-test-'));
const day = (d: string, time = '12:00:00') => Date.parse(`${d}T${time}Z`);
const tx = (n: number) => n.toString(16).padStart(64, 'a');

// participant 1: three paid rewards (two days, across a month boundary) and one pending
// participant 2: one pending reward only (known, nothing received); participant 3: another paid one
const rows = [
  { epoch_id: 1, leaf_index: 0, participant: participant(1), amount_nanoton: '1500000000', score_ppb: 0, status: 'paid', method: 'batch', batch: 0, tx_hash: tx(1), paid_at_ms: day('2026-01-31', '23:59:59') },
  { epoch_id: 2, leaf_index: 0, participant: participant(1), amount_nanoton: '1', score_ppb: 0, status: 'paid', method: 'claim', batch: null, tx_hash: tx(2), paid_at_ms: day('2026-02-01', '00:00:00') },
  { epoch_id: 3, leaf_index: 0, participant: participant(1), amount_nanoton: '123456789012', score_ppb: 0, status: 'paid', method: 'batch', batch: 1, tx_hash: tx(3), paid_at_ms: day('2026-02-03', '08:30:05') },
  { epoch_id: 4, leaf_index: 0, participant: participant(1), amount_nanoton: '999', score_ppb: 0, status: 'pending', method: null, batch: null, tx_hash: null, paid_at_ms: null },
  { epoch_id: 4, leaf_index: 1, participant: participant(2), amount_nanoton: '5000', score_ppb: 0, status: 'pending', method: null, batch: null, tx_hash: null, paid_at_ms: null },
  { epoch_id: 3, leaf_index: 1, participant: participant(3), amount_nanoton: '7', score_ppb: 0, status: 'paid', method: 'batch', batch: 1, tx_hash: tx(4), paid_at_ms: day('2026-02-03') },
];

test.before(async () => {
  pg = await createMigratedDatabase();
  await pg.db.insertInto('rewards').values(rows).execute();
  const file = join(dir, 'prices.csv');
  writeFileSync(file, 'date,price\n2026-01-31,2.345\n\n2026-02-03,5\n');
  api = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }) });
  withPrices = buildReadApi({ db: pg.db, logger: pino({ level: 'silent' }), prices: loadPriceFile(file, 'EUR') });
});
test.after(async () => {
  await Promise.all([api.close(), withPrices.close()]);
  await pg.drop();
});

const exportOf = async (app: typeof api, address: string, query: string) => {
  const r = await app.inject({ method: 'GET', url: `/api/v1/participants/${address}/export?${query}` });
  return { status: r.statusCode, headers: r.headers, body: r.body, records: r.statusCode === 200 ? (parse(r.body, { columns: true }) as Record<string, string>[]) : [] };
};

test('formatTonFixed: exactly 9 decimals from nanoTON, string math', () => {
  assert.is(formatTonFixed(1_500_000_000n), '1.500000000');
  assert.is(formatTonFixed(1n), '0.000000001');
  assert.is(formatTonFixed(0n), '0.000000000');
  assert.is(formatTonFixed(123_456_789_012n), '123.456789012');
  assert.is(formatTonFixed(2n ** 70n), '1180591620717.411303424'); // beyond a double's exact integers
});

test('fiatValue: amount × price with 2 decimals, half up, exact', () => {
  assert.is(fiatValue(1_500_000_000n, '2.345'), '3.52'); // 3.5175
  assert.is(fiatValue(1_000_000_000n, '0.005'), '0.01'); // 0.005 → half up
  assert.is(fiatValue(1_000_000_000n, '0.0049'), '0.00');
  assert.is(fiatValue(123_456_789_012n, '5'), '617.28'); // 617.28394506
  assert.is(fiatValue(0n, '5'), '0.00');
  assert.throws(() => fiatValue(1n, '1e3'), (e: unknown) => e instanceof MoneyError);
  assert.throws(() => fiatValue(1n, '-1'), (e: unknown) => e instanceof MoneyError);
});

test('koinly: the universal template columns, UTC dates, 9-decimal TON, label and epoch, oldest first', async () => {
  const friendly = Address.parseRaw(participant(1)).toString({ bounceable: false });
  const r = await exportOf(api, friendly, 'format=koinly');
  assert.is(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/csv/);
  assert.is(r.headers['content-disposition'], `attachment; filename="${participant(1).replace(':', '_')}-rewards-koinly.csv"`);
  assert.is(r.body.split('\n')[0], 'Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash');
  assert.equal(
    r.records.map((x) => [x['Date'], x['Received Amount'], x['Received Currency'], x['Label'], x['Description'], x['TxHash'], x['Sent Amount'], x['Net Worth Amount']]),
    [
      ['2026-01-31 23:59:59 UTC', '1.500000000', 'TON', 'reward', 'epoch 1', tx(1), '', ''],
      ['2026-02-01 00:00:00 UTC', '0.000000001', 'TON', 'reward', 'epoch 2', tx(2), '', ''],
      ['2026-02-03 08:30:05 UTC', '123.456789012', 'TON', 'reward', 'epoch 3', tx(3), '', ''],
    ],
  );
});

test('csv: ISO dates, nanoTON and TON, method and hash; the pending reward is not received', async () => {
  const r = await exportOf(api, participant(1), 'format=csv');
  assert.is(r.status, 200);
  assert.is(r.body.split('\n')[0], 'date_utc,epoch,amount_nanoton,amount_ton,currency,label,method,tx_hash,fiat_value,fiat_currency');
  assert.equal(
    r.records.map((x) => [x.date_utc, x.epoch, x.amount_nanoton, x.amount_ton, x.currency, x.method, x.tx_hash, x.fiat_value]),
    [
      ['2026-01-31T23:59:59.000Z', '1', '1500000000', '1.500000000', 'TON', 'batch', tx(1), ''],
      ['2026-02-01T00:00:00.000Z', '2', '1', '0.000000001', 'TON', 'claim', tx(2), ''],
      ['2026-02-03T08:30:05.000Z', '3', '123456789012', '123.456789012', 'TON', 'batch', tx(3), ''],
    ],
  );
  for (const x of r.records) {
    assert.is(BigInt(x.amount_nanoton!), BigInt(x.amount_ton!.replace('.', ''))); // the two amounts agree exactly
  }
});

test('from inclusive, to exclusive, on the paid time; days or ISO times', async () => {
  const epochs = async (q: string) => (await exportOf(api, participant(1), `format=csv&${q}`)).records.map((x) => x.epoch);
  assert.equal(await epochs('from=2026-02-01'), ['2', '3']);
  assert.equal(await epochs('to=2026-02-01'), ['1']);
  assert.equal(await epochs('from=2026-02-01&to=2026-02-03'), ['2']);
  assert.equal(await epochs('from=2026-01-31T23:59:59Z&to=2026-02-01T00:00:00.001Z'), ['1', '2']);
  assert.equal(await epochs('from=2026-02-03T09:30:05%2B01:00'), ['3']); // 08:30:05Z, inclusive
  assert.equal(await epochs('from=2027-01-01'), []);
});

test('bad parameters are 400 naming them; unknown participant 404; known without received rewards: header only', async () => {
  for (const [q, path] of [
    ['format=xls', 'querystring/format'],
    ['', 'querystring/format'],
    ['format=csv&from=2026-02-30', 'querystring/from'],
    ['format=csv&from=31.01.2026', 'querystring/from'],
    ['format=csv&to=2026-01-01T25:00Z', 'querystring/to'],
    ['format=csv&from=2026-02-02&to=2026-02-01', 'querystring/to'],
    ['format=csv&limit=1', 'querystring/limit'],
  ] as const) {
    const r = await exportOf(api, participant(1), q);
    assert.is(r.status, 400, q);
    assert.is(JSON.parse(r.body).path, path, q);
  }
  assert.is((await exportOf(api, 'nope', 'format=csv')).status, 400);
  const unknown = await exportOf(api, participant(9), 'format=koinly');
  assert.is(unknown.status, 404);
  assert.is(JSON.parse(unknown.body).error, 'not_found');
  const empty = await exportOf(api, participant(2), 'format=koinly');
  assert.is(empty.status, 200);
  assert.is(empty.body.trim().split('\n').length, 1);
  assert.equal(empty.records, []);
});

test('fiat from the price file: that UTC day\'s price × amount, 2 decimals; a missing day leaves it empty', async () => {
  const koinly = await exportOf(withPrices, participant(1), 'format=koinly');
  assert.equal(koinly.records.map((x) => [x['Net Worth Amount'], x['Net Worth Currency']]), [['3.52', 'EUR'], ['', ''], ['617.28', 'EUR']]);
  const csv = await exportOf(withPrices, participant(1), 'format=csv');
  assert.equal(csv.records.map((x) => [x.fiat_value, x.fiat_currency]), [['3.52', 'EUR'], ['', ''], ['617.28', 'EUR']]);
});

test('price file: each bad line named in a ConfigError', () => {
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const problems = (file: string) => {
    try {
      loadPriceFile(file, 'USD');
    } catch (err) {
      assert.instance(err, ConfigError);
      return (err as ConfigError).problems;
    }
    assert.unreachable('no ConfigError');
    return [];
  };
  const bad = problems(write('bad.csv', 'date,price\n2026-01-01,1.5\n2026-02-30,1\n2026-01-02,abc\n2026-01-01,2\n2026-01-03\n'));
  assert.is(bad.length, 4);
  assert.match(bad[0]!, /line 3 .*"2026-02-30" is not a day/);
  assert.match(bad[1]!, /line 4 .*"abc" is not a decimal price/);
  assert.match(bad[2]!, /line 5 .*2026-01-01 has a price already/);
  assert.match(bad[3]!, /line 6 .*must be <YYYY-MM-DD>,<price>/);
  assert.match(problems(write('header.csv', 'day,usd\n2026-01-01,1\n'))[0]!, /line 1 .*must be the header date,price/);
  assert.match(problems(join(dir, 'missing.csv'))[0]!, /cannot be read/);
  const ok = loadPriceFile(write('ok.csv', '\uFEFFdate,price\r\n2026-01-01,0.5\r\n'), 'USD');
  assert.equal([...ok.byDay], [['2026-01-01', '0.5']]);
});

test('OpenAPI: the export is described, 200 as a text/csv string, errors as JSON', async () => {
  const doc = (await api.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
  const op = doc.paths['/api/v1/participants/{address}/export'].get;
  assert.equal(Object.keys(op.responses['200'].content), ['text/csv']);
  assert.is(op.responses['200'].content['text/csv'].schema.type, 'string');
  assert.equal(op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort(), ['path:address', 'query:format', 'query:from', 'query:to']);
  const ajv = new Ajv({ strict: false });
  const answer = await exportOf(api, participant(9), 'format=csv');
  assert.ok(ajv.validate(op.responses['4XX'].content['application/json'].schema, JSON.parse(answer.body)), ajv.errorsText());
  assert.ok(ajv.validate(op.responses['200'].content['text/csv'].schema, (await exportOf(api, participant(1), 'format=csv')).body));
});

test.run();
