/**
 * /healthz while a dependency is down: a nats-server the test owns is SIGKILLed; /healthz answers
 * 503 at once with the reason, and 200 again once the server is back.
 */
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildReadApi } from '../../read-api/server.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { until } from '../support/until.ts';

let nats: TestNats;
let pg: TestDb;
let api: ReturnType<typeof buildReadApi>;

test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
  api = buildReadApi({
    db: pg.db,
    logger: pino({ level: 'silent' }),
    dependencies: { nats: async () => ({ streamSequence: await nats.store.lastSequence() }) },
    healthTimeoutMs: 500,
  });
});

test.after(async () => {
  await api.close();
  await Promise.all([nats.stop(), pg.drop()]);
});

async function health(): Promise<{ status: number; body: Record<string, any> }> {
  const r = await api.inject({ method: 'GET', url: '/healthz' });
  return { status: r.statusCode, body: r.json() };
}

test('200 with every dependency up, 503 with the reason while NATS is down, 200 when it is back', async () => {
  const up = await health();
  assert.is(up.status, 200);
  assert.equal([up.body.status, up.body.nats.status, up.body.database.status], ['ok', 'up', 'up']);
  assert.is(up.body.reasons, undefined);

  await nats.kill();
  const down = await health(); // answers within the timeout, whatever NATS does
  assert.is(down.status, 503);
  assert.is(down.body.status, 'unavailable');
  assert.is(down.body.nats.status, 'down');
  assert.is(down.body.database.status, 'up');
  assert.equal(down.body.reasons.length, 1);
  assert.match(down.body.reasons[0], /^nats: /);

  await nats.restart();
  await until('healthz 200 after the restart', async () => (await health()).status === 200);
});

test.run();
