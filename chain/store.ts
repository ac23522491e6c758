/**
 * The local chain's files under one directory, written so that a `kill -9` at any moment leaves
 * chain state and transaction history in agreement:
 * - `transactions.log`: append-only JSON lines, written in groups, one group per persist:
 *   first one line per executed transaction
 *   `{"account":"0:<hex>","lt":"<dec>","hash":"<hex>","now":<s>,"boc":"<base64>"}`, then one
 *   commit line `{"commit":…}` holding what the group changed of the chain state (the accounts its
 *   transactions touched, the globals); a group is durable once its commit line is fsynced;
 * - `chain.json`: a full state snapshot `{"format":2,"logBytes":N,"state":…}`, replaced atomically
 *   (temp file, fsync, rename, fsync of the directory) now and then, so that opening replays a
 *   bounded tail; `logBytes` is how much of the log it covers;
 * - `config.boc`: the network config (a BoC), written once when the chain is created.
 *
 * On open, the groups after `logBytes` are replayed up to the last whole commit line; what a crash
 * left after it (transaction lines without their commit, a torn line) is cut off. A persist thus
 * costs one append and one fdatasync of what changed, not a rewrite of every account.
 *
 * Format 1 (before incremental persistence) wrote the snapshot after every send and had no commit
 * lines; its directories are read as they are and their snapshot is rewritten as format 2 at once.
 */
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const SNAPSHOT_FILE = 'chain.json';
const LOG_FILE = 'transactions.log';
const CONFIG_FILE = 'config.boc';
const FORMAT = 2;

/** One executed transaction as stored in the log. */
export interface TxRecord {
  /** Account the transaction ran on, raw form `<workchain>:<hex>`. */
  account: string;
  /** Logical time. */
  lt: bigint;
  /** Transaction cell hash (32 bytes). */
  hash: Buffer;
  /** Unix seconds the transaction ran at. */
  now: number;
  /** The transaction as a BoC. */
  boc: Buffer;
}

/** The store's files are unreadable, inconsistent, or a previous write failed. */
export class ChainStoreError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'ChainStoreError';
  }
}

/** What {@link openChainStore} found on disk. */
export interface OpenedChainStore {
  store: ChainStore;
  /** The `state` of the last snapshot, or undefined for a directory without one (new chain). */
  state: unknown;
  /** The commits written after that snapshot, in log order: apply them to `state`. */
  commits: unknown[];
  /** The durable transaction records, in log (= execution) order. */
  records: TxRecord[];
  /** True when the snapshot was written by format 1: rewrite it (as format 2) before any write. */
  legacySnapshot: boolean;
}

/**
 * Opens (creating it if needed) the store in `dir`: reads the snapshot, reads the log, keeps the
 * groups up to the last whole commit line and cuts off the rest (a crash's torn tail).
 * @throws ChainStoreError when the snapshot or a durable log line is malformed, or the log is
 *   shorter than the snapshot says (history lost).
 */
export async function openChainStore(dir: string): Promise<OpenedChainStore> {
  await mkdir(dir, { recursive: true });
  const snapshot = await readSnapshot(join(dir, SNAPSHOT_FILE));
  const covered = snapshot?.logBytes ?? 0;
  const log = await open(join(dir, LOG_FILE), 'a+');
  try {
    const { size } = await log.stat();
    if (size < covered) {
      throw new ChainStoreError(`${LOG_FILE} has ${size} bytes, the snapshot covers ${covered}: history was lost`);
    }
    const text = await readFile(join(dir, LOG_FILE));
    const records: TxRecord[] = [];
    const commits: unknown[] = [];
    let pending: TxRecord[] = [];
    let durable = covered;
    let lineNo = 0;
    for (let at = 0; at < text.length; ) {
      const nl = text.indexOf(10, at);
      if (nl < 0) break; // a torn last line
      const line = text.subarray(at, nl);
      lineNo++;
      if (at < covered) {
        // covered by the snapshot: its transactions are history, its commits are in the snapshot
        if (!isCommitLine(line)) records.push(parseRecord(line.toString('utf8'), lineNo));
      } else if (isCommitLine(line)) {
        const commit = parseCommit(line.toString('utf8'), lineNo, nl + 1 === text.length);
        if (commit === undefined) break; // a torn commit line at the very end
        commits.push(commit);
        records.push(...pending);
        pending = [];
        durable = nl + 1;
      } else {
        const record = tryParseRecord(line.toString('utf8'));
        if (record === undefined) break; // torn: nothing after it was committed
        pending.push(record);
      }
      at = nl + 1;
    }
    if (size > durable) {
      await log.truncate(durable);
      await log.datasync();
    }
    return {
      store: new ChainStore(dir, log, durable, durable - covered),
      state: snapshot?.state,
      commits,
      records,
      legacySnapshot: snapshot?.format === 1,
    };
  } catch (error) {
    await log.close();
    throw error;
  }
}

const COMMIT_PREFIX = Buffer.from('{"commit":');

function isCommitLine(line: Buffer): boolean {
  return line.subarray(0, COMMIT_PREFIX.length).equals(COMMIT_PREFIX);
}

/** A commit line's content; undefined for a torn last line. @throws ChainStoreError for a malformed one elsewhere. */
function parseCommit(line: string, lineNo: number, last: boolean): unknown {
  try {
    return (JSON.parse(line) as { commit: unknown }).commit;
  } catch (error) {
    if (last) return undefined;
    throw new ChainStoreError(`${LOG_FILE} line ${lineNo} is a malformed commit`, { cause: error });
  }
}

/** Writes to an opened store; one writer at a time (the caller serialises). */
export class ChainStore {
  private snapshotBytes = 0;

  constructor(
    private readonly dir: string,
    private readonly log: FileHandle,
    private logBytes: number,
    /** bytes of the log after the snapshot (what opening replays) */
    private tailBytes: number,
  ) {}

  /**
   * Appends one group — `records`, then the commit line holding `commit` (any JSON value) — and
   * fdatasyncs it: once this resolves the group is durable. Does not touch the snapshot.
   */
  async appendCommit(records: readonly TxRecord[], commit: unknown): Promise<void> {
    const data = Buffer.from(records.map(formatRecord).join('') + JSON.stringify({ commit }) + '\n');
    await this.log.write(data);
    await this.log.datasync();
    this.logBytes += data.length;
    this.tailBytes += data.length;
  }

  /**
   * True when the log after the snapshot has grown past the snapshot's size (at least 1 MiB): then
   * a new snapshot costs no more than the tail it saves replaying on open (amortised O(1) per byte).
   */
  get snapshotDue(): boolean {
    return this.tailBytes >= Math.max(1 << 20, this.snapshotBytes);
  }

  /**
   * Atomically replaces the snapshot with `state` (any JSON value: the whole chain state), covering
   * every group appended so far.
   */
  async writeSnapshot(state: unknown): Promise<void> {
    const data = Buffer.from(JSON.stringify({ format: FORMAT, logBytes: this.logBytes, state }));
    await writeFileAtomic(this.dir, SNAPSHOT_FILE, data);
    this.snapshotBytes = data.length;
    this.tailBytes = 0;
  }

  /** Writes the network config BoC (once, when the chain is created). */
  async writeConfig(boc: Buffer): Promise<void> {
    await writeFileAtomic(this.dir, CONFIG_FILE, boc);
  }

  /**
   * Reads the network config BoC.
   * @throws ChainStoreError when the file is missing.
   */
  async readConfig(): Promise<Buffer> {
    try {
      return await readFile(join(this.dir, CONFIG_FILE));
    } catch (error) {
      throw new ChainStoreError(`cannot read ${CONFIG_FILE}`, { cause: error });
    }
  }

  /** Closes the log file. */
  async close(): Promise<void> {
    await this.log.close();
  }
}

async function readSnapshot(path: string): Promise<{ format: 1 | 2; logBytes: number; state: unknown } | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ChainStoreError(`cannot read ${SNAPSHOT_FILE}`, { cause: error });
  }
  let parsed: { format?: unknown; logBytes?: unknown; state?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ChainStoreError(`${SNAPSHOT_FILE} is not JSON`, { cause: error });
  }
  if ((parsed.format !== 1 && parsed.format !== FORMAT) || !Number.isSafeInteger(parsed.logBytes) || (parsed.logBytes as number) < 0) {
    throw new ChainStoreError(`${SNAPSHOT_FILE} has an unknown format (${String(parsed.format)}): written by a newer version of the pool?`);
  }
  return { format: parsed.format, logBytes: parsed.logBytes as number, state: parsed.state };
}

/** Temp file, fsync, rename over `name`, fsync the directory so the rename itself is durable. */
async function writeFileAtomic(dir: string, name: string, data: Buffer): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, join(dir, name));
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

function formatRecord(r: TxRecord): string {
  return (
    JSON.stringify({
      account: r.account,
      lt: r.lt.toString(),
      hash: r.hash.toString('hex'),
      now: r.now,
      boc: r.boc.toString('base64'),
    }) + '\n'
  );
}

/** A transaction line, or undefined when it is torn or malformed. */
function tryParseRecord(line: string): TxRecord | undefined {
  try {
    return parseRecord(line, 0);
  } catch {
    return undefined;
  }
}

function parseRecord(line: string, lineNo: number): TxRecord {
  try {
    const r = JSON.parse(line) as Record<string, unknown>;
    if (
      typeof r.account !== 'string' ||
      typeof r.lt !== 'string' ||
      typeof r.hash !== 'string' ||
      typeof r.now !== 'number' ||
      typeof r.boc !== 'string'
    ) {
      throw new Error('missing field');
    }
    return { account: r.account, lt: BigInt(r.lt), hash: Buffer.from(r.hash, 'hex'), now: r.now, boc: Buffer.from(r.boc, 'base64') };
  } catch (error) {
    throw new ChainStoreError(`${LOG_FILE} line ${lineNo} is a malformed transaction record`, { cause: error });
  }
}
