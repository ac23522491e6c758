/**
 * Default configuration of an emulated worker: the values of the shared synthetic sample
 * (tests/fixtures/cocoon/worker-jsonstats.synthetic.json, SYNTHETIC) and the mainnet root address
 * (cocoon scripts/dist-worker/worker.conf.example). Addresses are given as printed (`UQ…`).
 */
import { createHash } from 'node:crypto';
import type { RootContractConfig } from '../producers/cocoon/jsonstats.ts';

export const DEFAULT_ROOT_ADDRESS = 'UQCns7bYSp0igFvS1wpb5wsZjCKCV19MD5AVzI4EyxsnU-Ah';
export const DEFAULT_OWNER_ADDRESS = 'UQA-Kgd480hK-jmN__Exfr8TNlN1Npv07vUqVMeaSDMZTbRE';
export const DEFAULT_MODEL =
  'Qwen/Qwen3-8B@b968826d9c46dd6066d109eabc6255188de91218:7e9d33bebf5518e0dc666e5a04ffbab247ff5878f91a9a55a6e942fe245a8ee9';
export const DEFAULT_GIT_COMMIT = 'b75d444766212b9b17ae2bfab1268a2e2e334b6f';
export const DEFAULT_GIT_COMMIT_DATE = '2025-12-19 17:34:11 +0000';
export const DEFAULT_WALLET_BALANCE_NANOTON = 4_731_250_113n;
export const DEFAULT_COEFFICIENT = 1000;

/** sha256 of the full model string, lowercase hex: what root `model_hashes` lists (WorkerRunner actual_model). */
export function modelHash(model: string): string {
  return createHash('sha256').update(model).digest('hex');
}

/** The sample's root_contract_config, with `model_hashes` = [sha256(model)] so actual_model is true. */
export function defaultRootConfig(model: string): RootContractConfig {
  return {
    ownerAddress: '0:08275f40274b12dbdb4c8c1b504ae3b565fac611e76db7891ce18f40f484a1bd',
    proxyHashes: ['5f0e8c2b7a1d4e3f9a6b0c1d2e3f40516273849506a7b8c9daebfc0d1e2f3a4b'],
    registeredProxies: [{ seqno: 1, addressForClients: '[203.0.113.10:11002]', addressForWorkers: '[203.0.113.10:11001]' }],
    lastProxySeqno: 1,
    workerHashes: ['9c3a1e5d7b2f4a6c8e0d1b3f5a7c9e1d3b5f7a9c1e3d5b7f9a1c3e5d7b9f1a3c'],
    modelHashes: [modelHash(model)],
    version: 42,
    structVersion: 3,
    paramsVersion: 5,
    uniqueId: 1,
    isTest: false,
    pricePerToken: 20n,
    workerFeePerToken: 16n,
    promptTokensPriceMultiplier: 10000,
    cachedTokensPriceMultiplier: 10000,
    completionTokensPriceMultiplier: 10000,
    reasoningTokensPriceMultiplier: 10000,
    proxyDelayBeforeCloseSeconds: 86400,
    clientDelayBeforeCloseSeconds: 86400,
    proxyMinStakeNanoton: 1_000_000_000n,
    clientMinStakeNanoton: 1_000_000_000n,
    proxyCodeHash: '00b2c57d43c1dbc3e12cfa240494a168c78feca90a9b99ebe796b139ed713890',
    workerCodeHash: '1aaa0512c489a0382b163f7d706e2b4182f1a38fcc46208be5fa22d7faed5aa7',
    clientCodeHash: '974d24538e6003b1a393f8708525b81324cf8a78aee88b4585d51b6f64555147',
  };
}
