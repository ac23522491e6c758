/**
 * JetStream topology as code: the streams, buckets and their retention.
 *
 * One stream per pool, POOL for the default pool, holds every fact and decision (`pool.>`). A single stream gives the ledger
 * one total order: the epoch cut (EpochClosing) is a position in it, so "which epoch does this
 * event count for" has one answer that every replay reproduces (docs/architecture.md explains
 * why we chose this over a stream per context). Dead letters go to POOL_DLQ (`dlq.pool.>`); large
 * artifacts to the `pool_artifacts` object store; producer cursors to the `pool_cursors` KV bucket;
 * single-writer leases to `pool_leases`. Another pool id gives other names (streams/names.ts).
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
import { LEASE_TTL_MS } from './lease.ts';
import { DEFAULT_POOL_NAMES, type PoolNames } from './names.ts';

/** The default pool's event stream; another pool's is its {@link PoolNames.eventStream}. */
export const EVENT_STREAM = DEFAULT_POOL_NAMES.eventStream;
/** The default pool's dead-letter stream. */
export const DLQ_STREAM = DEFAULT_POOL_NAMES.deadLetterStream;
/** The default pool's artifact bucket. */
export const ARTIFACT_BUCKET = DEFAULT_POOL_NAMES.artifactBucket;
/** The default pool's cursor bucket. */
export const CURSOR_BUCKET = DEFAULT_POOL_NAMES.cursorBucket;

/** Window in which JetStream drops a second message with the same Nats-Msg-Id. */
export const DUPLICATE_WINDOW_SECONDS = 10 * 60;

const NANOS_PER_SECOND = 1_000_000_000;
const DLQ_MAX_AGE_NANOS = 90 * 24 * 3600 * NANOS_PER_SECOND;

export interface TopologyOptions {
  /** Stream replicas: 1 for a single server, 3 on a 3-node cluster (infra/nats/cluster-*.conf). */
  replicas?: number;
  /** whose streams and buckets (streams/names.ts); default the `pool` pool */
  names?: PoolNames;
}

/** Stream configurations, exported for documentation and tests. */
export function streamConfigs(options: TopologyOptions = {}): (Partial<StreamConfig> & { name: string })[] {
  const num_replicas = options.replicas ?? 1;
  const names = options.names ?? DEFAULT_POOL_NAMES;
  return [
    {
      name: names.eventStream,
      description: 'Cocoon pool ledger: every fact and decision, in one order',
      subjects: [`${names.subjectRoot}.>`],
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
      name: names.deadLetterStream,
      description: 'Quarantined input with the reason it was refused',
      subjects: [`${names.deadLetterRoot}.>`],
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
  const names = options.names ?? DEFAULT_POOL_NAMES;
  await new Objm(nc).create(names.artifactBucket, { storage: StorageType.File, replicas, description: 'epoch artifacts (contribution and rewards tables)' });
  await new Kvm(nc).create(names.cursorBucket, { storage: StorageType.File, replicas, history: 1, description: 'producer cursors (log offsets, chain lt)' });
  // a lease write expires LEASE_TTL_MS after it is stored unless renewed (streams/lease.ts)
  await new Kvm(nc).create(names.leaseBucket, { storage: StorageType.File, replicas, history: 1, ttl: LEASE_TTL_MS, description: 'single-writer leases (one active instance per piece of work)' });
}
