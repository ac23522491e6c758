/**
 * Exports the event catalog for consumers in other languages (`npm run schemas`):
 * schemas/json/<Type>.v<version>.schema.json (JSON Schema 2020-12 of the whole envelope) and
 * schemas/json/asyncapi.json (AsyncAPI 3.0: the server and how a downstream service logs in, the
 * NATS subjects, their messages and payloads, the dead letters, and the JetStream facts of the
 * streams and the artifacts object store). tests/schemas/export.test.ts fails when the committed
 * files are out of date.
 *
 * AsyncAPI's nats bindings know only `queue`, so the JetStream facts are specification extensions:
 * - root `x-jetstream`: `{ streams: { <name>: { config, headers } }, objectStores: { <bucket>: { stream, description, referencedBy } } }`,
 *   where `config` is the stream's JetStream configuration exactly as streams/topology.ts creates it
 *   (NATS StreamConfig field names; `max_age` and `duplicate_window` in nanoseconds, sizes in bytes;
 *   `num_replicas` left out: 1 on a single server, 3 on a cluster) and `headers` maps each header a
 *   message of that stream carries to what it holds;
 * - each channel's `x-jetstream-stream`: the stream that stores its subjects.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { passwordVariable, permissionsOf, ROLES } from '../infra/nats/roles.ts';
import { DEAD_LETTER_HEADERS } from '../streams/deadLetter.ts';
import { ARTIFACT_BUCKET, DLQ_STREAM, EVENT_STREAM, streamConfigs } from '../streams/topology.ts';
import { definitions } from './catalog.ts';
import { ArtifactRef } from './common.ts';
import type { EventDefinition } from './define.ts';

export const OUTPUT_DIR = join(import.meta.dirname, 'json');

/** JSON Schema of the stored message body `{type, version, id, data}` of one event type. */
export function envelopeSchema(def: EventDefinition): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://cocoon-pool.example/schemas/${def.type}.v${def.version}.schema.json`,
    title: `${def.type} v${def.version}`,
    description: def.description,
    type: 'object',
    required: ['type', 'version', 'id', 'data'],
    additionalProperties: false,
    properties: {
      type: { const: def.type },
      version: { const: def.version },
      id: { type: 'string', description: 'deterministic event id, also the Nats-Msg-Id header' },
      data: JSON.parse(JSON.stringify(def.data)),
    },
  };
}

/** The headers of every event in POOL (streams/natsEventStore.ts writes them): name → what it holds. */
export const EVENT_HEADERS = {
  'Nats-Msg-Id': 'the event id; JetStream stores a second message with the same id within the duplicate window once',
  'Pool-Event-Type': 'the event type, as in the body',
  'Pool-Event-Version': 'the event version (decimal), as in the body',
} as const;

/** The headers of a dead letter in POOL_DLQ (streams/deadLetter.ts): name → what it holds. */
export function deadLetterHeaders(): Record<string, string> {
  const H = DEAD_LETTER_HEADERS;
  return {
    [H.source]: 'who refused the input (the last token of the subject, before characters other than letters, digits, `_` and `-` became `_`)',
    [H.reason]: 'why, in one line (at most 1000 characters)',
    [H.at]: 'when it was refused, ISO 8601 UTC',
    [H.originSubject]: 'when the input was a stored message: its subject in POOL',
    [H.originSequence]: 'when the input was a stored message: its stream sequence in POOL',
    [`${H.contextPrefix}<key>`]: 'free-form context (worker id, file, offset, tx hash), one header per key',
    'Nats-Msg-Id': 'the letter id when the same input may be refused again (stored once while kept)',
  };
}

/** The data fields holding an artifact reference ({@link ArtifactRef}), as dotted paths under the event (`data.rewards`). */
function artifactFields(schema: unknown, path: string): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  if (JSON.stringify(schema) === JSON.stringify(ArtifactRef)) return [path];
  const properties = (schema as { properties?: Record<string, unknown> }).properties ?? {};
  return Object.entries(properties).flatMap(([k, v]) => artifactFields(v, `${path}.${k}`));
}

/** The root `x-jetstream` extension: POOL and POOL_DLQ as topology.ts configures them, and the artifacts object store. */
export function jetStreamFacts(): Record<string, unknown> {
  const headers: Record<string, Record<string, string>> = { [EVENT_STREAM]: { ...EVENT_HEADERS }, [DLQ_STREAM]: deadLetterHeaders() };
  const streams = Object.fromEntries(
    streamConfigs().map(({ num_replicas: _, ...config }) => [config.name, { config, headers: headers[config.name] ?? {} }]),
  );
  const referencedBy = (definitions as readonly EventDefinition[]).flatMap((d) => artifactFields(d.data, 'data').map((field) => ({ event: d.type, version: d.version, field })));
  return {
    streams,
    objectStores: {
      [ARTIFACT_BUCKET]: {
        stream: `OBJ_${ARTIFACT_BUCKET}`,
        description:
          'Epoch artifacts (contribution and rewards tables), one object per table, named by the reference an event carries ' +
          '({bucket, name, sha256, bytes, rows}); sha256 is over the stored bytes. Format: a header line {"columns":[...]} then one ' +
          'JSON array of values per row, each line ending with \\n (older objects: one JSON array of row objects). The reader user may read it.',
        referencedBy,
      },
    },
  };
}

/** The user downstream services log in as, and where its password is. */
function readerSecurityScheme(): Record<string, unknown> {
  return {
    type: 'userPassword',
    description:
      `User \`reader\` (${ROLES.reader.description}). Its password: on the pool's own server (\`npm start\`), \`users.reader\` in ` +
      `\`<dataDir>/nats/credentials.json\` (mode 0600, generated at the first start: infra/nats/auth.ts); on an operator's server ` +
      `(infra/nats/accounts.conf), the value of \`$${passwordVariable('reader')}\` the server was started with. It may publish only ` +
      'the subjects in x-permissions (its own consumers on POOL, POOL_DLQ and the artifacts store) and subscribe only to `_INBOX.>`.',
    'x-user': 'reader',
    'x-permissions': permissionsOf('reader'),
  };
}

/** The AsyncAPI 3.0 document of the pool's streams (see the module comment). */
export function asyncApiDocument(): Record<string, unknown> {
  const byContext = new Map<string, EventDefinition[]>();
  for (const d of definitions as readonly EventDefinition[]) byContext.set(d.context, [...(byContext.get(d.context) ?? []), d]);
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const [context, defs] of byContext) {
    channels[context] = {
      address: `pool.${context}.{aggregateId}`,
      description: `JetStream stream ${EVENT_STREAM}; one subject per ${defs[0]!.aggregate}`,
      parameters: { aggregateId: { description: defs[0]!.aggregate } },
      messages: Object.fromEntries(defs.map((d) => [d.type, { $ref: `#/components/messages/${d.type}` }])),
      'x-jetstream-stream': EVENT_STREAM,
    };
    operations[`receive-${context}`] = { action: 'receive', channel: { $ref: `#/channels/${context}` } };
    for (const d of defs) {
      messages[d.type] = {
        name: d.type,
        title: `${d.type} v${d.version}`,
        summary: d.description,
        contentType: 'application/json',
        headers: {
          type: 'object',
          required: Object.keys(EVENT_HEADERS),
          properties: {
            'Nats-Msg-Id': { type: 'string', description: EVENT_HEADERS['Nats-Msg-Id'] },
            'Pool-Event-Type': { const: d.type, description: EVENT_HEADERS['Pool-Event-Type'] },
            'Pool-Event-Version': { const: String(d.version), description: EVENT_HEADERS['Pool-Event-Version'] },
          },
        },
        payload: envelopeSchema(d),
      };
    }
  }
  const dlq = streamConfigs().find((c) => c.name === DLQ_STREAM)!;
  const sources = [...new Set(Object.values(ROLES).flatMap((r) => r.deadLetters as readonly string[]))].filter((s) => s !== '>').sort();
  channels.deadLetters = {
    address: dlq.subjects![0]!.replace(/>$/, '{source}'),
    description: `JetStream stream ${DLQ_STREAM}: input a component refused (with the reason), kept ${dlq.max_age! / 1e9 / 86400} days`,
    parameters: { source: { description: 'who refused it: the sources each role may use are in infra/nats/roles.ts (`admin` may use any, e.g. `bind-workers`)', examples: sources } },
    messages: { DeadLetter: { $ref: '#/components/messages/DeadLetter' } },
    'x-jetstream-stream': DLQ_STREAM,
  };
  operations['receive-deadLetters'] = { action: 'receive', channel: { $ref: '#/channels/deadLetters' } };
  const letterHeaders = deadLetterHeaders();
  messages.DeadLetter = {
    name: 'DeadLetter',
    title: 'Dead letter',
    summary: 'A refused piece of input: the body is its bytes unchanged (at most 900 KiB), the headers say who refused it and why.',
    contentType: 'application/octet-stream',
    headers: {
      type: 'object',
      required: [DEAD_LETTER_HEADERS.source, DEAD_LETTER_HEADERS.reason, DEAD_LETTER_HEADERS.at],
      properties: Object.fromEntries(
        Object.entries(letterHeaders)
          .filter(([name]) => !name.endsWith('<key>'))
          .map(([name, description]) => [name, { type: 'string', description }]),
      ),
      patternProperties: { [`^${DEAD_LETTER_HEADERS.contextPrefix}`]: { type: 'string', description: letterHeaders[`${DEAD_LETTER_HEADERS.contextPrefix}<key>`] } },
    },
    payload: { description: 'the refused bytes (a /jsonstats body, a log line, a stored message, a chain message BoC)' },
  };
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Cocoon pool ledger events',
      version: '1.0.0',
      description: 'Every fact and decision of the pool, in one JetStream stream (POOL). Amounts are nanoTON decimal strings; times unix ms.',
    },
    defaultContentType: 'application/json',
    servers: {
      embedded: {
        host: '127.0.0.1:{port}',
        protocol: 'nats',
        description:
          "The pool's own nats-server (`npm start` without NATS_URL): loopback only, on a free port chosen at each start (kept while it runs); " +
          'the `nats` field of the "pool started" log line is its URL. JetStream store in `<dataDir>/nats`.',
        variables: { port: { description: 'the port in the "pool started" line', examples: ['4222'] } },
        security: [{ $ref: '#/components/securitySchemes/reader' }],
      },
      operated: {
        host: '{host}',
        protocol: 'nats',
        description: "An operator's nats-server run with infra/nats/single.conf or the cluster configs (NATS_URL of the pool).",
        variables: { host: { description: 'host:port of the server', examples: ['nats.example.org:4222'] } },
        security: [{ $ref: '#/components/securitySchemes/reader' }],
      },
    },
    channels,
    operations,
    components: { messages, securitySchemes: { reader: readerSecurityScheme() } },
    'x-jetstream': jetStreamFacts(),
  };
}

/** Every file the export writes: path relative to OUTPUT_DIR → content. */
export function exportedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const d of definitions as readonly EventDefinition[]) files.set(`${d.type}.v${d.version}.schema.json`, `${JSON.stringify(envelopeSchema(d), null, 2)}\n`);
  files.set('asyncapi.json', `${JSON.stringify(asyncApiDocument(), null, 2)}\n`);
  return files;
}

if (import.meta.filename === process.argv[1]) {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  for (const [name, content] of exportedFiles()) writeFileSync(join(OUTPUT_DIR, name), content);
  process.stdout.write(`wrote ${exportedFiles().size} files to ${OUTPUT_DIR}\n`);
}
