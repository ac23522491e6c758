/**
 * Read models belong to one stream, end to end with the real `pool start`: a pool runs, its NATS
 * store is lost (a new stream) while its read models are kept; the next start is refused with
 * what to do, and `--rebuild` drops the read models and replays the new stream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnPool } from '../support/pool.ts';
import { until } from '../support/until.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pool-stream-'));
test.after(() => rmSync(dataDir, { recursive: true, force: true }));

test('a pool builds its read models from its stream', async () => {
  const run = spawnPool('node', ['--no-faults'], dataDir);
  try {
    const api = JSON.parse(await run.waitFor(/"msg":"pool started"/, 300_000)).api as string;
    await until('polls in the read models', async () => {
      const { workers } = (await (await fetch(`${api}/api/v1/workers`)).json()) as { workers: { pollsOk: number }[] };
      return workers.some((w) => w.pollsOk >= 2) ? true : undefined;
    });
  } finally {
    run.child.kill('SIGTERM');
    assert.is(await run.exited, 0);
  }
});

test('the read models with a new stream: the start is refused with what to do; --rebuild replays the new stream', async () => {
  rmSync(join(dataDir, 'nats'), { recursive: true, force: true }); // the stream is lost; the read models are not
  const refused = spawnPool('node', ['--no-faults'], dataDir);
  const message = await refused.waitFor(/"msg":"pool started"/).then(
    () => 'started',
    (err: Error) => err.message,
  );
  assert.is(await refused.exited, 1);
  assert.match(message, /were built from stream POOL created .* but the NATS server's stream POOL was created/);
  assert.match(message, /Point DATABASE_URL at the database of this stream, or start with --rebuild/);

  const rebuilt = spawnPool('node', ['--no-faults', '--rebuild'], dataDir);
  try {
    await rebuilt.waitFor(/"msg":"read models dropped \(--rebuild\)/, 300_000);
    const api = JSON.parse(await rebuilt.waitFor(/"msg":"pool started"/)).api as string;
    // only the new stream's history: epoch 1 opened again, open, nothing of the old epochs
    const epochs = await until('epoch 1 of the new stream', async () => {
      const { epochs } = (await (await fetch(`${api}/api/v1/epochs`)).json()) as { epochs: { id: number; status: string }[] };
      return epochs.length ? epochs : undefined;
    });
    assert.equal(epochs.map((e) => [e.id, e.status]), [[1, 'open']]);
  } finally {
    rebuilt.child.kill('SIGTERM');
    await rebuilt.exited;
  }
});

test.run();
