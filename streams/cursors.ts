/**
 * Producer cursors (a log file's inode, offset and head fingerprint, a contract's last indexed lt)
 * and the log tailer's request-id claims (`task.<request id>`: which worker's log a Cocoon request
 * id was first read from) in the pool's cursor KV bucket (`pool_cursors` for the default pool). A cursor is written after the events it
 * covers are acknowledged, so a crash re-reads a little (deduplicated by event id and by the
 * projections), never skips. Each reader validates (and migrates) the values of its own keys.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { DEFAULT_POOL_NAMES, type PoolNames } from './names.ts';

export interface CursorStore {
  get<T>(key: string): Promise<T | null>;
  put(key: string, value: unknown): Promise<void>;
  /**
   * Stores `value` under `key` only if the key holds no value (atomic: JetStream's expected last
   * subject sequence 0). Returns null when it stored `value`, else the value already there.
   */
  putIfAbsent<T>(key: string, value: T): Promise<T | null>;
}

/**
 * Opens the cursor bucket of `names`' pool (created by ensureTopology; default the `pool` pool).
 * Keys are KV tokens: `tailer.w1`, `chain.distribution`.
 */
export async function openCursorStore(nc: NatsConnection, names: PoolNames = DEFAULT_POOL_NAMES): Promise<CursorStore> {
  const kv = await new Kvm(nc).open(names.cursorBucket);
  return {
    async get<T>(key: string) {
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT' || !entry.value.length) return null;
      return entry.json<T>();
    },
    async put(key, value) {
      await kv.put(key, JSON.stringify(value));
    },
    async putIfAbsent<T>(key: string, value: T) {
      try {
        await kv.create(key, JSON.stringify(value));
        return null;
      } catch (err) {
        const exists =
          err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
        const entry = exists ? await kv.get(key) : null;
        if (!entry || entry.operation !== 'PUT') throw err;
        return entry.json<T>();
      }
    },
  };
}
