import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getEventListeners } from 'node:events';
import { sleep, Waker } from '../../runtime/sleep.ts';

test('sleep waits its time and leaves no abort listener behind', async () => {
  const ctl = new AbortController();
  const started = Date.now();
  for (let i = 0; i < 200; i++) await sleep(0, ctl.signal);
  await sleep(30, ctl.signal);
  assert.ok(Date.now() - started >= 29);
  assert.is(getEventListeners(ctl.signal, 'abort').length, 0);
});

test('an abort ends a sleep at once and later sleeps return immediately', async () => {
  const ctl = new AbortController();
  const started = Date.now();
  setTimeout(() => ctl.abort(), 20);
  await sleep(60_000, ctl.signal);
  assert.ok(Date.now() - started < 5_000);
  const again = Date.now();
  await sleep(60_000, ctl.signal);
  assert.ok(Date.now() - again < 1_000);
});

test('a wake while busy is remembered: the next sleep returns at once', async () => {
  const waker = new Waker();
  const ctl = new AbortController();
  waker.wake();
  const started = Date.now();
  await waker.sleep(60_000, ctl.signal);
  assert.ok(Date.now() - started < 1_000);
  setTimeout(() => waker.wake(), 20);
  await waker.sleep(60_000, ctl.signal);
  assert.ok(Date.now() - started < 5_000);
  for (let i = 0; i < 100; i++) {
    waker.wake();
    await waker.sleep(60_000, ctl.signal);
  }
  assert.is(getEventListeners(ctl.signal, 'abort').length, 0);
});

test.run();
