/** The local chain as the pool's ChainReader, counting each call, for tests that bound the chain reads a component makes. */
import type { Address, TupleItem } from '@ton/core';
import type { ChainReader } from '../../chain/client.ts';
import type { LocalChain } from '../../chain/localChain.ts';

export interface CountingReader {
  reader: Pick<ChainReader, 'getAccount' | 'runGetMethod' | 'chainTime'>;
  /** calls so far per `<getAccount | get-method name> <raw address>` */
  calls: Map<string, number>;
  /** how many calls so far, all of them or those of one method (`getAccount`, a get-method name) */
  total(method?: string): number;
}

/** A reader over `chain()` (read at each call: the chain may be opened after this is built) that counts its calls. */
export function countingReader(chain: () => LocalChain): CountingReader {
  const calls = new Map<string, number>();
  const count = (method: string, a: Address) => {
    const key = `${method} ${a.toRawString()}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
  };
  return {
    calls,
    total: (method) => [...calls].reduce((sum, [key, n]) => (method === undefined || key.startsWith(`${method} `) ? sum + n : sum), 0),
    reader: {
      getAccount: (a) => (count('getAccount', a), chain().getAccount(a)),
      runGetMethod: (a, name: string, args?: TupleItem[]) => (count(name, a), chain().runGetMethod(a, name, args)),
      chainTime: () => chain().chainTime(),
    },
  };
}
