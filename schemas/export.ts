/**
 * Exports the event catalog for consumers in other languages (`npm run schemas`):
 * schemas/json/<Type>.v<version>.schema.json (JSON Schema 2020-12 of the whole envelope) and
 * schemas/json/asyncapi.json (AsyncAPI 3.0: the NATS subjects, their messages and payloads).
 * tests/schemas/export.test.ts fails when the committed files are out of date.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { definitions } from './catalog.ts';
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

/** The AsyncAPI 3.0 document of the POOL stream's subjects. */
export function asyncApiDocument(): Record<string, unknown> {
  const byContext = new Map<string, EventDefinition[]>();
  for (const d of definitions as readonly EventDefinition[]) byContext.set(d.context, [...(byContext.get(d.context) ?? []), d]);
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const [context, defs] of byContext) {
    channels[context] = {
      address: `pool.${context}.{aggregateId}`,
      description: `JetStream stream POOL; one subject per ${defs[0]!.aggregate}`,
      parameters: { aggregateId: { description: defs[0]!.aggregate } },
      messages: Object.fromEntries(defs.map((d) => [d.type, { $ref: `#/components/messages/${d.type}` }])),
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
          properties: {
            'Nats-Msg-Id': { type: 'string' },
            'Pool-Event-Type': { const: d.type },
            'Pool-Event-Version': { const: String(d.version) },
          },
        },
        payload: envelopeSchema(d),
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Cocoon pool ledger events',
      version: '1.0.0',
      description: 'Every fact and decision of the pool, in one JetStream stream (POOL). Amounts are nanoTON decimal strings; times unix ms.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages },
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
