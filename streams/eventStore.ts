/**
 * The event store: the one interface through which producers, projectors, sagas and audits touch
 * the log. Implemented on JetStream by streams/natsEventStore.ts.
 */
import type { EventType, PoolEvent, RecordedEvent } from '../schemas/catalog.ts';

export interface AppendOptions {
  /**
   * Optimistic concurrency: the stream sequence of the last event on this subject the caller has
   * seen (0 = the subject must be empty). Sent as `Nats-Expected-Last-Subject-Sequence`.
   */
  expectedLastSubjectSequence?: number;
}

export interface AppendResult {
  /** Stream sequence of the event (of the original when `duplicate`). */
  sequence: number;
  /** True when an event with the same id (Nats-Msg-Id) was already stored within the duplicate window. */
  duplicate: boolean;
}

/** A stored message that could not be decoded or failed its schema; see {@link ReadOptions.onInvalid}. */
export interface InvalidEvent {
  subject: string;
  sequence: number;
  reason: string;
  payload: Uint8Array;
}

export interface ReadOptions {
  /** First stream sequence to deliver; default 1. */
  fromSequence?: number;
  /** Only these event types (default: all). Other events are skipped but still advance `lastSequence`. */
  types?: readonly EventType[];
  /** Maximum events per batch; default 500. */
  batchSize?: number;
  /** Stops reading/subscribing. */
  signal?: AbortSignal;
  /**
   * Called for a stored message that is not a valid event, before the batch holding its position
   * is yielded; the message is then skipped (it is no fact: it never reaches `events`). Default:
   * throw, so the read fails at that message (a reader that cannot quarantine must not skip
   * silently). Every long-running reader of the pool passes `quarantineInvalid`
   * (streams/deadLetter.ts): one dead letter per message however often it is read, and go on.
   * If `onInvalid` throws, the read fails with that error at that message.
   */
  onInvalid?: (invalid: InvalidEvent) => Promise<void>;
}

export interface EventBatch {
  events: RecordedEvent[];
  /** Highest stream sequence this batch covers (valid, invalid or skipped): the checkpoint to store. */
  lastSequence: number;
}

/** Thrown when `expectedLastSubjectSequence` does not match: someone else decided first. */
export class ConcurrencyError extends Error {
  override name = 'ConcurrencyError';
  constructor(
    readonly subject: string,
    readonly expected: number,
  ) {
    super(`subject ${subject} has moved past sequence ${expected}`);
  }
}

export interface EventStore {
  /**
   * Validates `event` against the catalog, checks `subject` is its own (`pool.<context>.<aggregate id>`)
   * and appends it there with `Nats-Msg-Id = event.id`.
   * @throws EventValidationError for an invalid event; ConcurrencyError on an expectation mismatch.
   */
  append(subject: string, event: PoolEvent, options?: AppendOptions): Promise<AppendResult>;
  /** Appends several events without OCC, pipelined, in order. Same validation as `append`. */
  appendMany(items: readonly { subject: string; event: PoolEvent }[]): Promise<AppendResult[]>;
  /** Reads stored events in order, in batches, and ends once it has caught up with the stream. */
  read(options?: ReadOptions): AsyncIterable<EventBatch>;
  /** Like `read` but follows new events live; ends only when `signal` aborts. */
  subscribe(options?: ReadOptions): AsyncIterable<EventBatch>;
  /** Every event of one subject (one aggregate), in order; invalid messages as in {@link ReadOptions.onInvalid}. */
  readSubject(subject: string, options?: Pick<ReadOptions, 'onInvalid'>): Promise<RecordedEvent[]>;
  /**
   * The last event stored on `subject`, or null. When the last message is not a valid event:
   * without `onInvalid` this throws; with it, every invalid message of the subject is passed to
   * `onInvalid` and the last VALID event is returned (null when there is none).
   */
  lastOnSubject(subject: string, options?: Pick<ReadOptions, 'onInvalid'>): Promise<RecordedEvent | null>;
  /** The stream's last sequence (0 when empty). */
  lastSequence(): Promise<number>;
}
