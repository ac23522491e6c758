/**
 * The TON Center reader's read algorithm (chain/toncenter/walk.ts, rows.ts) and its request
 * classification (transport.ts), without HTTP: the rows are made from real transactions of the
 * local chain (@ton/sandbox), served as v3 rows with faults (skipped, duplicate, shuffled,
 * non-final, phantom rows) and as a v2 walk-back by lt+hash over the same transactions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address, type Transaction } from '@ton/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { firstBreak, txLink, type TxRef } from '../../chain/continuity.ts';
import { openLocalChain, type LocalChain } from '../../chain/localChain.ts';
import { finalPrefix, hashHex, isFinal, MalformedAnswerError, orderRows, parseMasterchainInfo, parseV3Transactions, type V3Row } from '../../chain/toncenter/rows.ts';
import { classifyFailure } from '../../chain/toncenter/transport.ts';
import { HistoryMismatchError, walkFinal, type TransactionSource } from '../../chain/toncenter/walk.ts';

const dir = mkdtempSync(join(tmpdir(), 'toncenter-walk-'));
let chain: LocalChain;
let account: Address;
/** the account's transactions, oldest first; tx i is in masterchain block i + 1 */
let txs: Transaction[];

test.before(async () => {
  chain = await openLocalChain({ dir, wallets: ['a', 'b'] });
  account = chain.walletAddress('b');
  for (let i = 0; i < 11; i++) await chain.send('a', [{ to: account, value: 1_000_000n + BigInt(i) }]);
  txs = await chain.getTransactions(account, {});
});
test.after(async () => {
  await chain.close();
  rmSync(dir, { recursive: true, force: true });
});

function rowOf(tx: Transaction, i: number): V3Row {
  return { ...txLink(tx), mcSeqno: i + 1, emulated: false, finality: undefined };
}

interface Faults {
  /** lts the v3 pages leave out */
  skip?: Set<bigint>;
  /** every row twice, the page reversed */
  duplicateAndShuffle?: boolean;
  /** extra rows that are on no chain */
  phantoms?: V3Row[];
  /** seqno of the latest final block */
  finalSeqno?: number;
}

/** A source over `txs` with `faults`; records what was asked. */
function sourceOver(faults: Faults = {}) {
  const calls = { pages: [] as bigint[], histories: 0, finals: 0 };
  const rows = [...txs.map(rowOf), ...(faults.phantoms ?? [])].sort((a, b) => (a.lt < b.lt ? -1 : 1));
  const source: TransactionSource = {
    async page(startLt, limit) {
      calls.pages.push(startLt);
      let page = rows.filter((r) => r.lt >= startLt && !faults.skip?.has(r.lt)).slice(0, limit);
      if (faults.duplicateAndShuffle) page = [...page, ...page].reverse().slice(0, limit);
      return page;
    },
    async finalBlock() {
      calls.finals++;
      return { seqno: faults.finalSeqno ?? 1_000, time: 1 };
    },
    async history(from: TxRef, limit) {
      calls.histories++;
      const i = txs.findIndex((t) => t.hash().toString('hex') === from.hash);
      return i < 0 ? [] : txs.slice(Math.max(0, i - limit + 1), i + 1).reverse();
    },
  };
  return { source, calls };
}

const isMalformed = (err: unknown) => err instanceof MalformedAnswerError;
const lts = (list: Transaction[]) => list.map((t) => t.lt);
const opts = { pageSize: 4, historyPageSize: 100 };

test('pages by moving start_lt: every transaction once, oldest first, linked', async () => {
  assert.ok(txs.length >= 12, `the account has ${txs.length} transactions`);
  const { source, calls } = sourceOver();
  const got = await walkFinal(source, opts);
  assert.equal(lts(got.transactions), lts(txs));
  assert.is(firstBreak(got.transactions.map(txLink), null), -1);
  assert.equal(got.refilled, []);
  // each page starts right after the last transaction returned
  assert.equal(calls.pages.slice(1), [3, 7, 11].filter((i) => i < txs.length).map((i) => txs[i]!.lt + 1n));
  const after = await walkFinal(source, { ...opts, afterLt: txs[5]!.lt, anchor: txLink(txs[5]!), limit: 3 });
  assert.equal(lts(after.transactions), lts(txs.slice(6, 9)));
});

test('finality: nothing past the latest final block; the rest once it is final', async () => {
  const first = await walkFinal(sourceOver({ finalSeqno: 7 }).source, opts);
  assert.equal(lts(first.transactions), lts(txs.slice(0, 7)));
  const last = first.transactions[6]!;
  const rest = await walkFinal(sourceOver().source, { ...opts, afterLt: last.lt, anchor: txLink(last) });
  assert.equal(lts(rest.transactions), lts(txs.slice(7)));
});

test('a page that skips transactions: refilled from the v2 walk-back before going on', async () => {
  const skip = new Set([txs[0]!.lt, txs[4]!.lt, txs[9]!.lt]);
  const got = await walkFinal(sourceOver({ skip }).source, opts);
  assert.equal(lts(got.transactions), lts(txs));
  assert.equal(got.refilled.map((r) => r.lt).sort(), [...skip].sort());
  // with a limit, still the oldest ones and no more
  const limited = await walkFinal(sourceOver({ skip }).source, { ...opts, limit: 5 });
  assert.equal(lts(limited.transactions), lts(txs.slice(0, 5)));
});

test('duplicate and out-of-order rows: each transaction once, in order', async () => {
  const got = await walkFinal(sourceOver({ duplicateAndShuffle: true }).source, opts);
  assert.equal(lts(got.transactions), lts(txs));
});

test('a row that is on no chain is dropped; a read that does not link to the anchor fails loudly', async () => {
  const phantom: V3Row = { lt: txs[3]!.lt + 1n, hash: 'ab'.repeat(32), prev: txLink(txs[3]!), mcSeqno: 4, emulated: false, finality: undefined };
  const got = await walkFinal(sourceOver({ phantoms: [phantom] }).source, { ...opts, pageSize: 100 });
  assert.equal(lts(got.transactions), lts(txs));
  assert.equal(got.phantoms, [{ lt: phantom.lt, hash: phantom.hash }]);
  const wrongAnchor = { lt: txs[2]!.lt, hash: 'cd'.repeat(32) };
  try {
    await walkFinal(sourceOver().source, { ...opts, afterLt: wrongAnchor.lt, anchor: wrongAnchor });
    assert.unreachable('a mismatch must throw');
  } catch (err) {
    assert.instance(err, HistoryMismatchError);
  }
});

test('rows: finality rule, ordering, and malformed answers', () => {
  const row = rowOf(txs[0]!, 4);
  const final = { seqno: 5, time: 0 };
  assert.ok(isFinal(row, final));
  assert.not.ok(isFinal({ ...row, mcSeqno: 6 }, final));
  assert.not.ok(isFinal({ ...row, mcSeqno: null }, final));
  assert.not.ok(isFinal({ ...row, emulated: true }, final));
  assert.not.ok(isFinal({ ...row, finality: 'confirmed' }, final));
  assert.ok(isFinal({ ...row, finality: 'finalized' }, final));
  const rows = txs.slice(0, 4).map(rowOf);
  assert.equal(finalPrefix([rows[0]!, { ...rows[1]!, mcSeqno: 99 }, rows[2]!], final).length, 1);
  assert.equal(orderRows([rows[2]!, rows[0]!, rows[2]!, rows[1]!], rows[0]!.lt).map((r) => r.lt), [rows[1]!.lt, rows[2]!.lt]);
  assert.throws(() => orderRows([rows[0]!, { ...rows[0]!, hash: '00'.repeat(32) }], undefined), isMalformed);

  const tx = txs[1]!;
  const wire = {
    account: account.toRawString().toUpperCase(),
    hash: tx.hash().toString('base64'),
    lt: String(tx.lt),
    mc_block_seqno: 3,
    prev_trans_hash: Buffer.from(txLink(tx).prev.hash, 'hex').toString('base64'),
    prev_trans_lt: String(tx.prevTransactionLt),
    finality: 'finalized',
  };
  assert.equal(parseV3Transactions({ transactions: [wire] }, account), [{ ...txLink(tx), mcSeqno: 3, emulated: false, finality: 'finalized' }]);
  assert.throws(() => parseV3Transactions({ transactions: [wire] }, chain.walletAddress('a')), isMalformed);
  assert.throws(() => parseV3Transactions({ transactions: [{ ...wire, lt: '-1' }] }, account), isMalformed);
  assert.throws(() => parseV3Transactions({ transactions: [{ ...wire, hash: 'AAAA' }] }, account), isMalformed);
  assert.throws(() => parseV3Transactions({ rows: [] }, account), isMalformed);
  assert.is(hashHex('ab'.repeat(32).toUpperCase(), 'h'), 'ab'.repeat(32));
  assert.equal(parseMasterchainInfo({ last: { seqno: 9, gen_utime: '1700000000' } }), { seqno: 9, time: 1_700_000_000 });
  assert.throws(() => parseMasterchainInfo({ last: { seqno: 'x' } }), isMalformed);
});

test('failures: which are retried, which may have been delivered, which are refusals', () => {
  const axios = (status: number, data: unknown) => Object.assign(new Error('Request failed'), { isAxiosError: true, response: { status, data } });
  const verdict = { ok: false, error: 'LITE_SERVER_UNKNOWN: cannot apply external message to current state : External message was not accepted', code: 500 };
  assert.equal(classifyFailure(axios(500, verdict)).kind, 'refused');
  assert.equal(classifyFailure(axios(429, { ok: false })), { kind: 'unavailable', code: 'rate-limited', delivered: false, detail: 'HTTP 429' });
  assert.equal(classifyFailure(axios(502, 'bad gateway')).kind, 'unavailable');
  assert.equal(classifyFailure(axios(401, { ok: false, error: 'API key does not exist' })).kind, 'refused');
  const timeout = classifyFailure(Object.assign(new Error('timeout of 15000ms exceeded'), { isAxiosError: true, code: 'ECONNABORTED' }));
  assert.equal([timeout.kind, timeout.kind === 'unavailable' && timeout.code, timeout.kind === 'unavailable' && timeout.delivered], ['unavailable', 'timeout', 'maybe']);
  const refused = classifyFailure(Object.assign(new Error('connect ECONNREFUSED'), { isAxiosError: true, code: 'ECONNREFUSED' }));
  assert.equal(refused.kind === 'unavailable' && [refused.code, refused.delivered], ['network', false]);
  assert.equal(classifyFailure(new RangeError('a bug')).kind, 'other');
});

test.run();
