/** Telemetry: what the `/jsonstats` poller observed (producers/cocoon/poller.ts). */
import Type from 'typebox';
import { Nanoton, RawAddress, UnixMs, WorkerId } from './common.ts';
import { defineEvent } from './define.ts';

const Total = Type.Number({ minimum: 0 });

export const WorkerStatsSampled = defineEvent({
  type: 'WorkerStatsSampled',
  version: 1,
  context: 'telemetry',
  aggregate: 'worker id',
  aggregateId: (d) => d.workerId,
  description:
    'A successful GET /jsonstats poll (the heartbeat). `totals` are the raw cumulative stats.*[0] values since ' +
    'the worker process started (they reset on restart); contribution deltas are computed by projections.',
  data: Type.Object(
    {
      workerId: WorkerId,
      observedAtMs: UnixMs,
      pollMs: Type.Number({ minimum: 0, description: 'poll round-trip time, milliseconds' }),
      gitCommit: Type.String(),
      totals: Type.Object(
        {
          queries: Total,
          success: Total,
          failed: Total,
          bytesReceived: Total,
          bytesSent: Total,
          timeSeconds: Total,
          totalAdjustedTokens: Total,
          promptAdjustedTokens: Total,
          cachedAdjustedTokens: Total,
          completionAdjustedTokens: Total,
          reasoningAdjustedTokens: Total,
        },
        { additionalProperties: false },
      ),
      health: Type.Object(
        {
          healthy: Type.Boolean(),
          reasons: Type.Array(Type.String()),
          walletBalanceNanoton: Type.Union([Nanoton, Type.Null()]),
          tonLastSyncedAt: Type.Union([Type.Integer({ minimum: 0, description: 'unix seconds' }), Type.Null()]),
        },
        { additionalProperties: false },
      ),
      ownerAddress: Type.Union([RawAddress, Type.Null()]),
      model: Type.Union([Type.String(), Type.Null()]),
    },
    { additionalProperties: false },
  ),
});

export const WorkerPollFailed = defineEvent({
  type: 'WorkerPollFailed',
  version: 1,
  context: 'telemetry',
  aggregate: 'worker id',
  aggregateId: (d) => d.workerId,
  description: 'A failed GET /jsonstats poll: a missed heartbeat. `kind` says how it failed.',
  data: Type.Object(
    {
      workerId: WorkerId,
      observedAtMs: UnixMs,
      kind: Type.Union([Type.Literal('connect'), Type.Literal('timeout'), Type.Literal('http'), Type.Literal('parse')]),
      reason: Type.String({ maxLength: 2000 }),
    },
    { additionalProperties: false },
  ),
});
