import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Compile from 'typebox/compile';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definitions } from '../../schemas/catalog.ts';
import { envelopeSchema, exportedFiles, OUTPUT_DIR } from '../../schemas/export.ts';
import { bound, sample, task } from '../support/events.ts';

test('the committed JSON Schemas and AsyncAPI document are up to date (npm run schemas)', () => {
  const files = exportedFiles();
  assert.equal(readdirSync(OUTPUT_DIR).sort(), [...files.keys()].sort());
  for (const [name, content] of files) assert.is(readFileSync(join(OUTPUT_DIR, name), 'utf8'), content, name);
});

test('an exported envelope schema accepts a real event and rejects a tampered one', () => {
  const def = definitions.find((d) => d.type === 'TaskCompleted')!;
  const check = (value: unknown): boolean => Compile(envelopeSchema(def) as never).Check(value);
  const e = task('w1', 1);
  assert.ok(check(e));
  assert.not.ok(check({ ...e, data: { ...(e.data as object), totalTokens: -1 } }));
  assert.not.ok(check({ ...e, type: 'Other' }));
  for (const event of [bound('w1', 1), sample('w1', 1, 2)]) {
    const d = definitions.find((x) => x.type === event.type)!;
    assert.ok(Compile(envelopeSchema(d) as never).Check(event), event.type);
  }
});

test('the AsyncAPI document names every event under its subject pattern', () => {
  const doc = JSON.parse(readFileSync(join(OUTPUT_DIR, 'asyncapi.json'), 'utf8'));
  const channels = doc.channels as Record<string, { address: string; messages: Record<string, unknown> }>;
  const named = Object.values(channels).flatMap((c) => Object.keys(c.messages));
  assert.equal(named.sort(), definitions.map((d) => d.type).sort());
  assert.is(channels.epoch!.address, 'pool.epoch.{aggregateId}');
});

test.run();
