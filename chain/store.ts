/**
 * The local chain's files under one directory, written so that a `kill -9` at any moment leaves
 * chain state and transaction history in agreement:
 * - `transactions.log`: append-only, one JSON line per executed transaction
 *   `{"account":"0:<hex>","lt":"<dec>","hash":"<hex>","now":<s>,"boc":"<base64>"}`;
 * - `chain.json`: the state snapshot `{"format":1,"logBytes":N,"state":…}`, replaced atomically
 *   (temp file, fsync, rename, fsync of the directory); `logBytes` is how much of the log it covers;
 * - `config.boc`: the network config (a BoC), written once when the chain is created.
 *
 * A send appends its records and fsyncs the log BEFORE it writes the snapshot covering them; on open
 * the log is cut back to `logBytes`, so records a crash left beyond the snapshot are dropped.
 */
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const SNAPSHOT_FILE = 'chain.json';
const LOG_FILE = 'transactions.log';
const CONFIG_FILE = 'config.boc';
const FORMAT = 1;

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
  /** The transaction records the snapshot covers, in log (= execution) order. */
  records: TxRecord[];
}

/**
 * Opens (creating it if needed) the store in `dir`: reads the snapshot, cuts the log back to what
 * the snapshot covers (everything when there is no snapshot), and reads the covered records.
 * @throws ChainStoreError when the snapshot or a covered log line is malformed, or the log is
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
    if (size > covered) {
      await log.truncate(covered);
      await log.datasync();
    }
    const records = (await readFile(join(dir, LOG_FILE), 'utf8'))
      .split('\n')
      .filter((line) => line.length > 0)
      .map(parseRecord);
    return { store: new ChainStore(dir, log, covered), state: snapshot?.state, records };
  } catch (error) {
    await log.close();
    throw error;
  }
}

/** Writes to an opened store; one writer at a time (the caller serialises). */
export class ChainStore {
  constructor(
    private readonly dir: string,
    private readonly log: FileHandle,
    private logBytes: number,
  ) {}

  /** Appends `records` to the log and fsyncs it. Does not advance the snapshot. */
  async appendTransactions(records: readonly TxRecord[]): Promise<void> {
    if (records.length === 0) return;
    const data = Buffer.from(records.map(formatRecord).join(''));
    await this.log.write(data);
    await this.log.datasync();
    this.logBytes += data.length;
  }

  /**
   * Atomically replaces the snapshot with `state` (any JSON value), covering every record appended
   * so far.
   */
  async writeSnapshot(state: unknown): Promise<void> {
    const text = JSON.stringify({ format: FORMAT, logBytes: this.logBytes, state });
    await writeFileAtomic(this.dir, SNAPSHOT_FILE, Buffer.from(text));
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

async function readSnapshot(path: string): Promise<{ logBytes: number; state: unknown } | undefined> {
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
  if (parsed.format !== FORMAT || !Number.isSafeInteger(parsed.logBytes) || (parsed.logBytes as number) < 0) {
    throw new ChainStoreError(`${SNAPSHOT_FILE} has an unknown format`);
  }
  return { logBytes: parsed.logBytes as number, state: parsed.state };
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

function parseRecord(line: string, index: number): TxRecord {
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
    throw new ChainStoreError(`${LOG_FILE} record ${index + 1} is malformed`, { cause: error });
  }
}
