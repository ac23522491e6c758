/**
 * TON Center's JSON shapes, built from @ton/core values (pure, no I/O). Sources:
 * - API v2 (toncenter/ton-http-api over tonlib, and what @ton/ton's TonClient parses with zod in
 *   src/client/api/HttpApi.ts): `raw.transaction`, `raw.message`, `raw.fullAccountState`,
 *   `smc.runResult` and its stack (pytonlib `serialize_tvm_stack`: numbers as hex strings, cells
 *   and slices as `["cell", {bytes}]`, tuples as `["tuple", {"@type":"tvm.tuple", elements}]`,
 *   TVM null as an empty `tvm.list`); hashes standard base64, addresses user-friendly.
 * - API v3 (toncenter/ton-indexer, ton-index-go index/models/blockchain.go `Transaction`,
 *   `Message`, `TransactionDescr`): addresses raw upper-case `0:ABC…`, hashes standard base64,
 *   64-bit numbers as decimal strings, opcodes `0x%08x`. The v3 model has no transaction BoC.
 */
import { normalizedMessageHash } from '../chain/messageHash.ts';
import { BASECHAIN_SHARD_HEX } from './blocks.ts';
import { Address, Cell, Dictionary, beginCell, storeStateInit, type Message, type Transaction, type TransactionDescription, type TupleItem } from '@ton/core';

/** A request TON Center refuses: `code` is the HTTP status, `message` its `error` text. */
export class ToncenterError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'ToncenterError';
  }
}

/** User-friendly form (bounceable, url-safe) as tonlib prints `account_address`. */
export function friendly(address: Address): string {
  return address.toString({ bounceable: true, urlSafe: true });
}

/** Raw upper-case form `<workchain>:<HEX>` as the v3 index stores addresses. */
export function rawUpper(address: Address): string {
  return `${address.workChain}:${address.hash.toString('hex').toUpperCase()}`;
}

/**
 * Parses an address in any form TON Center accepts (raw `0:<hex>` or user-friendly).
 * @throws ToncenterError 416 "Incorrect address" (ton-http-api's answer) otherwise.
 */
export function parseAnyAddress(text: unknown): Address {
  if (typeof text !== 'string') throw new ToncenterError(416, 'Incorrect address');
  try {
    return Address.parse(text);
  } catch {
    throw new ToncenterError(416, 'Incorrect address');
  }
}

/**
 * Parses a transaction hash given in hex (64 chars) or base64 / base64url (44 chars), as
 * ton-http-api's `prepare_hash` does.
 * @throws ToncenterError 422 for anything else.
 */
export function parseHash(text: unknown): Buffer {
  if (typeof text === 'string') {
    if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
    if (text.length === 44) {
      const buf = Buffer.from(text.replace(/_/g, '/').replace(/-/g, '+'), 'base64');
      if (buf.length === 32) return buf;
    }
  }
  throw new ToncenterError(422, 'Invalid hash');
}

const b64 = (buf: Buffer) => buf.toString('base64');
const bocB64 = (cell: Cell) => b64(cell.toBoc());
/** A 256-bit hash held as a bigint (as @ton/core decodes them) as 32 bytes. */
export const hashBytes = (value: bigint) => Buffer.from(value.toString(16).padStart(64, '0'), 'hex');

/** The exact message cells of a transaction (their hashes are the message hashes). */
export function messageCells(tx: Transaction): { inMsg: Cell | null; outMsgs: Cell[] } {
  const s = tx.raw.refs[0]!.beginParse();
  const inMsg = s.loadBit() ? s.loadRef() : null;
  const dict = s.loadDict(Dictionary.Keys.Uint(15), { serialize: (src: Cell, b) => void b.storeRef(src), parse: (sl) => sl.loadRef() });
  const outMsgs = [...dict.keys()].sort((a, b) => a - b).map((k) => dict.get(k)!);
  return { inMsg, outMsgs };
}

/** `fee`, `storage_fee`, `other_fee` of a v2 transaction (nanoTON): total, storage phase, the rest. */
function fees(tx: Transaction): { fee: bigint; storage: bigint } {
  const d = tx.description;
  const storage = 'storagePhase' in d && d.storagePhase ? d.storagePhase.storageFeesCollected : 0n;
  return { fee: tx.totalFees.coins, storage };
}

/** API v2 `raw.message`. */
function v2Message(cell: Cell, m: Message): Record<string, unknown> {
  const info = m.info;
  const source = info.type === 'external-in' ? '' : friendly(info.src);
  const destination = info.type === 'external-out' ? '' : friendly(info.dest);
  return {
    '@type': 'raw.message',
    hash: b64(cell.hash()),
    source,
    destination,
    value: info.type === 'internal' ? info.value.coins.toString() : '0',
    extra_currencies: [],
    fwd_fee: info.type === 'internal' ? info.forwardFee.toString() : '0',
    ihr_fee: info.type === 'internal' ? info.ihrFee.toString() : '0',
    created_lt: info.type === 'external-in' ? '0' : info.createdLt.toString(),
    body_hash: b64(m.body.hash()),
    msg_data: { '@type': 'msg.dataRaw', body: bocB64(m.body), init_state: m.init ? bocB64(beginCell().store(storeStateInit(m.init)).endCell()) : '' },
  };
}

/** API v2 `raw.transaction` of account `account`. */
export function v2Transaction(tx: Transaction, account: Address): Record<string, unknown> {
  const { inMsg, outMsgs } = messageCells(tx);
  const { fee, storage } = fees(tx);
  const out = [...tx.outMessages.keys()].sort((a, b) => a - b).map((k, i) => v2Message(outMsgs[i]!, tx.outMessages.get(k)!));
  return {
    '@type': 'raw.transaction',
    address: { '@type': 'accountAddress', account_address: friendly(account) },
    utime: tx.now,
    data: bocB64(tx.raw),
    transaction_id: { '@type': 'internal.transactionId', lt: tx.lt.toString(), hash: b64(tx.hash()) },
    fee: fee.toString(),
    storage_fee: storage.toString(),
    other_fee: (fee - storage).toString(),
    ...(inMsg && tx.inMessage ? { in_msg: v2Message(inMsg, tx.inMessage) } : {}),
    out_msgs: out,
  };
}

/** Finality of a v3 row (ton-index-go `FinalityState`). */
export type Finality = 'pending' | 'confirmed' | 'finalized';

const V3_STATUS: Record<string, string> = { active: 'active', frozen: 'frozen', uninitialized: 'uninit', 'non-existing': 'nonexist' };
const V3_STATUS_CHANGE: Record<string, string> = { unchanged: 'unchanged', frozen: 'frozen', deleted: 'deleted' };
const V3_SKIP_REASON: Record<string, string> = { 'no-state': 'no_state', 'bad-state': 'bad_state', 'no-gas': 'no_gas', suspended: 'suspended' };
const V3_DESCR_TYPE: Record<TransactionDescription['type'], string> = {
  generic: 'ord',
  storage: 'storage',
  'tick-tock': 'tick_tock',
  'split-prepare': 'split_prepare',
  'split-install': 'split_install',
  'merge-prepare': 'merge_prepare',
  'merge-install': 'merge_install',
};

/** ton-index-go `TransactionDescr` (phases of an ordinary transaction; the type alone otherwise). */
function v3Description(d: TransactionDescription): Record<string, unknown> {
  const out: Record<string, unknown> = { type: V3_DESCR_TYPE[d.type] };
  if ('aborted' in d) out.aborted = d.aborted;
  if ('destroyed' in d) out.destroyed = d.destroyed;
  if (d.type === 'generic') out.credit_first = d.creditFirst;
  if (d.type === 'tick-tock') out.is_tock = d.isTock;
  if ('storagePhase' in d && d.storagePhase) {
    const p = d.storagePhase;
    out.storage_ph = {
      storage_fees_collected: p.storageFeesCollected.toString(),
      ...(p.storageFeesDue != null ? { storage_fees_due: p.storageFeesDue.toString() } : {}),
      status_change: V3_STATUS_CHANGE[p.statusChange],
    };
  }
  if ('creditPhase' in d && d.creditPhase) {
    const p = d.creditPhase;
    out.credit_ph = { ...(p.dueFeesColelcted != null ? { due_fees_collected: p.dueFeesColelcted.toString() } : {}), credit: p.credit.coins.toString() };
  }
  if ('computePhase' in d) {
    const c = d.computePhase;
    out.compute_ph =
      c.type === 'skipped'
        ? { skipped: true, reason: V3_SKIP_REASON[c.reason] }
        : {
            skipped: false,
            success: c.success,
            msg_state_used: c.messageStateUsed,
            account_activated: c.accountActivated,
            gas_fees: c.gasFees.toString(),
            gas_used: c.gasUsed.toString(),
            gas_limit: c.gasLimit.toString(),
            ...(c.gasCredit != null ? { gas_credit: c.gasCredit.toString() } : {}),
            mode: c.mode,
            exit_code: c.exitCode,
            ...(c.exitArg != null ? { exit_arg: c.exitArg } : {}),
            vm_steps: c.vmSteps,
            vm_init_state_hash: b64(hashBytes(c.vmInitStateHash)),
            vm_final_state_hash: b64(hashBytes(c.vmFinalStateHash)),
          };
  }
  if ('actionPhase' in d && d.actionPhase) {
    const a = d.actionPhase;
    out.action = {
      success: a.success,
      valid: a.valid,
      no_funds: a.noFunds,
      status_change: V3_STATUS_CHANGE[a.statusChange],
      ...(a.totalFwdFees != null ? { total_fwd_fees: a.totalFwdFees.toString() } : {}),
      ...(a.totalActionFees != null ? { total_action_fees: a.totalActionFees.toString() } : {}),
      result_code: a.resultCode,
      ...(a.resultArg != null ? { result_arg: a.resultArg } : {}),
      tot_actions: a.totalActions,
      spec_actions: a.specActions,
      skipped_actions: a.skippedActions,
      msgs_created: a.messagesCreated,
      action_list_hash: b64(hashBytes(a.actionListHash)),
      tot_msg_size: { cells: a.totalMessageSize.cells.toString(), bits: a.totalMessageSize.bits.toString() },
    };
  }
  if ('bouncePhase' in d && d.bouncePhase) {
    const p = d.bouncePhase;
    out.bounce =
      p.type === 'negative-funds'
        ? { type: 'negfunds' }
        : p.type === 'no-funds'
          ? { type: 'nofunds', msg_size: { cells: p.messageSize.cells.toString(), bits: p.messageSize.bits.toString() }, req_fwd_fees: p.requiredForwardFees.toString() }
          : { type: 'ok', msg_size: { cells: p.messageSize.cells.toString(), bits: p.messageSize.bits.toString() }, msg_fees: p.messageFees.toString(), fwd_fees: p.forwardFees.toString() };
  }
  return out;
}

/** `0x%08x` of the body's first 32 bits, as the index reports `opcode`; null for a shorter body. */
function opcode(body: Cell): string | null {
  if (body.bits.length < 32) return null;
  return `0x${body.beginParse().preloadUint(32).toString(16).padStart(8, '0')}`;
}

/** ton-index-go `Message`; an external-in message also carries `hash_norm` (TEP-467). */
function v3Message(cell: Cell, m: Message): Record<string, unknown> {
  const info = m.info;
  const internal = info.type === 'internal' ? info : null;
  return {
    hash: b64(cell.hash()),
    source: info.type === 'external-in' ? null : rawUpper(info.src),
    destination: info.type === 'external-out' ? null : rawUpper(info.dest),
    value: internal ? internal.value.coins.toString() : null,
    value_extra_currencies: {},
    fwd_fee: internal ? internal.forwardFee.toString() : null,
    ihr_fee: internal ? internal.ihrFee.toString() : null,
    extra_flags: null,
    created_lt: info.type === 'external-in' ? null : info.createdLt.toString(),
    created_at: info.type === 'external-in' ? null : info.createdAt.toString(),
    opcode: opcode(m.body),
    decoded_opcode: null,
    ihr_disabled: internal ? internal.ihrDisabled : null,
    bounce: internal ? internal.bounce : null,
    bounced: internal ? internal.bounced : null,
    import_fee: info.type === 'external-in' ? info.importFee.toString() : null,
    message_content: { hash: b64(m.body.hash()), body: bocB64(m.body), decoded: null },
    init_state: m.init ? (() => {
      const init = beginCell().store(storeStateInit(m.init)).endCell();
      return { hash: b64(init.hash()), body: bocB64(init), decoded: null };
    })() : null,
    ...(info.type === 'external-in' ? { hash_norm: b64(normalizedMessageHash(m)) } : {}),
  };
}

/** One row of API v3 `/api/v3/transactions` for a transaction of `account` in masterchain block `mcSeqno`. */
export function v3Transaction(tx: Transaction, account: Address, mcSeqno: number, finality: Finality): Record<string, unknown> {
  const { inMsg, outMsgs } = messageCells(tx);
  const out = [...tx.outMessages.keys()].sort((a, b) => a - b).map((k, i) => v3Message(outMsgs[i]!, tx.outMessages.get(k)!));
  return {
    account: rawUpper(account),
    hash: b64(tx.hash()),
    lt: tx.lt.toString(),
    now: tx.now,
    mc_block_seqno: mcSeqno,
    trace_external_hash: null,
    prev_trans_hash: b64(hashBytes(tx.prevTransactionHash)),
    prev_trans_lt: tx.prevTransactionLt.toString(),
    orig_status: V3_STATUS[tx.oldStatus],
    end_status: V3_STATUS[tx.endStatus],
    total_fees: tx.totalFees.coins.toString(),
    total_fees_extra_currencies: {},
    description: v3Description(tx.description),
    block_ref: { workchain: account.workChain, shard: BASECHAIN_SHARD_HEX, seqno: mcSeqno },
    in_msg: inMsg && tx.inMessage ? v3Message(inMsg, tx.inMessage) : null,
    out_msgs: out,
    account_state_before: { hash: b64(tx.stateUpdate.oldHash), balance: null, extra_currencies: null, account_status: null, frozen_hash: null, data_hash: null, code_hash: null },
    account_state_after: { hash: b64(tx.stateUpdate.newHash), balance: null, extra_currencies: null, account_status: null, frozen_hash: null, data_hash: null, code_hash: null },
    emulated: false,
    finality,
  };
}

/** Python's `hex(n)`: `0x1f`, `-0x1f`, `0x0`. */
const pyHex = (n: bigint) => (n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`);

/** A tonlib `tvm.StackEntry` object (how tuple elements are written). */
function tonlibEntry(item: TupleItem): Record<string, unknown> {
  switch (item.type) {
    case 'int':
      return { '@type': 'tvm.stackEntryNumber', number: { '@type': 'tvm.numberDecimal', number: item.value.toString() } };
    case 'cell':
    case 'builder':
      return { '@type': 'tvm.stackEntryCell', cell: { '@type': 'tvm.cell', bytes: bocB64(item.cell) } };
    case 'slice':
      return { '@type': 'tvm.stackEntrySlice', slice: { '@type': 'tvm.slice', bytes: bocB64(item.cell) } };
    case 'tuple':
      return { '@type': 'tvm.stackEntryTuple', tuple: { '@type': 'tvm.tuple', elements: item.items.map(tonlibEntry) } };
    case 'null':
      return { '@type': 'tvm.stackEntryList', list: { '@type': 'tvm.list', elements: [] } };
    case 'nan':
      throw new ToncenterError(500, 'NaN on the result stack is not supported');
  }
}

/** A get-method's result stack as API v2 `runGetMethod` returns it (see the module comment). */
export function v2Stack(items: readonly TupleItem[]): unknown[] {
  return items.map((item) => {
    switch (item.type) {
      case 'int':
        return ['num', pyHex(item.value)];
      case 'cell':
      case 'slice':
      case 'builder':
        return ['cell', { bytes: bocB64(item.cell) }];
      case 'tuple':
        return ['tuple', { '@type': 'tvm.tuple', elements: item.items.map(tonlibEntry) }];
      case 'null':
        return ['list', { '@type': 'tvm.list', elements: [] }];
      case 'nan':
        throw new ToncenterError(500, 'NaN on the result stack is not supported');
    }
  });
}

/**
 * An API v2 `runGetMethod` input stack: `[["num", 3 | "3" | "0x3" | "-0x3"], ["tvm.Cell" | "cell",
 * "<boc b64>"], ["tvm.Slice" | "slice", …], ["tvm.Builder" | "builder", …]]` (what TonClient's
 * `serializeStack` sends, and the short names ton-http-api documents).
 * @throws ToncenterError 422 on anything else.
 */
export function parseV2Stack(stack: unknown): TupleItem[] {
  if (stack === undefined) return [];
  if (!Array.isArray(stack)) throw new ToncenterError(422, 'stack must be an array');
  return stack.map((entry, i) => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
      throw new ToncenterError(422, `stack[${i}] must be [type, value]`);
    }
    const [type, value] = entry as [string, unknown];
    try {
      switch (type) {
        case 'num':
        case 'number':
        case 'int': {
          if (typeof value === 'number' && Number.isSafeInteger(value)) return { type: 'int', value: BigInt(value) };
          if (typeof value !== 'string' || !/^-?(0x[0-9a-fA-F]+|\d+)$/.test(value)) throw new Error('not an integer');
          const negative = value.startsWith('-');
          const n = BigInt(negative ? value.slice(1) : value);
          return { type: 'int', value: negative ? -n : n };
        }
        case 'tvm.Cell':
        case 'cell':
          return { type: 'cell', cell: Cell.fromBase64(value as string) };
        case 'tvm.Slice':
        case 'slice':
          return { type: 'slice', cell: Cell.fromBase64(value as string) };
        case 'tvm.Builder':
        case 'builder':
          return { type: 'builder', cell: Cell.fromBase64(value as string) };
        default:
          throw new Error(`unsupported type ${JSON.stringify(type)}`);
      }
    } catch (error) {
      throw new ToncenterError(422, `stack[${i}]: ${(error as Error).message}`);
    }
  });
}
