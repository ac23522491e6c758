/**
 * Epoch artifacts (contribution and rewards tables) in the JetStream object store, referenced from
 * events by name and sha256 so the log stays replayable and messages stay under max payload.
 */
import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { ARTIFACT_BUCKET } from './topology.ts';

export interface ArtifactRef {
  bucket: string;
  name: string;
  /** sha256 of the stored bytes, lowercase hex */
  sha256: string;
  bytes: number;
  rows: number;
}

/** Thrown when an artifact is missing or its bytes do not hash to the reference. */
export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

export interface ArtifactStore {
  /** Stores `rows` as JSON under `name` (overwriting an equal artifact is harmless). */
  putRows(name: string, rows: readonly unknown[]): Promise<ArtifactRef>;
  /** Reads rows back. @throws ArtifactError when missing or the sha256 differs. */
  getRows<T>(ref: ArtifactRef): Promise<T[]>;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Opens the `pool_artifacts` object store (created by ensureTopology). */
export async function openArtifactStore(nc: NatsConnection): Promise<ArtifactStore> {
  const os: ObjectStore = await new Objm(nc).open(ARTIFACT_BUCKET);
  return {
    async putRows(name, rows) {
      const bytes = new TextEncoder().encode(JSON.stringify(rows));
      await os.putBlob({ name }, bytes);
      return { bucket: ARTIFACT_BUCKET, name, sha256: sha256(bytes), bytes: bytes.length, rows: rows.length };
    },
    async getRows<T>(ref: ArtifactRef) {
      const bytes = await os.getBlob(ref.name);
      if (!bytes) throw new ArtifactError(`artifact ${ref.bucket}/${ref.name} is missing`);
      const got = sha256(bytes);
      if (got !== ref.sha256) throw new ArtifactError(`artifact ${ref.name}: sha256 ${got} does not match ${ref.sha256}`);
      return JSON.parse(new TextDecoder().decode(bytes)) as T[];
    },
  };
}
