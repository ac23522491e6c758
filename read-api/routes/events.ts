/**
 * Live events: GET /api/v1/events, the pool's public events as Server-Sent Events
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html), straight from the event store.
 *
 * Each message is
 *
 *     id: <stream sequence>
 *     event: <event type>
 *     data: {"type","version","id","subject","sequence","storedAt","data"}
 *
 * (`data` is one line of JSON: the event's envelope as stored, its subject, its stream sequence and
 * its JetStream store time in ISO 8601). A comment line `: heartbeat` comes every 15 s, and one
 * `: connected` comment as soon as the stream is open.
 *
 * Where it starts: `Last-Event-ID` (what a browser's EventSource sends when it reconnects) or
 * `?from=` is the last stream sequence the client has seen; the stream resumes strictly after it
 * (`?from=0` replays from the first event). The header wins over the query, since an EventSource
 * reconnects to the same URL. With neither, the stream starts NOW: only events appended after the
 * connection (the sequence after the store's last one at connect time) — a client that wants
 * history asks for it with `?from=`.
 *
 * Filters: `?types=A,B` (public event types of the catalog, else 400) and `?participant=<address>`
 * (raw or user-friendly): only the events that concern that participant ({@link concernsParticipant})
 * plus the pool-wide ones ({@link POOL_WIDE_EVENT_TYPES}: the epoch's life cycle, the distribution
 * contract's pause, governance), so a participant's client sees its own rewards in the context of
 * the epochs they belong to.
 *
 * Bounds: at most `maxClients` streams at once (default 100; beyond, 503 with Retry-After). A
 * client is written at its own pace: each stream reads the store with its own ordered consumer, in
 * batches of 100, and waits for the socket to drain whenever a write fills it, so what is buffered
 * for one client is bounded by one batch; a client that does not drain within `stallTimeoutMs`
 * (default 30 s), or lets more than 1 MiB pile up, is dropped (it reconnects with Last-Event-ID).
 * `app.close()` ends every open stream (preClose hook) so the server closes without waiting.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerResponse } from 'node:http';
import Type from 'typebox';
import { definitionOf, type EventType, type RecordedEvent } from '../../schemas/catalog.ts';
import type { EventStore } from '../../streams/eventStore.ts';
import { addressIn, AddressParam, badRequest, decimalIn, HttpError } from '../common.ts';
import type { RouteOptions } from './options.ts';

/**
 * The event types GET /api/v1/events serves: facts a participant or an outside observer may see.
 * Included: membership (WorkerBound), everything the chain made public anyway about revenue,
 * registry, stakes, slashes, roots and payouts, the epoch's life cycle (opened, closing, frozen,
 * computed, committed, paid, settled, halted), a member's divergence verdict, and the worker
 * status changes a participant acts on (offline, recovered, unhealthy, tokens diverged).
 * Left out, on purpose:
 * - telemetry and work (WorkerStatsSampled, WorkerPollFailed, TaskCompleted): the bulk of the
 *   stream, per request and per poll, with wallet balances and request ids; the read API serves
 *   their aggregates. Leaving them out also lets NATS filter the subjects server-side.
 * - the operator's internals: OperatorMessageSigned (carries a signed external message, a BoC anyone
 *   could broadcast), OperatorMessageRejected/Expired, OperatorMessageProcessed,
 *   OperatorTransferExecuted, RootCommitRequested, PayoutBatchPlanned/Submitted (saga steps before
 *   the chain confirms), GasToppedUp, CocoonWalletFloatReturned, ChainTransactionFailed.
 * - the checks that are the operator's investigations: CocoonProxyChecked, WorkerTokensChecked (one
 *   per sample and proxy), WorkerTelemetryAnomaly, WorkerOwnerChanged, WorkerIdentityChanged
 *   (detection heuristics and reported wallets), PoolObserving (the observer's heartbeat).
 * Alert rules and deliveries are not events at all (PostgreSQL, operator token).
 */
export const PUBLIC_EVENT_TYPES = [
  'WorkerBound',
  'PoolContractsDeployed',
  'PoolGovernanceChanged',
  'PoolRevenueReceived',
  'MemberRevenueReceived',
  'ParticipantRegistered',
  'StakeDeposited',
  'WithdrawalRequested',
  'WithdrawalCompleted',
  'ParticipantSlashed',
  'OperatorFeeWithdrawn',
  'DistributionPaused',
  'DistributionResumed',
  'EpochOpened',
  'EpochScheduleChanged',
  'EpochClosing',
  'ContributionsFrozen',
  'RewardsComputed',
  'ContributionDivergenceDetected',
  'EpochRootCommitted',
  'RootCommitConfirmed',
  'RewardBatchPaid',
  'RewardClaimed',
  'PayoutBatchConfirmed',
  'EpochSettled',
  'EpochHalted',
  'WorkerWentOffline',
  'WorkerRecovered',
  'WorkerUnhealthy',
  'WorkerTokensDiverged',
] as const satisfies readonly EventType[];

export type PublicEventType = (typeof PUBLIC_EVENT_TYPES)[number];

/**
 * Public events that concern every participant: the epoch's life cycle and the distribution
 * contract's state. A `?participant=` stream carries them besides the participant's own events.
 */
export const POOL_WIDE_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  'PoolContractsDeployed',
  'PoolGovernanceChanged',
  'DistributionPaused',
  'DistributionResumed',
  'EpochOpened',
  'EpochScheduleChanged',
  'EpochClosing',
  'ContributionsFrozen',
  'RewardsComputed',
  'EpochRootCommitted',
  'RootCommitConfirmed',
  'PayoutBatchConfirmed',
  'EpochSettled',
  'EpochHalted',
]);

const PUBLIC = new Set<string>(PUBLIC_EVENT_TYPES);

/**
 * Whether `event` names participant `raw` (raw address `0:<hex>` in lower case, as events store
 * addresses): its `participant` (WorkerBound, the registry's events, ContributionDivergenceDetected),
 * `member` (MemberRevenueReceived), `address` (RewardClaimed), one of `payouts[].address`
 * (RewardBatchPaid), or a `workerId` among `workers` (the participant's bound workers: the worker
 * alerts name only the worker). Pool-wide events are not "concerning" here; see
 * {@link POOL_WIDE_EVENT_TYPES}. Pure; addresses compared case-insensitively.
 */
export function concernsParticipant(event: Pick<RecordedEvent, 'type' | 'data'>, raw: string, workers: ReadonlySet<string> = new Set()): boolean {
  const d = event.data as Record<string, unknown>;
  const same = (v: unknown) => typeof v === 'string' && v.toLowerCase() === raw;
  if (same(d.participant) || same(d.member) || same(d.address)) return true;
  if (event.type === 'RewardBatchPaid' && Array.isArray(d.payouts)) return (d.payouts as { address?: unknown }[]).some((p) => same(p?.address));
  if (typeof d.workerId === 'string' && workers.has(d.workerId)) return true;
  return false;
}

/** Options of {@link eventsRoutes}. */
export interface EventsRouteOptions extends RouteOptions {
  store: EventStore;
  /** most open streams; default 100 */
  maxClients?: number;
  /** interval of the `: heartbeat` comment, ms; default 15000 */
  heartbeatMs?: number;
  /** how long a write may wait for the client to drain before it is dropped, ms; default 30000 */
  stallTimeoutMs?: number;
}

/** Bytes that may wait in one client's socket buffer before it is dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Events read from the store per batch (also bounds what is in flight for one client). */
const BATCH_SIZE = 100;

const Sequence = (description: string) => Type.String({ pattern: '^[0-9]{1,16}$', description });

/** The live events route (Fastify plugin); registered only when the read API has the event store. */
export const eventsRoutes: FastifyPluginAsyncTypebox<EventsRouteOptions> = async (app, { db, store, maxClients = 100, heartbeatMs = 15_000, stallTimeoutMs = 30_000 }) => {
  const open = new Set<{ stop: () => Promise<void> }>();
  let opening = 0; // streams past the bound check, still reading where to start

  // before the server closes: Node's server.close() destroys every connection whose response has
  // ended, flushed or not, so each stream is ended here and given up to 1 s to flush its last bytes
  app.addHook('preClose', async () => {
    await Promise.all([...open].map((s) => s.stop()));
  });

  app.get(
    '/api/v1/events',
    {
      // a HEAD would open a stream with no body to read: it is 405 (Allow: GET)
      exposeHeadRoute: false,
      schema: {
        description:
          'Server-Sent Events of the public events. Resumes strictly after `Last-Event-ID` (or `from`), a stream sequence; without either, only events appended after connecting; `from=0` replays from the start.',
        headers: Type.Object({ 'last-event-id': Type.Optional(Sequence('the last stream sequence received, decimal')) }),
        querystring: Type.Object(
          {
            from: Type.Optional(Sequence('the last stream sequence received, decimal (0 = from the start)')),
            participant: Type.Optional(AddressParam),
            types: Type.Optional(Type.String({ pattern: '^[A-Za-z]+(,[A-Za-z]+)*$', maxLength: 2000, description: 'comma-separated public event types' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'text/event-stream: `id: <stream sequence>`, `event: <type>`, `data: <JSON event>` per message; `: heartbeat` every 15 s',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
        },
      },
    },
    async (req, reply) => {
      const header = req.headers['last-event-id'];
      const after = header !== undefined ? decimalIn(header, 'headers/last-event-id', 0, Number.MAX_SAFE_INTEGER - 1) : req.query.from !== undefined ? decimalIn(req.query.from, 'querystring/from', 0, Number.MAX_SAFE_INTEGER - 1) : null;
      const participant = req.query.participant === undefined ? null : addressIn(req.query.participant, 'querystring/participant');
      let wanted: Set<EventType> = new Set(PUBLIC_EVENT_TYPES);
      if (req.query.types !== undefined) {
        wanted = new Set();
        for (const t of req.query.types.split(',')) {
          try {
            definitionOf(t);
          } catch {
            throw badRequest('querystring/types', `names ${JSON.stringify(t)}, not an event type of the catalog`);
          }
          if (!PUBLIC.has(t)) throw badRequest('querystring/types', `names ${t}, which is not a public event (public: ${PUBLIC_EVENT_TYPES.join(', ')})`);
          wanted.add(t as EventType);
        }
      }
      if (open.size + opening >= maxClients) {
        reply.header('retry-after', '5');
        throw new HttpError(503, 'unavailable', `${open.size} event streams are open, the most this server serves; retry later`);
      }
      // the participant's workers, kept current from the WorkerBound events of the stream itself
      const workers = new Set<string>();
      let fromSequence: number;
      opening++; // the slot is taken from the check on, so concurrent connects cannot pass the bound
      try {
        if (participant) {
          for (const w of await db.selectFrom('workers').select('worker_id').where('participant', '=', participant).execute()) workers.add(w.worker_id);
        }
        fromSequence = after !== null ? after + 1 : (await store.lastSequence()) + 1;
      } finally {
        opening--;
      }

      const ctl = new AbortController();
      const res: ServerResponse = reply.raw;
      const stream = {
        stop: async () => {
          ctl.abort();
          if (res.destroyed || res.writableFinished) return;
          const flushed = new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              res.destroy(); // a client that does not read keeps no server open
              resolve();
            }, 1000);
            const done = () => {
              clearTimeout(timer);
              resolve();
            };
            res.once('finish', done);
            res.once('close', done);
          });
          if (!res.writableEnded) res.end();
          await flushed;
        },
      };
      open.add(stream);
      reply.hijack();
      const drop = (reason: string) => {
        req.log.warn({ reqId: req.id, reason }, 'event stream client dropped');
        ctl.abort();
        res.destroy();
      };
      req.raw.on('close', () => ctl.abort());
      res.on('close', () => ctl.abort());
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`: connected, from sequence ${fromSequence}\n\n`);
      const heartbeat = setInterval(() => {
        if (res.writableLength === 0 && !res.writableEnded && !res.destroyed) res.write(': heartbeat\n\n');
      }, heartbeatMs);

      /** Writes one message; waits for the socket to drain when it is full (drops a stalled client). */
      const send = async (chunk: string) => {
        if (ctl.signal.aborted || res.writableEnded || res.destroyed) return; // stopped: never write after the end
        if (res.write(chunk)) return;
        if (res.writableLength > MAX_BUFFERED_BYTES) return drop(`more than ${MAX_BUFFERED_BYTES} bytes unread`);
        let timer: NodeJS.Timeout | undefined;
        const drained = await new Promise<boolean>((resolve) => {
          const done = (ok: boolean) => () => {
            clearTimeout(timer);
            res.off('drain', onDrain);
            ctl.signal.removeEventListener('abort', onAbort);
            resolve(ok);
          };
          const onDrain = done(true);
          const onAbort = done(true);
          timer = setTimeout(done(false), stallTimeoutMs);
          res.once('drain', onDrain);
          ctl.signal.addEventListener('abort', onAbort, { once: true });
        });
        if (!drained) drop(`not drained within ${stallTimeoutMs} ms`);
      };

      const types = [...wanted, ...(participant ? (['WorkerBound'] as const) : [])];
      void (async () => {
        try {
          const batches = store.subscribe({
            fromSequence,
            types,
            batchSize: BATCH_SIZE,
            signal: ctl.signal,
            // a stored message that is no valid event is the projectors' to quarantine: the stream skips it
            onInvalid: async (invalid) => void req.log.warn({ sequence: invalid.sequence, subject: invalid.subject, reason: invalid.reason }, 'event stream skips an invalid message'),
          });
          for await (const batch of batches) {
            for (const e of batch.events) {
              // a batch may still come after the stop (the store yields what it had read): write nothing more
              if (ctl.signal.aborted) break;
              if (participant && e.type === 'WorkerBound') {
                if (e.data.participant === participant) workers.add(e.data.workerId);
                else workers.delete(e.data.workerId);
              }
              if (!wanted.has(e.type)) continue;
              if (participant && !POOL_WIDE_EVENT_TYPES.has(e.type) && !concernsParticipant(e, participant, workers)) continue;
              const data = JSON.stringify({ type: e.type, version: e.version, id: e.id, subject: e.subject, sequence: e.sequence, storedAt: new Date(e.storedAtMs).toISOString(), data: e.data });
              await send(`id: ${e.sequence}\nevent: ${e.type}\ndata: ${data}\n\n`);
              if (ctl.signal.aborted) break;
            }
            if (ctl.signal.aborted) break;
          }
        } catch (err) {
          if (!ctl.signal.aborted) req.log.error({ err, reqId: req.id }, 'event stream failed');
        } finally {
          clearInterval(heartbeat);
          open.delete(stream);
          if (!res.destroyed && !res.writableEnded) res.end();
        }
      })();
    },
  );
};
