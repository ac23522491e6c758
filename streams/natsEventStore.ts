/**
 * {@link EventStore} on NATS JetStream: one pool's event stream (POOL for the default pool,
 * streams/topology.ts). Callers speak logical subjects (`pool.<context>.<id>`); the store maps them
 * to the pool's wire subjects (`<poolId>.<context>.<id>`, streams/names.ts) and back, so a
 * {@link RecordedEvent}'s `subject` is logical whatever the pool id.
 *
 * Message format: the body is the JSON envelope `{"type","version","id","data"}` (self-describing
 * for consumers in other languages; schemas/json/ has the schemas); headers carry `Nats-Msg-Id`
 * (= event id, for JetStream's duplicate window) and `Pool-Event-Type` / `Pool-Event-Version` so a
 * consumer can route without parsing the body.
 */
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import {
  checkEventSubject,
  EventValidationError,
  subjectsFor,
  validateEvent,
  type EventType,
  type PoolEvent,
  type RecordedEvent,
} from '../schemas/catalog.ts';
import {
  ConcurrencyError,
  type AppendOptions,
  type AppendResult,
  type EventBatch,
  type EventStore,
  type InvalidEvent,
  type ReadOptions,
} from './eventStore.ts';
import { DEFAULT_POOL_NAMES, logicalSubject, wireSubject, type PoolNames } from './names.ts';

const WRONG_LAST_SEQUENCE = 10071;
const NO_MESSAGE_FOUND = 10037;

function encode(event: PoolEvent): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type: event.type, version: event.version, id: event.id, data: event.data }));
}

/**
 * Decodes and checks a stored message: the body is a valid event of the catalog, it is stored on
 * its own subject (context and aggregate id, {@link checkEventSubject}), and the
 * `Pool-Event-Type` / `Pool-Event-Version` headers say the same as the body.
 * @throws EventValidationError (or SyntaxError) when it is not a valid event.
 */
function decode(subject: string, sequence: number, timestampNanos: number, payload: Uint8Array, headers: MsgHdrs | undefined): RecordedEvent {
  const body = JSON.parse(new TextDecoder().decode(payload)) as { type?: unknown; version?: unknown; id?: unknown; data?: unknown };
  if (typeof body.type !== 'string' || typeof body.version !== 'number' || typeof body.id !== 'string') {
    throw new EventValidationError('not an event envelope {type, version, id, data}');
  }
  validateEvent({ type: body.type, version: body.version, data: body.data });
  const headerType = headers?.get('Pool-Event-Type') ?? '';
  const headerVersion = headers?.get('Pool-Event-Version') ?? '';
  if (headerType !== body.type || headerVersion !== String(body.version)) {
    throw new EventValidationError(
      `headers Pool-Event-Type ${JSON.stringify(headerType)} / Pool-Event-Version ${JSON.stringify(headerVersion)} do not match the body's ${body.type} v${body.version}`,
    );
  }
  checkEventSubject({ type: body.type, data: body.data }, subject);
  return {
    type: body.type,
    version: body.version,
    id: body.id,
    data: body.data,
    subject,
    sequence,
    storedAtMs: Math.floor(timestampNanos / 1e6),
  } as RecordedEvent;
}

/** Checks an event before it is appended: its schema and that `subject` is its own. @throws EventValidationError */
function checkAppend(subject: string, event: PoolEvent): void {
  validateEvent(event);
  checkEventSubject(event, subject);
}

/**
 * Subjects the server filters on for a read of `types`. Telemetry and work are the bulk of the
 * stream: a reader that needs them reads everything and drops the rest itself, which costs the
 * server a quarter of the CPU of a multi-subject filter (bench/ledger.bench.ts); a reader of the
 * rare contexts (epoch, chain, membership, alerts) lets the server filter.
 */
function serverFilter(types: readonly EventType[] | undefined): string[] {
  if (!types) return ['pool.>'];
  const subjects = subjectsFor(types);
  return subjects.includes('pool.telemetry.>') || subjects.includes('pool.work.>') ? ['pool.>'] : subjects;
}

async function throwInvalid(invalid: InvalidEvent): Promise<void> {
  throw new EventValidationError(`stream sequence ${invalid.sequence} (${invalid.subject}): ${invalid.reason}`);
}

export class NatsEventStore implements EventStore {
  private readonly stream: string;

  /** `names`: whose stream and subjects (streams/names.ts); default the `pool` pool. */
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly names: PoolNames = DEFAULT_POOL_NAMES,
  ) {
    this.stream = names.eventStream;
  }

  async append(subject: string, event: PoolEvent, options: AppendOptions = {}): Promise<AppendResult> {
    checkAppend(subject, event);
    const h = natsHeaders();
    h.set('Pool-Event-Type', event.type);
    h.set('Pool-Event-Version', String(event.version));
    try {
      const ack = await this.js.publish(wireSubject(this.names, subject), encode(event), {
        msgID: event.id,
        headers: h,
        expect: {
          streamName: this.stream,
          ...(options.expectedLastSubjectSequence !== undefined ? { lastSubjectSequence: options.expectedLastSubjectSequence } : {}),
        },
      });
      return { sequence: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      if ((err as { code?: number }).code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(String(err))) {
        throw new ConcurrencyError(subject, options.expectedLastSubjectSequence ?? -1);
      }
      throw err;
    }
  }

  async appendMany(items: readonly { subject: string; event: PoolEvent }[]): Promise<AppendResult[]> {
    for (const { subject, event } of items) checkAppend(subject, event);
    const acks = items.map(({ subject, event }) => {
      const h = natsHeaders();
      h.set('Pool-Event-Type', event.type);
      h.set('Pool-Event-Version', String(event.version));
      return this.js.publish(wireSubject(this.names, subject), encode(event), { msgID: event.id, headers: h, expect: { streamName: this.stream } });
    });
    return (await Promise.all(acks)).map((a) => ({ sequence: a.seq, duplicate: a.duplicate }));
  }

  async lastSequence(): Promise<number> {
    const info = await this.jsm.streams.info(this.stream);
    return info.state.last_seq;
  }

  async lastOnSubject(subject: string, options: Pick<ReadOptions, 'onInvalid'> = {}): Promise<RecordedEvent | null> {
    let m;
    try {
      m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: wireSubject(this.names, subject) });
      if (!m) return null;
    } catch (err) {
      if ((err as { code?: number }).code === NO_MESSAGE_FOUND || /no message found/i.test(String(err))) return null;
      throw err;
    }
    try {
      return decode(logicalSubject(this.names, m.subject), m.seq, m.time.getTime() * 1e6, m.data, m.header);
    } catch (err) {
      if (!options.onInvalid) throw err;
      // JetStream gets no "previous on subject": read the subject, each invalid message goes to onInvalid
      return (await this.readSubject(subject, options)).at(-1) ?? null;
    }
  }

  async readSubject(subject: string, options: Pick<ReadOptions, 'onInvalid'> = {}): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    for await (const batch of this.batches({ onInvalid: options.onInvalid, subjects: [subject] }, false)) out.push(...batch.events);
    return out;
  }

  read(options: ReadOptions = {}): AsyncIterable<EventBatch> {
    return this.batches({ ...options, subjects: serverFilter(options.types) }, false);
  }

  subscribe(options: ReadOptions = {}): AsyncIterable<EventBatch> {
    return this.batches({ ...options, subjects: serverFilter(options.types) }, true);
  }

  /**
   * Reads with an ordered consumer (ephemeral, flow-controlled, gap-free), cutting batches at
   * `batchSize` or once the server reports nothing pending for the consumer and no delivered
   * message waits in the client's buffer. Following live, events that arrived while the caller was
   * busy with the previous batch (a projection committing) are then one batch, not one each.
   */
  private async *batches(options: ReadOptions & { subjects: string[] }, follow: boolean): AsyncGenerator<EventBatch> {
    const from = Math.max(1, options.fromSequence ?? 1);
    const batchSize = options.batchSize ?? 500;
    const wanted = options.types ? new Set<EventType>(options.types) : null;
    const onInvalid = options.onInvalid ?? throwInvalid;
    if (options.signal?.aborted) return;

    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: options.subjects.map((s) => wireSubject(this.names, s)),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    if (!follow) {
      // an ordered consumer has nothing to say when nothing matches: ask before waiting
      const info = await consumer.info();
      if (info.num_pending === 0) return;
    }
    const messages = await consumer.consume({ max_messages: Math.min(10_000, batchSize * 2) });
    const stop = () => void messages.stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    if (options.signal?.aborted) stop(); // aborted while the consumer was being created: the listener came too late
    try {
      let events: RecordedEvent[] = [];
      let last = 0;
      let count = 0;
      for await (const m of messages) {
        count++;
        last = m.seq;
        const event = await this.decodeOrQuarantine(m, onInvalid);
        if (event && (!wanted || wanted.has(event.type))) events.push(event);
        // `pending` is the server's count when m was delivered; what it delivered since waits in the
        // buffer: received − processed (getPending() overcounts after a status callback, nats.js 3)
        const caughtUp = m.info.pending === 0 && messages.getReceived() - messages.getProcessed() <= 0;
        if (caughtUp || count >= batchSize) {
          yield { events, lastSequence: last };
          events = [];
          count = 0;
          if (caughtUp && !follow) return;
        }
        if (options.signal?.aborted) return;
      }
    } finally {
      options.signal?.removeEventListener('abort', stop);
      messages.stop();
    }
  }

  private async decodeOrQuarantine(m: JsMsg, onInvalid: (i: InvalidEvent) => Promise<void>): Promise<RecordedEvent | null> {
    const subject = logicalSubject(this.names, m.subject);
    try {
      return decode(subject, m.seq, m.info.timestampNanos, m.data, m.headers);
    } catch (err) {
      await onInvalid({ subject, sequence: m.seq, reason: err instanceof Error ? err.message : String(err), payload: m.data });
      return null;
    }
  }
}
