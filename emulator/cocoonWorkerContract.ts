/**
 * A stand-in Cocoon worker contract for the local chain, so that the pool's cross-check of
 * `/jsonstats` `cached_out_tokens` against the chain (producers/chain/workerTokens.ts) reads the
 * same get-method it reads on mainnet.
 *
 * Same as mainnet: the storage layout of cocoon_worker.fc (`owner:MsgAddress proxy:MsgAddress
 * proxy_public_key:uint256 state:uint2 tokens:uint64 params:^Cell`; ../shared/cocoon/
 * owner-address-facts.md, cocoon-contracts `contracts/utils.fc` `pack_cocoon_worker_data`), hence
 * an address per (owner, proxy, proxy key, params) shared by every worker VM of one owner, and the
 * get-method `get_cocoon_worker_data` → (owner_address, proxy_address, proxy_public_key, state,
 * tokens) (../shared/cocoon/code-hashes.json `get_methods.worker`). `tokens` is the cumulative
 * adjusted tokens the proxy has paid the owner for.
 * Differs from mainnet: the update is `worker_payout_payload#a040ad28 query_id:uint64
 * new_tokens:uint64` sent by the proxy contract itself (the emulated proxy relays it beside the
 * payout), authenticated by its sender instead of the proxy key's signature, and it sends nothing
 * (no worker_proxy_request: the emulated proxy pays the owner in the same round). Other messages
 * are accepted and kept; an update from anyone else fails with exit 401, one that does not raise
 * `tokens` with exit 402 (Cocoon: `tokens < new_tokens`).
 *
 * Code: the FunC below compiled with @ton-community/func-js 0.11.0 (func-js-bin
 * 0.4.6-wasmfix.debugger.1), code hash cc2642b56311f26699a3daed441298f416a042ad92eb5e643c86ae18ed052332.
 *
 *   (asm declarations of begin_parse, get_data, set_data, begin_cell, end_cell, store_ref,
 *    store_slice, load_ref, load_msg_addr, equal_slices, slice_bits as in emulator/proxy.ts)
 *   () recv_internal(cell in_msg_full, slice in_msg_body) impure {
 *     slice cs = in_msg_full.begin_parse();
 *     int flags = cs~load_uint(4);
 *     if ((flags & 1) | (in_msg_body.slice_bits() < 32)) { return (); }
 *     if (in_msg_body~load_uint(32) != 0xa040ad28) { return (); }
 *     slice sender = cs~load_msg_addr();
 *     slice ds = get_data().begin_parse();
 *     slice owner = ds~load_msg_addr(); slice proxy = ds~load_msg_addr();
 *     throw_unless(401, equal_slices(sender, proxy));
 *     int key = ds~load_uint(256); int state = ds~load_uint(2); int tokens = ds~load_uint(64);
 *     cell params = ds~load_ref();
 *     in_msg_body~load_uint(64);
 *     int new_tokens = in_msg_body~load_uint(64);
 *     throw_unless(402, new_tokens > tokens);
 *     set_data(begin_cell().store_slice(owner).store_slice(proxy).store_uint(key, 256)
 *       .store_uint(state, 2).store_uint(new_tokens, 64).store_ref(params).end_cell());
 *   }
 *   (slice, slice, int, int, int) get_cocoon_worker_data() method_id {
 *     slice ds = get_data().begin_parse();
 *     slice owner = ds~load_msg_addr(); slice proxy = ds~load_msg_addr();
 *     return (owner, proxy, ds~load_uint(256), ds~load_uint(2), ds~load_uint(64));
 *   }
 */
import { beginCell, Cell, contractAddress, type Address, type StateInit } from '@ton/core';

const CODE_BOC_HEX =
  'b5ee9c72410104010082000114ff00f4a413f4bcf2c80b01020162020300b6d001d0d3030171b022d749c120b1915be001d31f018210a040ad28bd915be001fa4030ed44d0fa40fa405131c705f2e19102d3ffd301d33fd43006d33f31d33f305202bcf2e192c85004cf165004cf16cbff12cb01cb3fccc9ed540021a13f77da89a1f481f481a7ffa603a67e61df274ef7';

/** Code cell of the stand-in worker contract (see the module comment). */
export const STAND_IN_WORKER_CODE: Cell = Cell.fromBoc(Buffer.from(CODE_BOC_HEX, 'hex'))[0]!;

/** Op of the token update (Cocoon's worker_payout_payload). */
export const WORKER_PAYOUT_PAYLOAD_OP = 0xa040ad28;

/** Who a worker contract belongs to: the owner_address it pays, the proxy contract and its public key (uint256). */
export interface WorkerContractKey {
  owner: Address;
  proxy: Address;
  proxyPublicKey: bigint;
}

/** StateInit of the worker contract of `key` with state 0 and tokens 0 (as Cocoon deploys it), empty params cell. */
export function workerContractInit(key: WorkerContractKey): StateInit {
  const data = beginCell()
    .storeAddress(key.owner)
    .storeAddress(key.proxy)
    .storeUint(key.proxyPublicKey, 256)
    .storeUint(0, 2)
    .storeUint(0, 64)
    .storeRef(beginCell().endCell())
    .endCell();
  return { code: STAND_IN_WORKER_CODE, data };
}

/** Address of the worker contract of `key` (basechain): what a worker reports as `proxies[].sc_address`. */
export function workerContractAddress(key: WorkerContractKey): Address {
  return contractAddress(0, workerContractInit(key));
}

/**
 * Body raising the contract's `tokens` to `newTokens` (cumulative adjusted tokens paid, uint64).
 * @throws RangeError when queryId or newTokens is not a uint64.
 */
export function workerTokensUpdateBody(queryId: bigint, newTokens: bigint): Cell {
  for (const [name, v] of [['query_id', queryId], ['new_tokens', newTokens]] as const) {
    if (v < 0n || v >= 1n << 64n) throw new RangeError(`${name} ${v} is not a uint64`);
  }
  return beginCell().storeUint(WORKER_PAYOUT_PAYLOAD_OP, 32).storeUint(queryId, 64).storeUint(newTokens, 64).endCell();
}
