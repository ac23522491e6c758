/**
 * Producer cursors (a log file's inode and offset, a contract's last indexed lt) in the
 * `pool_cursors` KV bucket. A cursor is written after the events it covers are acknowledged, so a
 * crash re-reads a little (deduplicated by event id and by the projections), never skips.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { CURSOR_BUCKET } from './topology.ts';

export interface CursorStore {
  get<T>(key: string): Promise<T | null>;
  put(key: string, value: unknown): Promise<void>;
}

/** Opens the cursor bucket (created by ensureTopology). Keys are KV tokens: `tailer.w1`, `chain.distribution`. */
export async function openCursorStore(nc: NatsConnection): Promise<CursorStore> {
  const kv = await new Kvm(nc).open(CURSOR_BUCKET);
  return {
    async get<T>(key: string) {
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT' || !entry.value.length) return null;
      return entry.json<T>();
    },
    async put(key, value) {
      await kv.put(key, JSON.stringify(value));
    },
  };
}
