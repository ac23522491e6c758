/** Alerts for downstream services (a Telegram bot, paging), decided by sagas/heartbeat.ts. */
import Type from 'typebox';
import { Count, RawAddress, UnixMs, WorkerId } from './common.ts';
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

export const WorkerTelemetryAnomaly = defineEvent({
  type: 'WorkerTelemetryAnomaly',
  version: 1,
  context: 'alerts',
  aggregate: 'worker id',
  aggregateId: (d) => d.workerId,
  description:
    "A worker's /jsonstats sample is not credible (domain/telemetry.ts) and credits no tokens: `implausible-value` " +
    '(a value of 2^63 or more), `over-ceiling` (more adjusted tokens than the per-worker ceiling allows since the last ' +
    'accepted sample), `counter-decreased` / `commit-changed` (without evidence that the process restarted). Raised ' +
    'when a worker turns anomalous or the reason changes; `sampleAtMs` is the observedAtMs of that WorkerStatsSampled.',
  data: Type.Object(
    {
      workerId: WorkerId,
      reason: Type.Union([
        Type.Literal('implausible-value'),
        Type.Literal('over-ceiling'),
        Type.Literal('counter-decreased'),
        Type.Literal('commit-changed'),
      ]),
      detail: Type.String({ maxLength: 2000 }),
      sampleAtMs: UnixMs,
    },
    { additionalProperties: false },
  ),
});

export const WorkerOwnerChanged = defineEvent({
  type: 'WorkerOwnerChanged',
  version: 1,
  context: 'alerts',
  aggregate: 'worker id',
  aggregateId: (d) => d.workerId,
  description:
    'A worker reports another owner_address (the address Cocoon proxies pay) than the one it reported first. The pool ' +
    'does not follow it: the worker earns nothing until it reports the expected owner again.',
  data: Type.Object(
    { workerId: WorkerId, expectedOwnerAddress: RawAddress, reportedOwnerAddress: RawAddress, sampleAtMs: UnixMs },
    { additionalProperties: false },
  ),
});

export const WorkerIdentityChanged = defineEvent({
  type: 'WorkerIdentityChanged',
  version: 1,
  context: 'alerts',
  aggregate: 'worker id',
  aggregateId: (d) => d.workerId,
  description:
    "Another Cocoon worker answers at the worker's endpoint: its wallet address (the worker node's key) differs from " +
    'the one reported first. Nothing it reports is credited to this worker until the expected one answers again.',
  data: Type.Object(
    { workerId: WorkerId, expectedWalletAddress: RawAddress, reportedWalletAddress: RawAddress, sampleAtMs: UnixMs },
    { additionalProperties: false },
  ),
});
