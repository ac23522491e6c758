/**
 * A pool's JetStream names from its pool id (streams/names.ts): the default pool keeps every earlier
 * release's names, another id gets its own, ids that would collide are refused, and logical
 * subjects map to wire subjects and back.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveConfig } from '../../config/config.ts';
import { permissionsOf, inboxPrefixOf, userOf } from '../../infra/nats/roles.ts';
import { subjectFor } from '../../schemas/catalog.ts';
import { DEFAULT_POOL_NAMES, logicalSubject, poolNames, PoolIdError, wireSubject } from '../../streams/names.ts';
import { streamConfigs } from '../../streams/topology.ts';

test('the default pool keeps the names of every earlier release (no migration)', () => {
  assert.equal(
    { ...DEFAULT_POOL_NAMES },
    { poolId: 'pool', eventStream: 'POOL', deadLetterStream: 'POOL_DLQ', subjectRoot: 'pool', deadLetterRoot: 'dlq.pool', artifactBucket: 'pool_artifacts', cursorBucket: 'pool_cursors', leaseBucket: 'pool_leases' },
  );
  assert.equal(streamConfigs().map((c) => [c.name, c.subjects]), [['POOL', ['pool.>']], ['POOL_DLQ', ['dlq.pool.>']]]);
  assert.is(wireSubject(DEFAULT_POOL_NAMES, 'pool.work.w1'), 'pool.work.w1');
  assert.is(userOf('producers'), 'producers');
  assert.is(inboxPrefixOf('producers'), '_INBOX_producers');
});

test('another pool id names its own streams, subjects, buckets, users and inboxes', () => {
  const acme = poolNames('acme');
  assert.equal(streamConfigs({ names: acme }).map((c) => [c.name, c.subjects]), [['ACME', ['acme.>']], ['ACME_DLQ', ['dlq.acme.>']]]);
  assert.is(acme.artifactBucket, 'acme_artifacts');
  assert.is(acme.cursorBucket, 'acme_cursors');
  assert.is(acme.leaseBucket, 'acme_leases');
  assert.is(userOf('epoch-saga', acme), 'acme-epoch-saga');
  assert.is(inboxPrefixOf('epoch-saga', acme), '_INBOX_acme_epoch-saga');
  const perms = permissionsOf('producers', acme);
  assert.ok(perms.publish.includes('acme.telemetry.>'));
  assert.ok(perms.publish.includes('dlq.acme.poller'));
  assert.ok(perms.publish.includes('$KV.acme_cursors.tailer.>'));
  assert.ok(perms.publish.includes('$JS.API.STREAM.INFO.ACME'));
  assert.not.ok(perms.publish.some((s) => s.startsWith('pool.') || s.includes('POOL') || s.includes('pool_')), perms.publish.join(' '));
  assert.equal(perms.subscribe, ['_INBOX_acme_producers.>']);
});

test('logical subjects map to the wire and back; subjectFor is the one builder', () => {
  const acme = poolNames('acme');
  const subject = subjectFor('EpochClosing', 7);
  assert.is(subject, 'pool.epoch.7');
  assert.is(subjectFor('epoch', 7), subject);
  assert.is(wireSubject(acme, subject), 'acme.epoch.7');
  assert.is(wireSubject(acme, 'pool.>'), 'acme.>');
  assert.is(logicalSubject(acme, 'acme.epoch.7'), subject);
  assert.throws(() => wireSubject(acme, 'acme.epoch.7'), (e: Error) => e instanceof PoolIdError);
  assert.throws(() => subjectFor('epoch', 'a.b'), /not a subject token/);
});

test('pool ids that cannot name a stream, a bucket and a token, or that collide, are refused', () => {
  for (const bad of ['', 'Acme', '1pool', 'a.b', 'a_b', 'a>', '_x', 'x'.repeat(32)]) {
    assert.throws(() => poolNames(bad), (e: Error) => e instanceof PoolIdError, bad);
  }
  assert.throws(() => poolNames('dlq'), /reserved/);
  assert.is(poolNames('my-pool-2').eventStream, 'MY-POOL-2');
});

test('config: poolId from POOL_ID, checked with the reason', () => {
  assert.is(resolveConfig({ env: {} }).poolId, 'pool');
  assert.is(resolveConfig({ env: { POOL_ID: 'acme' } }).poolId, 'acme');
  assert.throws(() => resolveConfig({ env: { POOL_ID: 'dlq' } }), /POOL_ID="dlq".*reserved/s);
  assert.throws(() => resolveConfig({ env: { POOL_ID: 'Acme' } }), /POOL_ID="Acme"/);
});

test.run();
