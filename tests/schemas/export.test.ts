import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Compile from 'typebox/compile';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { permissionsOf, ROLES } from '../../infra/nats/roles.ts';
import { definitions } from '../../schemas/catalog.ts';
import { ArtifactRef } from '../../schemas/common.ts';
import type { EventDefinition } from '../../schemas/define.ts';
import { envelopeSchema, exportedFiles, OUTPUT_DIR } from '../../schemas/export.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { ARTIFACT_BUCKET, DLQ_STREAM, EVENT_STREAM, streamConfigs } from '../../streams/topology.ts';
import { bound, sample, task } from '../support/events.ts';
import { startTestNats } from '../support/nats.ts';

const doc = JSON.parse(readFileSync(join(OUTPUT_DIR, 'asyncapi.json'), 'utf8'));
type Channel = { address: string; messages: Record<string, { $ref: string }>; 'x-jetstream-stream': string };
const channels = doc.channels as Record<string, Channel>;

/** True when the NATS subject filter `filter` (`*`, `>` wildcards) covers the channel address (`{param}` = one token). */
function covers(filter: string, address: string): boolean {
  const f = filter.split('.');
  const a = address.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return a.length > i;
    if (i >= a.length || (f[i] !== '*' && f[i] !== a[i])) return false;
  }
  return f.length === a.length;
}

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

test('the AsyncAPI document names every event under its subject pattern, in stream POOL', () => {
  const events = Object.values(channels).filter((c) => c['x-jetstream-stream'] === EVENT_STREAM);
  const named = events.flatMap((c) => Object.keys(c.messages));
  assert.equal(named.sort(), definitions.map((d) => d.type).sort());
  assert.is(channels.epoch!.address, 'pool.epoch.{aggregateId}');
});

test('x-jetstream is the topology: each stream configured as streams/topology.ts creates it, each channel inside its stream', () => {
  const streams = doc['x-jetstream'].streams as Record<string, { config: Record<string, unknown>; headers: Record<string, string> }>;
  const configs = streamConfigs();
  assert.equal(Object.keys(streams).sort(), configs.map((c) => c.name).sort());
  for (const { num_replicas: _, ...config } of configs) assert.equal(streams[config.name]!.config, JSON.parse(JSON.stringify(config)), config.name);
  assert.equal(Object.keys(streams[EVENT_STREAM]!.headers).sort(), ['Nats-Msg-Id', 'Pool-Event-Type', 'Pool-Event-Version']);
  for (const [name, channel] of Object.entries(channels)) {
    const stream = configs.find((c) => c.name === channel['x-jetstream-stream']);
    assert.ok(stream, `channel ${name} names no stream of the topology`);
    assert.ok(stream.subjects!.some((f) => covers(f, channel.address)), `${channel.address} is not a subject of ${stream.name}`);
  }
  assert.ok(Object.values(channels).some((c) => c['x-jetstream-stream'] === DLQ_STREAM), 'no dead-letter channel');
});

test('the servers say who to log in as: the reader role, with its permissions from infra/nats/roles.ts', () => {
  const scheme = doc.components.securitySchemes.reader;
  assert.is(scheme.type, 'userPassword');
  assert.ok(scheme['x-user'] in ROLES);
  assert.equal(scheme['x-permissions'], permissionsOf(scheme['x-user']));
  assert.match(scheme.description, 'credentials.json');
  for (const server of Object.values(doc.servers) as { protocol: string; security: { $ref: string }[] }[]) {
    assert.is(server.protocol, 'nats');
    assert.equal(server.security, [{ $ref: '#/components/securitySchemes/reader' }]);
  }
});

const sameKeys = (a: object | undefined, b: object) => a !== undefined && JSON.stringify(Object.keys(a).sort()) === JSON.stringify(Object.keys(b).sort());

test('the artifacts object store lists every event field holding an artifact reference', () => {
  const store = doc['x-jetstream'].objectStores[ARTIFACT_BUCKET];
  assert.is(store.stream, `OBJ_${ARTIFACT_BUCKET}`);
  const expected = (definitions as readonly EventDefinition[]).flatMap((d) =>
    Object.entries((d.data as { properties: Record<string, unknown> }).properties)
      // ArtifactRef itself or an optional copy of it (Type.Optional clones the schema): the same properties
      .filter(([, schema]) => schema === ArtifactRef || sameKeys((schema as { properties?: object }).properties, ArtifactRef.properties))
      .map(([k]) => ({ event: d.type, version: d.version, field: `data.${k}` })),
  );
  assert.ok(expected.length >= 2);
  assert.equal(store.referencedBy, expected);
});

test('a real dead letter is on the dead-letter channel and carries only the headers the document names', async () => {
  const nats = await startTestNats();
  try {
    await deadLetterTo(nats.js)({ source: 'poller', reason: 'bad json', payload: '{oops', origin: { subject: 'pool.work.w1', sequence: 7 }, context: { worker: 'w1' } });
    const m = await nats.jsm.streams.getMessage(DLQ_STREAM, { seq: 1 });
    const channel = channels.deadLetters!;
    assert.ok(covers(channel.address.replace('{source}', '*'), m!.subject));
    const headers = doc.components.messages.DeadLetter.headers as { required: string[]; properties: Record<string, unknown>; patternProperties: Record<string, unknown> };
    const names = [...m!.header.keys()];
    for (const name of headers.required) assert.ok(names.includes(name), `${name} missing`);
    const documented = (n: string) => n in headers.properties || Object.keys(headers.patternProperties).some((p) => new RegExp(p).test(n));
    for (const name of names) assert.ok(documented(name), `header ${name} is not in asyncapi.json`);
    assert.ok(names.includes('Pool-DLQ-Context-worker'));
    assert.is(new TextDecoder().decode(m!.data), '{oops');
  } finally {
    await nats.stop();
  }
});

test.run();
