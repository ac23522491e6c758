/**
 * `pool audit --epoch N`: recomputes an epoch from raw events and checks it against what was
 * recorded and what is on chain — "recompute epoch 41 from raw events: does the Merkle root match
 * the one on chain?" (DESIGN.md, operators).
 *
 * It replays the whole stream into fresh read models (a scratch embedded PostgreSQL server, or `--database-url`), freezes
 * the epoch's contributions again and compares them with the ContributionsFrozen artifact, recounts
 * its revenue, splits it again with the parameters the epoch recorded, and compares fee, rewards and
 * Merkle root with RewardsComputed, with the indexer's EpochRootCommitted and, when the local chain
 * is there, with the contract's own `epoch(N)` getter. The pool must not be running on the same data.
 * A stored message that is not a valid event counts for nothing, as in the pool: it is
 * dead-lettered once (a letter the pool already wrote is not written again) and skipped.
 *
 * It creates no directory in the data directory: without NATS_URL the data directory must hold a
 * pool's stores (`<dataDir>/nats`), else it stops at once ({@link AuditError} `no-pool-data`).
 * Progress lines go to `progress` (stderr for `pool audit`), the report is returned, and
 * {@link auditVerdict} is its one-line verdict.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address, TupleBuilder } from '@ton/core';
import pino, { type Logger } from 'pino';
import { openLocalChain } from '../chain/localChain.ts';
import { loadTupleEpochInfo } from '../contracts/build/RewardDistribution/RewardDistribution_RewardDistribution.ts';
import type { PoolConfig } from '../config/config.ts';
import { openDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { DEFAULT_REWARD_PARAMS, type RewardParams } from '../domain/rewards.ts';
import { epochObservedMs, type FrozenContribution } from '../projectors/contributions.ts';
import { poolProjections } from '../projectors/all.ts';
import { runProjections } from '../projectors/runner.ts';
import { DEFAULT_DIVERGENCE_PARAMS, REWARDS_FORMULA_V2, type DivergenceParams } from '../domain/rewardsV2.ts';
import { epochRevenue, freezeContributions, splitEpoch, tokenCarriesAfter } from '../sagas/epoch/settlement.ts';
import type { TokenCreditRow } from '../projectors/rewards.ts';
import { subjectFor, type RecordedEvent, type RecordedOf } from '../schemas/catalog.ts';
import { ArtifactError, openArtifactStore } from '../streams/artifacts.ts';
import { deadLetterTo, quarantineInvalid } from '../streams/deadLetter.ts';
import { NatsEventStore } from '../streams/natsEventStore.ts';
import { openBroker } from './broker.ts';
import { lockDataDir } from './lock.ts';

export interface AuditCheck {
  name: string;
  recorded: string;
  recomputed: string;
  ok: boolean;
}

export interface AuditReport {
  epochId: number;
  eventsReplayed: number;
  /** the epoch's EpochSettled is recorded (false: its payouts are still under way; the rest is audited) */
  settled: boolean;
  checks: AuditCheck[];
  ok: boolean;
}

/**
 * Why an epoch cannot be audited: `no-pool-data` (the data directory holds no pool), `no-such-epoch`
 * (the stream never opened it), `not-settled` (opened, but its rewards are not computed yet: audit it later).
 */
export class AuditError extends Error {
  override name = 'AuditError';
  constructor(
    readonly kind: 'no-pool-data' | 'no-such-epoch' | 'not-settled',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The report's one-line verdict, e.g. `audit of epoch 3: OK, all 11 checks match (root 1a2b…, settled)`
 * or `audit of epoch 3: MISMATCH, 2 of 11 checks differ: leaf count, Merkle root (chain event)`. Pure.
 */
export function auditVerdict(report: AuditReport): string {
  const root = report.checks.find((c) => c.name === 'Merkle root (RewardsComputed)')?.recomputed;
  const state = report.settled ? 'settled' : 'not settled yet: payouts under way';
  if (report.ok) return `audit of epoch ${report.epochId}: OK, all ${report.checks.length} checks match (root ${root ? `${root.slice(0, 12)}…` : 'absent'}, ${state})`;
  const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
  return `audit of epoch ${report.epochId}: MISMATCH, ${failed.length} of ${report.checks.length} checks differ: ${failed.join(', ')} (${state})`;
}

/** The epochs the stream opened, for "no such epoch" (1..n, or none). */
async function openedEpochs(store: NatsEventStore): Promise<number[]> {
  const ids: number[] = [];
  for await (const batch of store.read({ types: ['EpochOpened'], onInvalid: async () => {} })) {
    for (const e of batch.events) if (e.type === 'EpochOpened') ids.push(e.data.epochId);
  }
  return ids.sort((a, b) => a - b);
}

function find<T extends RecordedEvent['type']>(events: RecordedEvent[], type: T): RecordedOf<T> | undefined {
  return events.find((e) => e.type === type) as RecordedOf<T> | undefined;
}

/** The RewardParams an epoch recorded (unknown keys such as the reputation formula version are dropped). */
function recordedParams(params: Record<string, number | string>): RewardParams {
  const out = { ...DEFAULT_REWARD_PARAMS };
  for (const key of Object.keys(out) as (keyof RewardParams)[]) if (typeof params[key] === 'number') out[key] = params[key] as number;
  return out;
}

/** The divergence params a formula 2 epoch recorded (defaults for a key it lacks). */
function recordedDivergence(params: Record<string, number | string>): DivergenceParams {
  const out = { ...DEFAULT_DIVERGENCE_PARAMS };
  for (const key of Object.keys(out) as (keyof DivergenceParams)[]) if (typeof params[key] === 'number') out[key] = params[key] as number;
  return out;
}

/** Root the contract at `contract` stores for `epochId`, read from the local chain (null when there is none). */
async function onChainRoot(dataDir: string, contract: string, epochId: number): Promise<string | null> {
  const dir = join(dataDir, 'chain');
  if (!existsSync(dir)) return null;
  const chain = await openLocalChain({ dir });
  try {
    const address = Address.parseRaw(contract);
    if ((await chain.getAccountState(address)) !== 'active') return null;
    const args = new TupleBuilder();
    args.writeNumber(epochId);
    const r = await chain.runGetMethod(address, 'epoch', args.build());
    const info = r.exitCode === 0 ? r.stack.readTupleOpt() : null;
    return info ? loadTupleEpochInfo(info).root.toString(16).padStart(64, '0') : null;
  } finally {
    await chain.close();
  }
}

/**
 * Audits epoch `epochId`; `progress` gets human lines as it goes (opening, replay n/N, recomputing).
 * @throws AuditError `no-pool-data` (nothing is created then), `no-such-epoch`, `not-settled` (rewards
 *   not computed yet); DataDirLockedError when the pool runs on the same data.
 */
export async function auditEpoch(
  config: PoolConfig,
  dataDir: string,
  epochId: number,
  logger: Logger,
  databaseUrl?: string,
  progress: (line: string) => void = () => {},
): Promise<AuditReport> {
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
  if (!config.natsUrl && !isDir(join(dataDir, 'nats'))) {
    throw new AuditError('no-pool-data', `no pool data in ${dataDir}: ${join(dataDir, 'nats')} does not exist (pass the --data-dir of a pool that ran, or set NATS_URL to its broker)`);
  }
  // with NATS_URL and no data directory there is nothing local to lock (and nothing is created)
  const release = isDir(dataDir) ? await lockDataDir(dataDir) : async () => {};
  const scratch = databaseUrl ? null : mkdtempSync(join(tmpdir(), 'pool-audit-'));
  let broker: Awaited<ReturnType<typeof openBroker>> | null = null;
  let db: Awaited<ReturnType<typeof openDatabase>> | null = null;
  let ticker: NodeJS.Timeout | undefined;
  try {
    progress(`opening the event stream (${config.natsUrl ? config.natsUrl.replace(/\/\/[^@/]*@/, '//') : `own nats-server on ${join(dataDir, 'nats')}`})`);
    broker = await openBroker(config, dataDir);
    const store = new NatsEventStore(broker.conn.js, broker.conn.jsm, broker.names);
    const opened = await openedEpochs(store);
    if (!opened.includes(epochId)) {
      throw new AuditError('no-such-epoch', `no such epoch: ${epochId} was never opened (${opened.length ? `the stream has epochs ${opened[0]}..${opened.at(-1)}` : 'the stream has no epoch yet'})`);
    }
    const total = await store.lastSequence();
    progress(`replaying ${total} events into scratch read models (${databaseUrl ? 'the --database-url database' : 'an embedded PostgreSQL server'})`);
    db = await openDatabase({ url: databaseUrl, embeddedDir: scratch ?? undefined, logger, setting: '--database-url' });
    await migrateToLatest(db.db);
    const replayDb = db.db;
    const artifacts = await openArtifactStore(broker.conn.nc, broker.names);
    const deadLetter = deadLetterTo(broker.conn.js, broker.names);
    const onInvalid = quarantineInvalid(deadLetter, 'audit', logger);
    ticker = setInterval(() => {
      void replayDb.selectFrom('projection_checkpoints').select((eb) => eb.fn.min('position').as('position')).executeTakeFirst().then(
        (r) => progress(`  replayed ${Number(r?.position ?? 0)} / ${total} events (${total ? Math.floor((100 * Number(r?.position ?? 0)) / total) : 100}%)`),
        () => {},
      );
    }, 2000);
    await runProjections(poolProjections({ pollIntervalMs: config.pollIntervalSeconds * 1000, maxTaskSeconds: config.rewards.maxTaskSeconds, telemetry: config.telemetry }), {
      store, db: db.db, artifacts, deadLetter, logger, follow: false, batchSize: 2000,
    });
    clearInterval(ticker);
    progress(`replayed ${total} events; recomputing epoch ${epochId}`);
    const saga = await store.readSubject(subjectFor('epoch', epochId), { onInvalid });
    const openedEvent = find(saga, 'EpochOpened');
    const closing = find(saga, 'EpochClosing');
    const frozen = find(saga, 'ContributionsFrozen');
    const computed = find(saga, 'RewardsComputed');
    if (!openedEvent || !closing || !frozen || !computed) {
      const stage = !closing ? 'open' : !frozen ? 'closing' : 'contributions frozen';
      throw new AuditError('not-settled', `epoch ${epochId} is not settled yet: it is ${stage}, its rewards are not computed (audit it once it has closed and the saga computed it)`);
    }
    const settled = !!find(saga, 'EpochSettled');
    const prev = epochId > 1 ? find(await store.readSubject(subjectFor('epoch', epochId - 1), { onInvalid }), 'RewardsComputed') : undefined;
    const carryIn = prev ? BigInt(prev.data.slashedNanoton) + BigInt(prev.data.carryOutNanoton) : 0n;

    const durationMs = closing.data.closedAtMs - openedEvent.data.startedAtMs;
    // epochs frozen before observation was recorded were measured against their wall duration
    const observedMs = frozen.data.observedMs === undefined ? durationMs : await epochObservedMs(db.db, epochId, durationMs);
    // formula 2: the carries in are the previous epoch's token credits, the divergence params the recorded ones
    const v2 = frozen.data.formulaVersion === REWARDS_FORMULA_V2;
    const carriesIn = v2 ? tokenCarriesAfter(prev?.data.tokenCredits ? await artifacts.getRows<TokenCreditRow>(prev.data.tokenCredits) : []) : undefined;
    const recomputedFrozen = await freezeContributions(db.db, epochId, observedMs, carriesIn);
    const recordedFrozen = await artifacts.getRows<FrozenContribution>(frozen.data.contributions).catch((err: unknown) => {
      if (err instanceof ArtifactError) return `unreadable: ${err.message}`;
      throw err;
    });
    const revenue = await epochRevenue(db.db, epochId);
    const split = splitEpoch(recomputedFrozen, revenue, carryIn, recordedParams(computed.data.params), v2 ? recordedDivergence(computed.data.params) : undefined);
    const recordedCredits = computed.data.tokenCredits
      ? await artifacts.getRows<TokenCreditRow>(computed.data.tokenCredits).catch((err: unknown) => {
        if (err instanceof ArtifactError) return `unreadable: ${err.message}`;
        throw err;
      })
      : null;

    let committed: RecordedOf<'EpochRootCommitted'> | undefined;
    for await (const batch of store.read({ types: ['EpochRootCommitted'], onInvalid })) {
      committed ??= batch.events.find((e): e is RecordedOf<'EpochRootCommitted'> => e.type === 'EpochRootCommitted' && e.data.epochId === epochId);
    }
    const chainRoot = committed?.data.merkleRoot ?? null;
    const contractRoot = config.natsUrl || !committed ? null : await onChainRoot(dataDir, committed.data.contract, epochId);

    const check = (name: string, recorded: string | null, recomputed: string): AuditCheck => ({ name, recorded: recorded ?? 'absent', recomputed, ok: recorded === recomputed });
    const checks = [
      check('observed ms', String(frozen.data.observedMs ?? durationMs), String(observedMs)),
      check('contributions (rows, JSON)', JSON.stringify(recordedFrozen), JSON.stringify(recomputedFrozen)),
      check('revenue nanoTON', frozen.data.revenueNanoton, String(revenue)),
      // formula 2 only: the token credits (claimed, verified, carries, credited) per participant
      ...(recordedCredits === null && split.credits === null
        ? []
        : [check('token credits (formula 2, rows, JSON)', recordedCredits === null ? null : JSON.stringify(recordedCredits), JSON.stringify(split.credits))]),
      check('carry-in nanoTON', frozen.data.carryInNanoton, String(carryIn)),
      check('operator fee nanoTON', computed.data.operatorFeeNanoton, String(split.result.operatorFee)),
      check('rewards nanoTON', computed.data.rewardsNanoton, String(split.result.rewardsTotal)),
      check('leaf count', String(computed.data.leafCount), String(split.table.length)),
      check('Merkle root (RewardsComputed)', computed.data.merkleRoot, split.tree.rootHex),
      check('Merkle root (chain event)', chainRoot, split.tree.rootHex),
      ...(config.natsUrl ? [] : [check('Merkle root (contract getter)', contractRoot, split.tree.rootHex)]),
    ];
    // keep the report readable: a long matching table is summarised by its size
    for (const c of checks) {
      if (c.name.startsWith('contributions') && c.ok) c.recorded = c.recomputed = `${recomputedFrozen.length} rows, equal`;
    }
    return { epochId, eventsReplayed: await store.lastSequence(), settled, checks, ok: checks.every((c) => c.ok) };
  } finally {
    clearInterval(ticker);
    await db?.close();
    await broker?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    await release();
  }
}

/** A logger for the audit's progress on stderr (stdout carries the report). */
export function auditLogger(level: string): Logger {
  return pino({ level, base: { service: 'cocoon-pool', command: 'audit' } }, pino.destination(2));
}
