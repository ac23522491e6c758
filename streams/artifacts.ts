/**
 * Epoch artifacts (contribution and rewards tables) in the JetStream object store, referenced from
 * events by name and sha256 so the log stays replayable and messages stay under max payload.
 *
 * Stored format (since issue 12), streamed in chunks both ways, never one string of the whole table:
 *   line 1: `{"columns":["participant","workers",…]}` (the keys of every row, in the first row's order)
 *   then one line per row: the JSON array of its values in column order, e.g. `["0:ab…",3,"1200"]`.
 * Every line ends with "\n"; rows are flat objects of JSON values, all with the same keys.
 * Artifacts written before are one JSON array of row objects (first byte `[`); they still read.
 * Either way the reference's sha256 is over the stored bytes exactly, so every reference an event
 * carries verifies as it did (`sha256sum` of the object's bytes).
 */
import { createHash, type Hash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { DEFAULT_POOL_NAMES, type PoolNames } from './names.ts';

export interface ArtifactRef {
  bucket: string;
  name: string;
  /** sha256 of the stored bytes, lowercase hex */
  sha256: string;
  bytes: number;
  rows: number;
}

/** Thrown when an artifact is missing, its bytes do not hash to the reference, or it cannot be read or written. */
export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

export interface ArtifactStore {
  /**
   * Stores `rows` under `name` in the format above (overwriting an equal artifact is harmless).
   * @throws ArtifactError when the rows do not all have the first row's keys, or a value is undefined.
   */
  putRows(name: string, rows: readonly object[]): Promise<ArtifactRef>;
  /** Reads rows back (either format). @throws ArtifactError when missing, malformed or the sha256 differs. */
  getRows<T>(ref: ArtifactRef): Promise<T[]>;
  /**
   * The stored bytes of `ref` exactly as the object store holds them (either format, never
   * decoded or re-encoded), chunk by chunk as they arrive (the object store's chunks, ≤ 128 KiB
   * each), for serving an artifact as a file. The checks come as the bytes do: the first `next()`
   * rejects when the object is missing (nothing was yielded yet), and the last one, after every
   * chunk, when the bytes read do not number `ref.bytes` or hash to `ref.sha256`, so a consumer
   * that reaches the end has verified the whole object. Breaking out of the loop cancels the read.
   * @throws ArtifactError (from the iteration) when missing, unreadable, of another length or sha256.
   */
  getBytes(ref: ArtifactRef): AsyncIterable<Uint8Array>;
}

/** Rows per encoded chunk handed to the object store (which cuts its own chunks of the bytes). */
const ROWS_PER_CHUNK = 2000;

/** Encodes rows as the header line and one value-array line per row, chunk by chunk, hashing the bytes. */
function* encodeRows(name: string, rows: readonly object[], hash: Hash): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  const columns = rows.length ? Object.keys(rows[0]!) : [];
  const emit = (text: string) => {
    const bytes = encoder.encode(text);
    hash.update(bytes);
    return bytes;
  };
  yield emit(`${JSON.stringify({ columns })}\n`);
  for (let from = 0; from < rows.length; from += ROWS_PER_CHUNK) {
    let text = '';
    for (let i = from; i < Math.min(rows.length, from + ROWS_PER_CHUNK); i++) {
      const row = rows[i] as Record<string, unknown>;
      if (Object.keys(row).length !== columns.length) throw new ArtifactError(`artifact ${name}: row ${i} has other keys than row 0 (${columns.join(', ')})`);
      const values = columns.map((c) => {
        const v = row[c];
        if (v === undefined) throw new ArtifactError(`artifact ${name}: row ${i} has no value for ${c}`);
        return v;
      });
      text += `${JSON.stringify(values)}\n`;
    }
    yield emit(text);
  }
}

/** Decodes the line format as its chunks arrive; `finish` returns the rows. */
function lineDecoder(name: string) {
  let columns: string[] | null = null;
  let partial = '';
  const rows: Record<string, unknown>[] = [];
  const header = (text: string) => {
    const parsed = JSON.parse(text) as { columns?: unknown };
    if (!Array.isArray(parsed.columns) || !parsed.columns.every((c) => typeof c === 'string')) throw new ArtifactError(`artifact ${name}: its header names no columns`);
    columns = parsed.columns as string[];
  };
  /** Complete row lines, parsed with one JSON.parse (a raw newline only ever ends a line: JSON escapes it in strings). */
  const body = (text: string) => {
    const cols = columns!;
    for (const values of JSON.parse(`[${text.replaceAll('\n', ',')}]`) as unknown[]) {
      if (!Array.isArray(values) || values.length !== cols.length) throw new ArtifactError(`artifact ${name}: row ${rows.length} has ${Array.isArray(values) ? values.length : 'no'} values for ${cols.length} columns`);
      const row: Record<string, unknown> = {};
      for (let c = 0; c < cols.length; c++) row[cols[c]!] = values[c];
      rows.push(row);
    }
  };
  return {
    push(text: string) {
      partial += text;
      if (columns === null) {
        const nl = partial.indexOf('\n');
        if (nl === -1) return;
        header(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
      const last = partial.lastIndexOf('\n');
      if (last === -1) return;
      if (last > 0) body(partial.slice(0, last));
      partial = partial.slice(last + 1);
    },
    finish() {
      if (partial !== '' || columns === null) throw new ArtifactError(`artifact ${name} ends inside a line or has no header`);
      return rows;
    },
  };
}

/** Opens the artifact object store of `names`' pool (created by ensureTopology; `pool_artifacts` for the default pool). */
export async function openArtifactStore(nc: NatsConnection, names: PoolNames = DEFAULT_POOL_NAMES): Promise<ArtifactStore> {
  const bucket = names.artifactBucket;
  const os: ObjectStore = await new Objm(nc).open(bucket);
  /** The stored object of `ref`. @throws ArtifactError when it names another pool's bucket or is missing. */
  const objectOf = async (ref: ArtifactRef) => {
    if (ref.bucket !== bucket) throw new ArtifactError(`artifact ${ref.bucket}/${ref.name} is not in this pool's bucket ${bucket}`);
    const result = await os.get(ref.name);
    if (!result) throw new ArtifactError(`artifact ${ref.bucket}/${ref.name} is missing`);
    return result;
  };
  return {
    async putRows(name, rows) {
      const hash = createHash('sha256');
      const chunks = encodeRows(name, rows, hash);
      let bytes = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          try {
            const next = chunks.next();
            if (next.done) return controller.close();
            bytes += next.value.length;
            controller.enqueue(next.value);
          } catch (err) {
            controller.error(err);
          }
        },
      });
      await os.put({ name }, stream);
      return { bucket, name, sha256: hash.digest('hex'), bytes, rows: rows.length };
    },
    async getRows<T>(ref: ArtifactRef) {
      const result = await objectOf(ref);
      const hash = createHash('sha256');
      const text = new TextDecoder();
      let legacy: Uint8Array[] | null = null; // a JSON array (the format before issue 12): parsed whole
      let lines: ReturnType<typeof lineDecoder> | null = null;
      let malformed: unknown = null; // reported only when the bytes are the referenced ones
      try {
        for await (const chunk of result.data) {
          hash.update(chunk);
          if (!legacy && !lines) {
            if (chunk[0] === 0x5b) legacy = [];
            else lines = lineDecoder(ref.name);
          }
          if (legacy) legacy.push(chunk);
          else if (malformed === null) {
            try {
              lines!.push(text.decode(chunk, { stream: true }));
            } catch (err) {
              malformed = err;
            }
          }
        }
        const err = await result.error;
        if (err) throw err;
      } catch (err) {
        throw new ArtifactError(`artifact ${ref.name} could not be read: ${(err as Error).message}`, { cause: err });
      }
      const got = hash.digest('hex');
      if (got !== ref.sha256) throw new ArtifactError(`artifact ${ref.name}: sha256 ${got} does not match ${ref.sha256}`);
      try {
        if (malformed !== null) throw malformed;
        if (legacy) return JSON.parse(Buffer.concat(legacy).toString('utf8')) as T[];
        if (!lines) throw new ArtifactError(`artifact ${ref.name} is empty`);
        lines.push(text.decode());
        return lines.finish() as T[];
      } catch (err) {
        if (err instanceof ArtifactError) throw err;
        throw new ArtifactError(`artifact ${ref.name} is malformed: ${(err as Error).message}`, { cause: err });
      }
    },
    async *getBytes(ref: ArtifactRef) {
      const result = await objectOf(ref);
      const hash = createHash('sha256');
      let bytes = 0;
      const reader = result.data.getReader();
      let finished = false;
      try {
        for (;;) {
          let next: ReadableStreamReadResult<Uint8Array>;
          try {
            next = await reader.read();
          } catch (err) {
            throw new ArtifactError(`artifact ${ref.name} could not be read: ${(err as Error).message}`, { cause: err });
          }
          if (next.done) {
            finished = true;
            break;
          }
          hash.update(next.value);
          bytes += next.value.length;
          yield next.value;
        }
        const err = await result.error;
        if (err) throw new ArtifactError(`artifact ${ref.name} could not be read: ${err.message}`, { cause: err });
      } finally {
        // a consumer that stopped early (a client that went away) ends the object store's read
        if (!finished) await reader.cancel().catch(() => {});
      }
      const got = hash.digest('hex');
      if (bytes !== ref.bytes || got !== ref.sha256) throw new ArtifactError(`artifact ${ref.name}: ${bytes} bytes of sha256 ${got}, the reference says ${ref.bytes} bytes of ${ref.sha256}`);
    },
  };
}
