/** Telemetry: what the `/jsonstats` poller observed (producers/cocoon/poller.ts). */
import Type from 'typebox';
import { COUNTER_KEYS, type CounterKey } from '../domain/telemetry.ts';
import { Nanoton, RawAddress, Tokens, UnixMs, WorkerId } from './common.ts';
import { defineEvent } from './define.ts';

const Total = Type.Number({ minimum: 0 });
const Rates = Type.Array(Type.Number({ minimum: 0 }), {
  minItems: 6,
  maxItems: 6,
  description: 'stats.*[1..6]: decayed per-second rates over 1s, 10s, 1m, 10m, 1h, 1d',
});
const perCounter = <S extends typeof Total | typeof Rates>(schema: S) =>
  Type.Object(Object.fromEntries(COUNTER_KEYS.map((k) => [k, schema])) as Record<CounterKey, S>, { additionalProperties: false });

export const WorkerStatsSampled = defineEvent({
  type: 'WorkerStatsSampled',
  version: 1,
  context: 'telemetry',
  aggregate: 'worker id',
  aggregateId: (d) => d.workerId,
  description:
    'A successful GET /jsonstats poll (the heartbeat). `totals` are the raw cumulative stats.*[0] values since ' +
    'the worker process started (they reset on restart), `rates` the decayed rates printed with them (evidence of a ' +
    'restart: domain/telemetry.ts); contribution deltas are computed by projections. `proxies`: per proxy the worker ' +
    "serves, its worker contract (`sc_address`, per owner and proxy) and the contract's `tokens` as the worker claims " +
    'it (`cached_out_tokens`), which producers/chain/workerTokens.ts cross-checks on chain. `rates`, `walletAddress` ' +
    'and `proxies` are absent from events recorded before they were kept.',
  data: Type.Object(
    {
      workerId: WorkerId,
      observedAtMs: UnixMs,
      pollMs: Type.Number({ minimum: 0, description: 'poll round-trip time, milliseconds' }),
      gitCommit: Type.String(),
      totals: perCounter(Total),
      rates: Type.Optional(perCounter(Rates)),
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
      walletAddress: Type.Optional(
        Type.Union([RawAddress, Type.Null()], { description: "the worker node's Cocoon wallet (its identity); null before it is initialised" }),
      ),
      model: Type.Union([Type.String(), Type.Null()]),
      proxies: Type.Optional(
        Type.Array(
          Type.Object(
            {
              proxyScAddress: RawAddress,
              workerContract: RawAddress,
              cashedOutTokens: Tokens,
            },
            { additionalProperties: false },
          ),
          { maxItems: 64, description: '/jsonstats proxies[]: proxy_sc_address, sc_address, cached_out_tokens (adjusted tokens)' },
        ),
      ),
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
