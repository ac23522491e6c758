/**
 * Child process of crash.test.ts, `crashSender.ts <dir> <sink address>`: opens the local chain in
 * `dir` and sends transfers in a loop until it is killed (SIGKILL, at a random moment). Prints
 * `ready` once the chain is open, then `sent <hash>` (the wallet transaction's hash, hex) after each
 * send completes.
 * Transfers: operator → proxy-1, proxy-1 → operator, operator → the sink (non-bounceable, the sink
 * is an uninitialised account that only receives), and two-message sends.
 */
import { Address } from '@ton/core';
import { openLocalChain } from '../../chain/localChain.ts';

async function main(dir: string, sink: Address): Promise<never> {
  const chain = await openLocalChain({ dir, wallets: ['operator', 'proxy-1'] });
  const operator = chain.walletAddress('operator');
  const proxy = chain.walletAddress('proxy-1');
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    const value = BigInt(1 + Math.floor(Math.random() * 1_000_000_000));
    let result;
    switch (i % 4) {
      case 0:
        result = await chain.send('operator', [{ to: proxy, value }]);
        break;
      case 1:
        result = await chain.send('proxy-1', [{ to: operator, value }]);
        break;
      case 2:
        result = await chain.send('operator', [{ to: sink, value, bounce: false }]);
        break;
      default:
        result = await chain.send('operator', [
          { to: proxy, value },
          { to: sink, value: value / 2n, bounce: false },
        ]);
    }
    process.stdout.write(`sent ${result.transactions[0]!.hash.toString('hex')}\n`);
  }
}

await main(process.argv[2]!, Address.parse(process.argv[3]!));
