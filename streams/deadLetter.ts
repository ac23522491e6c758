/**
 * Dead letters: input that was refused (malformed /jsonstats, a bad log line, an event failing its
 * schema, a chain message we cannot decode) is quarantined on `dlq.<poolId>.<source>` in the pool's
 * dead-letter stream (POOL_DLQ, `dlq.pool.<source>`, for the default pool; streams/names.ts) with the
 * reason, so nothing is lost and the refusing component keeps running.
 */
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { InvalidEvent } from './eventStore.ts';
import { DEFAULT_POOL_NAMES, type PoolNames } from './names.ts';

export interface DeadLetter {
  /** Who refused it: a subject token, e.g. `poller`, `tailer`, `projection-contributions`. */
  source: string;
  /** Why, in one sentence. */
  reason: string;
  /** The refused bytes, unchanged. */
  payload: Uint8Array | string;
  /** Where it came from, when it was a stored event: subject and stream sequence. */
  origin?: { subject: string; sequence: number };
  /** Free-form context (worker id, file, offset, tx hash). */
  context?: Record<string, string | number>;
  /**
   * Identity of the letter, sent as `Nats-Msg-Id`: a second letter with the same id is not stored
   * while the first is kept (POOL_DLQ's duplicate window equals its max age, streams/topology.ts).
   * Set it when the same input may be refused again (a reader restarting before its position moved).
   */
  id?: string;
}

/**
 * The headers of a dead letter (its body is the refused bytes), by role; a context entry `k`
 * becomes `Pool-DLQ-Context-<k>` (characters other than letters, digits and `-` replaced by `-`).
 * schemas/export.ts documents them in asyncapi.json.
 */
export const DEAD_LETTER_HEADERS = {
  source: 'Pool-DLQ-Source',
  reason: 'Pool-DLQ-Reason',
  at: 'Pool-DLQ-At',
  originSubject: 'Pool-DLQ-Origin-Subject',
  originSequence: 'Pool-DLQ-Origin-Sequence',
  contextPrefix: 'Pool-DLQ-Context-',
} as const;

/** Function that quarantines one piece of input; see {@link deadLetterTo}. */
export type DeadLetterSink = (letter: DeadLetter) => Promise<void>;

/**
 * A sink publishing to `dlq.<poolId>.<source>` (`names`: whose; default the `pool` pool). The body is the refused payload unchanged; headers carry
 * `Pool-DLQ-Reason`, `Pool-DLQ-Source`, and `Pool-DLQ-Origin-Subject` / `-Sequence` when known.
 * @throws when JetStream does not acknowledge (the caller must not skip the input then).
 */
export function deadLetterTo(js: JetStreamClient, names: PoolNames = DEFAULT_POOL_NAMES): DeadLetterSink {
  return async (letter) => {
    const token = letter.source.replace(/[^A-Za-z0-9_-]/g, '_');
    const H = DEAD_LETTER_HEADERS;
    const h = natsHeaders();
    h.set(H.source, letter.source);
    h.set(H.reason, letter.reason.replace(/[\r\n]+/g, ' ').slice(0, 1000));
    h.set(H.at, new Date().toISOString());
    if (letter.origin) {
      h.set(H.originSubject, letter.origin.subject);
      h.set(H.originSequence, String(letter.origin.sequence));
    }
    for (const [k, v] of Object.entries(letter.context ?? {})) h.set(`${H.contextPrefix}${k.replace(/[^A-Za-z0-9-]/g, '-')}`, String(v).slice(0, 500));
    const payload = typeof letter.payload === 'string' ? new TextEncoder().encode(letter.payload) : letter.payload;
    await js.publish(`${names.deadLetterRoot}.${token}`, payload.subarray(0, 900 * 1024), { headers: h, ...(letter.id ? { msgID: letter.id } : {}) });
  };
}

/**
 * The `onInvalid` (streams/eventStore.ts) of a reader of the event stream that goes on past a
 * stored message that is not a valid event: the message becomes ONE dead letter, with its subject,
 * stream sequence and reason, whichever reader meets it first and however often (letter id
 * `invalid:<subject>:<sequence>`: a restart, a replay or another reader stores nothing new), and
 * each reader logs at warn that it skipped it.
 * @throws what `sink` throws (JetStream unavailable): the reader then stops at that message.
 */
export function quarantineInvalid(sink: DeadLetterSink, source: string, logger: Logger): (invalid: InvalidEvent) => Promise<void> {
  return async (invalid) => {
    await sink({
      source,
      reason: invalid.reason,
      payload: invalid.payload,
      origin: { subject: invalid.subject, sequence: invalid.sequence },
      id: `invalid:${invalid.subject}:${invalid.sequence}`,
    });
    logger.warn({ subject: invalid.subject, sequence: invalid.sequence, reason: invalid.reason }, 'skipped a stored message that is not a valid event (dead-lettered)');
  };
}
