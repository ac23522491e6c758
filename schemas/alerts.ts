/** Alerts for downstream services (a Telegram bot, paging), decided by sagas/heartbeat.ts. */
import Type from 'typebox';
import { Count, UnixMs, WorkerId } from './common.ts';
import { defineEvent } from './define.ts';

export const WorkerWentOffline = defineEvent({
  type: 'WorkerWentOffline',
  version: 1,
  context: 'alerts',
  aggregate: 'worker id',
  aggregateId: (d) => d.workerId,
  description: 'A worker missed `missedPolls` consecutive heartbeats (failed /jsonstats polls).',
  data: Type.Object(
    { workerId: WorkerId, lastSeenAtMs: Type.Union([UnixMs, Type.Null()]), missedPolls: Count, atMs: UnixMs },
    { additionalProperties: false },
  ),
});

export const WorkerRecovered = defineEvent({
  type: 'WorkerRecovered',
  version: 1,
  context: 'alerts',
  aggregate: 'worker id',
  aggregateId: (d) => d.workerId,
  description: 'A worker reported as offline answered a poll again.',
  data: Type.Object(
    { workerId: WorkerId, downSeconds: Type.Number({ minimum: 0 }), atMs: UnixMs },
    { additionalProperties: false },
  ),
});

export const WorkerUnhealthy = defineEvent({
  type: 'WorkerUnhealthy',
  version: 1,
  context: 'alerts',
  aggregate: 'worker id',
  aggregateId: (d) => d.workerId,
  description:
    'A worker answers but is unhealthy by the Cocoon rule: TON state over 600 s old, image hash or model not in ' +
    'the root contract, or wallet balance under 2.1 TON.',
  data: Type.Object(
    { workerId: WorkerId, reasons: Type.Array(Type.String()), atMs: UnixMs },
    { additionalProperties: false },
  ),
});
