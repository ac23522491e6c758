/** The synthetic masterchain block rule of the devnet endpoint (devnet/blocks.ts), pure. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GENESIS_UNIX, blockHashes, blockOfTime, blockTime, finalBlock, latestBlock } from '../../devnet/blocks.ts';

test('a block holds the transactions of its seconds; gen_utime and seqno are inverse', () => {
  assert.is(blockOfTime(GENESIS_UNIX, 1), 1);
  assert.is(blockOfTime(GENESIS_UNIX + 9, 1), 10);
  assert.is(blockOfTime(GENESIS_UNIX + 9, 5), 2);
  assert.is(blockOfTime(GENESIS_UNIX - 100, 1), 1, 'times before genesis fall in block 1');
  for (const b of [1, 3]) for (const s of [1, 2, 77]) {
    assert.is(blockOfTime(blockTime(s, b), b), s);
    assert.is(blockOfTime(blockTime(s, b) + b - 1, b), s);
    assert.is(blockOfTime(blockTime(s, b) + b, b), s + 1);
  }
  assert.throws(() => blockOfTime(GENESIS_UNIX, 0), /positive integer/);
  assert.throws(() => blockOfTime(GENESIS_UNIX, 1.5), /positive integer/);
});

test('latest is the block being produced; final is closed and lagSeconds old', () => {
  const t = blockTime(100, 1);
  assert.is(latestBlock(t, 1), 100);
  assert.is(finalBlock(t, 1, 0), 99, 'no lag: the newest closed block');
  assert.is(finalBlock(t, 1, 2), 97);
  assert.is(finalBlock(t + 0.5, 1, 0.5), 99, 'fractional lags round down to whole seconds');
  assert.is(finalBlock(blockTime(10, 5) + 7, 5, 3), 9, 'block 10 closes at +5 and is final at +8');
  assert.is(finalBlock(blockTime(10, 5) + 8, 5, 3), 10);
  assert.is(finalBlock(GENESIS_UNIX, 1, 0), 0, 'no final block before block 1 closed');
  assert.throws(() => finalBlock(t, 1, -1), /finality lag/);
});

test('block hashes are stable and distinct', () => {
  assert.equal(blockHashes(-1, 5), blockHashes(-1, 5));
  assert.not.equal(blockHashes(-1, 5).rootHash, blockHashes(-1, 6).rootHash);
  assert.not.equal(blockHashes(-1, 5).rootHash, blockHashes(-1, 5).fileHash);
});

test.run();
