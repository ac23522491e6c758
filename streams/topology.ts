/**
 * JetStream topology as code: the streams, buckets and their retention.
 *
 * One stream, POOL, holds every fact and decision (`pool.>`). A single stream gives the ledger
 * one total order: the epoch cut (EpochClosing) is a position in it, so "which epoch does this
 * event count for" has one answer that every replay reproduces (docs/architecture.md explains
 * why we chose this over a stream per context). Dead letters go to POOL_DLQ (`dlq.pool.>`); large
 * artifacts to the `pool_artifacts` object store; producer cursors to the `pool_cursors` KV bucket.
 */
import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';

export const EVENT_STREAM = 'POOL';
export const DLQ_STREAM = 'POOL_DLQ';
export const ARTIFACT_BUCKET = 'pool_artifacts';
export const CURSOR_BUCKET = 'pool_cursors';

/** Window in which JetStream drops a second message with the same Nats-Msg-Id. */
export const DUPLICATE_WINDOW_SECONDS = 10 * 60;

const NANOS_PER_SECOND = 1_000_000_000;
const DLQ_MAX_AGE_NANOS = 90 * 24 * 3600 * NANOS_PER_SECOND;

export interface TopologyOptions {
  /** Stream replicas: 1 for a single server, 3 on a 3-node cluster (infra/nats/cluster-*.conf). */
  replicas?: number;
}

/** Stream configurations, exported for documentation and tests. */
export function streamConfigs(options: TopologyOptions = {}): (Partial<StreamConfig> & { name: string })[] {
  const num_replicas = options.replicas ?? 1;
  return [
    {
      name: EVENT_STREAM,
      description: 'Cocoon pool ledger: every fact and decision, in one order',
      subjects: ['pool.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.New, // never silently drop history: refuse new messages at a limit
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      max_msg_size: 1024 * 1024,
      duplicate_window: DUPLICATE_WINDOW_SECONDS * NANOS_PER_SECOND,
      deny_delete: true,
      deny_purge: true,
      allow_direct: true,
      num_replicas,
    },
    {
      name: DLQ_STREAM,
      description: 'Quarantined input with the reason it was refused',
      subjects: ['dlq.pool.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: DLQ_MAX_AGE_NANOS,
      // a letter with an id (Nats-Msg-Id) is stored once for as long as it is kept (streams/deadLetter.ts)
      duplicate_window: DLQ_MAX_AGE_NANOS,
      allow_direct: true,
      num_replicas,
    },
  ];
}

/**
 * Creates the streams and buckets, or updates their configuration when they exist. Idempotent;
 * called at every start.
 * @throws JetStreamApiError when the server refuses a configuration (e.g. JetStream disabled).
 */
export async function ensureTopology(nc: NatsConnection, jsm: JetStreamManager, options: TopologyOptions = {}): Promise<void> {
  for (const config of streamConfigs(options)) {
    try {
      await jsm.streams.info(config.name);
      await jsm.streams.update(config.name, config);
    } catch (err) {
      if ((err as { code?: number }).code !== 10059 && !String(err).includes('stream not found')) throw err;
      await jsm.streams.add(config);
    }
  }
  const replicas = options.replicas ?? 1;
  await new Objm(nc).create(ARTIFACT_BUCKET, { storage: StorageType.File, replicas, description: 'epoch artifacts (contribution and rewards tables)' });
  await new Kvm(nc).create(CURSOR_BUCKET, { storage: StorageType.File, replicas, history: 1, description: 'producer cursors (log offsets, chain lt)' });
}
