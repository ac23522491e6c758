/**
 * Artifacts in the real JetStream object store (streams/artifacts.ts): the streamed line format,
 * the sha256 over the stored bytes, artifacts in the JSON-array format written before, and refusals.
 */
import { createHash } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArtifactError, openArtifactStore, type ArtifactRef } from '../../streams/artifacts.ts';
import { ARTIFACT_BUCKET } from '../../streams/topology.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
test.before(async () => {
  nats = await startTestNats();
});
test.after(async () => {
  await nats.stop();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const bucket = () => new Objm(nats.nc).open(ARTIFACT_BUCKET);

async function refusal(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, ArtifactError);
    return (err as Error).message;
  }
  throw new Error('not refused');
}

test('rows round-trip through the line format; the reference hashes the stored bytes', async () => {
  const artifacts = await openArtifactStore(nats.nc);
  const rows = Array.from({ length: 5000 }, (_, i) => ({ index: i, participant: `0:${i.toString(16).padStart(64, '0')}`, amountNanoton: String(10n ** 18n + BigInt(i)), note: i === 7 ? 'a\nline "break" ü' : null }));
  const ref = await artifacts.putRows('epoch-1-rewards.json', rows);
  const stored = (await (await bucket()).getBlob(ref.name))!;
  assert.is(ref.sha256, sha256(stored));
  assert.is(ref.bytes, stored.length);
  assert.is(ref.rows, 5000);
  const text = new TextDecoder().decode(stored);
  assert.is(text.split('\n')[0], '{"columns":["index","participant","amountNanoton","note"]}');
  assert.is(text.split('\n')[1], `[0,"0:${'0'.repeat(64)}","1000000000000000000",null]`);
  assert.equal(await artifacts.getRows(ref), rows);
  const empty = await artifacts.putRows('epoch-1-contributions.json', []);
  assert.equal(await artifacts.getRows(empty), []);
});

test('an artifact stored before as one JSON array still reads, verified by its sha256', async () => {
  const artifacts = await openArtifactStore(nats.nc);
  const rows = [{ participant: 'p1', workers: 2, adjustedTokens: '100' }, { participant: 'p2', workers: 1, adjustedTokens: '7' }];
  const bytes = new TextEncoder().encode(JSON.stringify(rows));
  await (await bucket()).putBlob({ name: 'epoch-0-contributions.json' }, bytes);
  const ref: ArtifactRef = { bucket: ARTIFACT_BUCKET, name: 'epoch-0-contributions.json', sha256: sha256(bytes), bytes: bytes.length, rows: 2 };
  assert.equal(await artifacts.getRows(ref), rows);
});

test('other bytes under the name, a missing artifact and rows of two shapes are refused', async () => {
  const artifacts = await openArtifactStore(nats.nc);
  const ref = await artifacts.putRows('epoch-2-rewards.json', [{ index: 0, amount: '5' }]);
  await (await bucket()).putBlob({ name: ref.name }, new TextEncoder().encode('{"columns":["index","amount"]}\n[0,"6"]\n'));
  assert.match(await refusal(() => artifacts.getRows(ref)), /sha256 [0-9a-f]{64} does not match/);
  await (await bucket()).putBlob({ name: ref.name }, new TextEncoder().encode('{"columns":["index"]}\n[0,'));
  assert.match(await refusal(() => artifacts.getRows(ref)), /does not match/, 'malformed and other bytes: the sha256 is what is reported');
  assert.match(await refusal(() => artifacts.getRows({ ...ref, name: 'epoch-404-rewards.json' })), /is missing/);
  assert.match(await refusal(() => artifacts.putRows('epoch-3-rewards.json', [{ index: 0 }, { index: 1, extra: true }])), /row 1 has other keys/);
  assert.match(await refusal(() => artifacts.putRows('epoch-3-rewards.json', [{ index: 0, a: 1 }, { index: 1, a: undefined }])), /row 1 has no value for a/);
});

test.run();
