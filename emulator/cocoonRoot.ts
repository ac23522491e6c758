/**
 * A stand-in Cocoon root for the local chain, so that the emulated proxy (emulator/proxy.ts) passes
 * the pool's proxy authenticity check (producers/chain/proxyAuthenticity.ts) the way a real proxy
 * does: the check reads this root's `get_cur_params` and compares `proxy_sc_hash` with the payout
 * sender's code hash.
 *
 * Same as mainnet: the storage layout of cocoon_root.fc (`root_storage$_ owner_address
 * version:uint32 data:^RootData params:^CocoonParams`, params struct_version 3 with the three code
 * cells; cocoon/cocoon-contracts.derived.tlb) and the get-method `get_cur_params` with its 14
 * results in the upstream order, `proxy_sc_hash` being the representation hash of the stored
 * proxy code. Differs from mainnet: the proxy code stored is the emulated proxy's wallet code
 * (a @ton/sandbox treasury, which sends the payouts), not cocoon_proxy.fc; the worker code is the
 * stand-in worker contract's (emulator/cocoonWorkerContract.ts), so `worker_sc_hash` is its hash; the
 * client code is an empty cell; `RootData` is an empty cell; the contract accepts every internal message and has
 * no owner operations (no root_change_params / root_upgrade_contracts: new params = a new root
 * address); no other get-method.
 *
 * Code: the FunC below compiled with @ton-community/func-js 0.11.0 (func-js-bin
 * 0.4.6-wasmfix.debugger.1), code hash 87aad134e71340d898ab41737fa855bad449fc5a5526c5073f31c44ab28f9139.
 *
 *   slice begin_parse(cell c) asm "CTOS";
 *   cell get_data() asm "c4 PUSH";
 *   (slice, int) load_coins(slice s) asm(-> 1 0) "LDGRAMS";
 *   (slice, cell) load_ref(slice s) asm(-> 1 0) "LDREF";
 *   (slice, cell) load_maybe_ref(slice s) asm(-> 1 0) "LDOPTREF";
 *   (slice, slice) load_msg_addr(slice s) asm(-> 1 0) "LDMSGADDR";
 *   int cell_hash(cell c) asm "HASHCU";
 *   () recv_internal() impure { }
 *   (int, int, int, int, int, int, int, int, int, int, int, int, int, int) get_cur_params() method_id {
 *     slice s = get_data().begin_parse();
 *     s~load_msg_addr(); s~load_uint(32); s~load_ref();
 *     slice p = s~load_ref().begin_parse();
 *     p~load_uint(8);
 *     int params_version = p~load_uint(32); int unique_id = p~load_uint(32); int is_test = p~load_int(1);
 *     int price_per_token = p~load_coins(); int worker_fee_per_token = p~load_coins();
 *     p~load_uint(32); int cached_mult = p~load_uint(32); p~load_uint(32); int reasoning_mult = p~load_uint(32);
 *     int proxy_delay = p~load_uint(32); int client_delay = p~load_uint(32);
 *     int min_proxy_stake = p~load_coins(); int min_client_stake = p~load_coins();
 *     cell proxy_code = p~load_maybe_ref(); cell worker_code = p~load_maybe_ref(); cell client_code = p~load_maybe_ref();
 *     return (params_version, unique_id, is_test, price_per_token, worker_fee_per_token, cached_mult, reasoning_mult,
 *             proxy_delay, client_delay, min_proxy_stake, min_client_stake,
 *             cell_hash(proxy_code), cell_hash(worker_code), cell_hash(client_code));
 *   }
 */
import { beginCell, Cell, type Address } from '@ton/core';
import type { LocalChain } from '../chain/localChain.ts';
import { STAND_IN_WORKER_CODE } from './cocoonWorkerContract.ts';

const CODE_BOC_HEX =
  'b5ee9c72410104010058000114ff00f4a413f4bcf2c80b0102016202030002d00081a0bae3da89a1f48063a63e63a863a861a1a60e63a63fa63fa401f401f401a63e63a63fa63e63a63fa63fa63ff401f401e809e809e8086005f20003f20005f20025e6407fd8';

/** Code cell of the stand-in root (see the module comment). */
export const STAND_IN_ROOT_CODE: Cell = Cell.fromBoc(Buffer.from(CODE_BOC_HEX, 'hex'))[0]!;

/** What the stand-in root publishes. Multipliers: 10000 = 1.0×; amounts nanoTON; delays seconds. */
export interface StandInRootParams {
  owner: Address;
  paramsVersion: number;
  /** nanoTON per adjusted token charged to clients */
  pricePerToken: bigint;
  /** nanoTON per adjusted token paid to a worker's owner */
  workerFeePerToken: bigint;
  /** the code whose hash is `proxy_sc_hash`: the emulated proxy's wallet code */
  proxyCode: Cell;
}

/** nanoTON sent with the deploy (storage rent). */
const DEPLOY_VALUE = 1_000_000_000n;

/** The root's data: root_storage with a struct_version 3 params cell (cocoon-contracts.derived.tlb). */
function rootData(p: StandInRootParams): Cell {
  const empty = beginCell().endCell();
  const params = beginCell()
    .storeUint(3, 8)
    .storeUint(p.paramsVersion, 32)
    .storeUint(1, 32) // unique_id
    .storeBit(true) // is_test
    .storeCoins(p.pricePerToken)
    .storeCoins(p.workerFeePerToken)
    .storeUint(10000, 32).storeUint(10000, 32).storeUint(10000, 32).storeUint(10000, 32) // prompt, cached, completion, reasoning multipliers
    .storeUint(86400, 32).storeUint(86400, 32) // proxy, client delay before close
    .storeCoins(0n).storeCoins(0n) // min proxy, client stake
    .storeMaybeRef(p.proxyCode).storeMaybeRef(STAND_IN_WORKER_CODE).storeMaybeRef(empty)
    .endCell();
  return beginCell().storeAddress(p.owner).storeUint(1, 32).storeRef(empty).storeRef(params).endCell();
}

/**
 * Deploys the stand-in root with `params` from wallet `from` (nothing is sent when it is already
 * there: its address derives from the params, so every start with the same params finds it).
 * @returns its address
 * @throws the errors of LocalChain.deploy
 */
export async function deployStandInRoot(chain: LocalChain, from: string, params: StandInRootParams): Promise<Address> {
  const init = { code: STAND_IN_ROOT_CODE, data: rootData(params) };
  return (await chain.deploy(from, init, DEPLOY_VALUE)).address;
}
