/**
 * Benchmark of the devnet endpoint (devnet/server.ts) against raw limits measured in the same run:
 * - v3 `/api/v3/transactions` pages of 1000 rows of one account with 1000 transactions, against
 *   the same rows read from the chain and formatted in-process (what HTTP and JSON add);
 * - v2 `getTransactions` (100, TonClient, which decodes every BoC) against the same 100 rows read
 *   and formatted in-process;
 * - v2 `runGetMethod` (TonClient) against `LocalChain.runGetMethod`;
 * - v2 `sendBoc` of a signed wallet v5r1 transfer (TonClient) against `LocalChain.sendMessage`.
 *
 * Usage: `npm run bench -- devnet` (or `node --import tsx bench/devnet.bench.ts [rows=1000]`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address, SendMode, beginCell, external, internal, storeMessage, toNano } from '@ton/core';
import { mnemonicNew, mnemonicToPrivateKey } from '@ton/crypto';
import { TonClient, WalletContractV5R1 } from '@ton/ton';
import { openLocalChain } from '../chain/localChain.ts';
import { blockOfTime } from '../devnet/blocks.ts';
import { v2Transaction, v3Transaction } from '../devnet/format.ts';
import { startDevnet } from '../devnet/server.ts';

const ROWS = Number(process.argv[2] ?? 1000);

async function perOp(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) await op(i);
  return (performance.now() - started) / n;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'devnet-bench-'));
  const chain = await openLocalChain({ dir, wallets: ['operator'] });
  const devnet = await startDevnet({ chain });
  try {
    const client = new TonClient({ endpoint: `${devnet.url}/api/v2/jsonRPC` });
    const account = new Address(0, Buffer.alloc(32, 0xab));
    const fillMs = await perOp(ROWS, (i) => chain.mint(account, BigInt(i + 1)));

    const pageUrl = `${devnet.url}/api/v3/transactions?account=${account.toRawString()}&sort=asc&limit=1000&start_lt=0`;
    const v3Page = await perOp(20, async () => (await fetch(pageUrl)).json());
    const rawPage = await perOp(20, async () => {
      const txs = (await chain.getTransactions(account, { limit: 1000 })).map((tx) => v3Transaction(tx, account, blockOfTime(tx.now, 1), 'finalized'));
      return JSON.stringify({ transactions: txs });
    });
    const v2Txs = await perOp(50, () => client.getTransactions(account, { limit: 100 }));
    const rawTxs = await perOp(50, async () => JSON.stringify((await chain.getTransactions(account, {})).slice(-100).map((tx) => v2Transaction(tx, account))));

    const keys = await mnemonicToPrivateKey(await mnemonicNew());
    const wallet = WalletContractV5R1.create({ workchain: 0, publicKey: keys.publicKey });
    await chain.mint(wallet.address, toNano('1000'));
    const operator = chain.walletAddress('operator');
    const transfer = (seqno: number) =>
      beginCell()
        .store(storeMessage(external({
          to: wallet.address,
          init: seqno === 0 ? wallet.init : undefined,
          body: wallet.createTransfer({ seqno, secretKey: keys.secretKey, sendMode: SendMode.PAY_GAS_SEPARATELY, messages: [internal({ to: operator, value: 1000n })] }),
        })))
        .endCell();
    const SENDS = 50;
    const viaHttp = await perOp(SENDS, (i) => client.sendFile(transfer(i).toBoc()));
    const direct = await perOp(SENDS, (i) => chain.sendMessage(transfer(SENDS + i)));
    const getHttp = await perOp(200, () => client.runMethod(wallet.address, 'seqno'));
    const getRaw = await perOp(200, () => chain.runGetMethod(wallet.address, 'seqno'));

    const row = (what: string, ms: number, raw: number) => console.log(`${what.padEnd(46)} ${ms.toFixed(2).padStart(9)} ms   raw ${raw.toFixed(2).padStart(9)} ms   x${(ms / raw).toFixed(2)}`);
    console.log(`devnet endpoint, account with ${ROWS} transactions (filled at ${fillMs.toFixed(2)} ms per mint)`);
    row('v3 transactions, page of 1000 rows (HTTP)', v3Page, rawPage);
    row('v2 getTransactions limit 100 (TonClient)', v2Txs, rawTxs);
    row('v2 runGetMethod seqno (TonClient)', getHttp, getRaw);
    row('v2 sendBoc v5r1 transfer, lands (TonClient)', viaHttp, direct);
  } finally {
    await devnet.close();
    await chain.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
