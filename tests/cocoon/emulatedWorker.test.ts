/**
 * The emulated Cocoon worker over real sockets: HTTP/1.0 bytes, /jsonstats parsed back, counters
 * vs log lines, restart, stall, offline, slow reply, rotation, determinism per seed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address } from '@ton/core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseJsonStats, type WorkerStats } from '../../producers/cocoon/jsonstats.ts';
import { parseTaskCompletedLine, type TaskCompletedLine } from '../../producers/cocoon/logLine.ts';
import { workerHealth } from '../../producers/cocoon/workerHealth.ts';
import { serializeJsonStats } from '../../emulator/jsonstatsSerializer.ts';
import { EmulatedWorker, type CompletedRequest, type EmulatedWorkerOptions } from '../../emulator/worker.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cocoon-emu-'));
const POOL_ADDRESS = 'EQBvW8Z5huBkMJYdnfAEM5JqTNkuWX3diqYENkWsIL0XggGG';
let n = 0;

async function withWorker(options: Partial<EmulatedWorkerOptions>, body: (w: EmulatedWorker) => Promise<void>): Promise<void> {
  const w = new EmulatedWorker({ port: 0, seed: 42, logFile: join(tmp, `worker-${n++}.log`), requestsPerSecond: 0, tickMs: 10, ...options });
  await w.start();
  try {
    await body(w);
  } finally {
    await w.stop();
  }
}

interface RawReply {
  statusLine: string;
  headers: Map<string, string>;
  body: string;
  ms: number;
}

/** One raw HTTP/1.0 exchange; resolves when the server closes the connection. */
function rawGet(port: number, path: string): Promise<RawReply> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(`GET ${path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)] as [string, string]));
      resolve({ statusLine: statusLine!, headers, body: text.slice(split + 4), ms: Date.now() - started });
    });
  });
}

async function stats(w: EmulatedWorker): Promise<WorkerStats> {
  const reply = await rawGet(w.port, '/jsonstats');
  assert.is(reply.statusLine, 'HTTP/1.0 200 ok');
  return parseJsonStats(reply.body);
}

function logLines(path: string): TaskCompletedLine[] {
  const files = [`${path}.1`, path].filter((f) => existsSync(f));
  return files.flatMap((f) => readFileSync(f, 'utf8').split('\n')).map(parseTaskCompletedLine).filter((l) => l !== null);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('GET /jsonstats: HTTP/1.0 reply, headers, closed connection, body parses; fresh worker', async () => {
  await withWorker({ ownerAddress: POOL_ADDRESS }, async (w) => {
    const reply = await rawGet(w.port, '/jsonstats');
    assert.is(reply.statusLine, 'HTTP/1.0 200 ok');
    assert.is(reply.headers.get('Access-Control-Allow-Origin'), '*');
    assert.is(reply.headers.get('Content-Type'), 'application/json');
    assert.is(Number(reply.headers.get('Content-Length')), Buffer.byteLength(reply.body));
    assert.is(reply.headers.get('Connection'), 'Close');
    assert.ok(reply.body.startsWith('\n{\n  "status": {'));
    assert.match(reply.body, /"owner_address": "UQ[A-Za-z0-9_-]{46}"/);
    assert.match(reply.body, /"cached_tokens_price_multiplier": 10000,[^]*"cached_tokens_price_multiplier": 10000,/);
    const s = parseJsonStats(reply.body);
    assert.is(serializeJsonStats(s), reply.body, 'the emulator speaks exactly the serializer format');
    assert.is(s.localConfig.ownerAddress, '0:6f5bc67986e06430961d9df00433926a4cd92e597ddd8aa6043645ac20bd1782');
    assert.is(w.localConfig.ownerAddress, s.localConfig.ownerAddress);
    for (const v of Object.values(s.totals)) assert.is(v, 0);
    assert.equal(s.proxies, []);
    assert.equal(workerHealth(s, Math.floor(Date.now() / 1000)), { healthy: true, reasons: [] });
  });
});

test("a plain node:http client (what a poller uses) reads the worker", async () => {
  await withWorker({}, async (w) => {
    w.completeRequests(3);
    const body = await new Promise<string>((resolve, reject) => {
      get(`${w.url}/jsonstats`, (res) => {
        assert.is(res.statusCode, 200);
        assert.is(res.httpVersion, '1.0');
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.is(parseJsonStats(body).totals.queries, 3);
  });
});

test('unknown path → 400 not found; access_hash guards /stats and /jsonstats but not /perf', async () => {
  await withWorker({ accessHash: 's3cret' }, async (w) => {
    const unknown = await rawGet(w.port, '/nope');
    assert.is(unknown.statusLine, 'HTTP/1.0 400 not found');
    assert.is(unknown.headers.get('Content-Length'), '0');
    assert.is(unknown.body, '');
    assert.is((await rawGet(w.port, '/jsonstats')).statusLine, 'HTTP/1.0 400 bad request');
    assert.is((await rawGet(w.port, '/jsonstats?access_hash=wrong')).statusLine, 'HTTP/1.0 400 bad request');
    const ok = await rawGet(w.port, '/jsonstats?x=1&access_hash=s3cret');
    assert.is(ok.statusLine, 'HTTP/1.0 200 ok');
    parseJsonStats(ok.body);
    const html = await rawGet(w.port, '/stats?access_hash=s3cret');
    assert.is(html.headers.get('Content-Type'), 'text/html; charset=utf-8');
    assert.match(html.body, /<h1>STATS<\/h1>/);
    assert.is((await rawGet(w.port, '/perf')).statusLine, 'HTTP/1.0 200 ok');
  });
});

test('counters grow by exactly the logged requests; failures double-count; listener and cumulative tokens agree', async () => {
  await withWorker({ failureRate: 0.2 }, async (w) => {
    const seen: CompletedRequest[] = [];
    w.onRequestCompleted((r) => seen.push(r));
    const done = w.completeRequests(300);
    const s = await stats(w);
    await w.flushLog();
    const lines = logLines(join(tmp, `worker-${n - 1}.log`));
    assert.is(lines.length, 300);
    assert.equal(seen, done);
    assert.equal(lines.map((l) => l.requestId), done.map((r) => r.requestId));
    const sum = (f: (l: TaskCompletedLine) => number) => lines.reduce((a, l) => a + f(l), 0);
    const failed = lines.filter((l) => !l.success).length;
    assert.ok(failed > 20 && failed < 120, `failures ${failed}`);
    assert.is(s.totals.queries, 300);
    assert.is(s.totals.success, 300 - failed);
    assert.is(s.totals.failed, 2 * failed, 'send_error + finish_request(false)');
    assert.is(s.totals.totalAdjustedTokens, sum((l) => l.totalTokens));
    assert.is(s.totals.promptAdjustedTokens, sum((l) => l.promptTokens));
    assert.is(s.totals.cachedAdjustedTokens, sum((l) => l.cachedTokens));
    assert.is(s.totals.completionAdjustedTokens, sum((l) => l.completionTokens));
    assert.is(s.totals.reasoningAdjustedTokens, sum((l) => l.reasoningTokens));
    assert.is(s.totals.bytesSent, sum((l) => l.payloadBytes));
    assert.ok(Math.abs(s.totals.timeSeconds - sum((l) => l.seconds)) < 1e-6);
    assert.ok(sum((l) => l.reasoningTokens) > 0 && sum((l) => l.cachedTokens) > 0);
    assert.is(w.cumulativeAdjustedTokens(), s.totals.totalAdjustedTokens);
    assert.is(s.proxies[0]!.earnedTokensMaxKnown, BigInt(s.totals.totalAdjustedTokens));
    assert.ok(s.rates.queries[0] > 0 && s.rates.queries.every((r) => Number.isFinite(r) && r >= 0));
    const text = readFileSync(join(tmp, `worker-${n - 1}.log`), 'utf8');
    assert.match(text, /^\[ 3\]\[t 1\]\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}\]\[WorkerRunningRequest\.cpp:53\]\[!WorkerRunningRequest\]\tworker request [0-9A-F]{64}: received$/m);
    assert.match(text, /^\[ 2\].*\tworker request [0-9A-F]{64} failed: /m);
  });
});

test('timer-driven work: rate, then rate 0 freezes counters; growth equals the log', async () => {
  await withWorker({ requestsPerSecond: 500 }, async (w) => {
    await sleep(300);
    w.setRequestsPerSecond(0);
    await sleep(30);
    const s = await stats(w);
    await w.flushLog();
    const lines = logLines(join(tmp, `worker-${n - 1}.log`));
    assert.ok(s.totals.queries >= 50, `only ${s.totals.queries} requests in 300 ms at 500/s`);
    assert.is(lines.length, s.totals.queries);
    assert.is(lines.reduce((a, l) => a + l.totalTokens, 0), s.totals.totalAdjustedTokens);
    await sleep(50);
    assert.is((await stats(w)).totals.queries, s.totals.queries);
  });
});

test('same seed → same request stream; other seed → different; a worker started again never repeats a request id unless given the same salt', async () => {
  const run = async (seed: number, requestIdSalt?: string) => {
    let out: CompletedRequest[] = [];
    await withWorker({ seed, requestIdSalt }, async (w) => {
      out = w.completeRequests(40);
    });
    return out;
  };
  const figures = (rs: CompletedRequest[]) => rs.map((r) => [r.success, r.totalTokens, r.seconds]);
  const [a, b] = [await run(7), await run(7)];
  assert.equal(figures(a), figures(b), 'the same usage figures');
  const ids = new Set(a.map((r) => r.requestId));
  assert.ok(b.every((r) => !ids.has(r.requestId)), 'no request id of the first run comes again');
  assert.equal((await run(7, 'fixed')).map((r) => r.requestId), (await run(7, 'fixed')).map((r) => r.requestId));
  assert.not.equal(figures(await run(7)), figures(await run(8)));
});

test('/request/payout?proxy= answers as Cocoon\'s worker: unknown proxy (or none yet) "proxy not found", its proxy "request sent" and the payout is asked', async () => {
  const proxy = '0:' + 'ab'.repeat(32);
  await withWorker({ accessHash: 's3cret', proxyScAddress: proxy }, async (w) => {
    let asked = 0;
    w.onPayoutRequested(() => asked++);
    const page = (text: string) => `<!DOCTYPE html>\n<html><body>\n${text}<br/>\n<a href="/stats">return to stats</a>\n</html></body>\n`;
    assert.is((await rawGet(w.port, `/request/payout?proxy=${proxy}`)).statusLine, 'HTTP/1.0 400 bad request', 'the access hash guards it');
    const early = await rawGet(w.port, `/request/payout?proxy=${proxy}&access_hash=s3cret`);
    assert.equal([early.statusLine, early.body], ['HTTP/1.0 200 ok', page('proxy not found')], 'no request served yet: the worker knows no proxy');
    w.completeRequests(3);
    assert.is(parseJsonStats((await rawGet(w.port, '/jsonstats?access_hash=s3cret')).body).proxies[0]!.proxyScAddress, proxy);
    const other = await rawGet(w.port, `/request/payout?proxy=0:${'cd'.repeat(32)}&access_hash=s3cret`);
    assert.is(other.body, page('proxy not found'));
    assert.is((await rawGet(w.port, '/request/payout?access_hash=s3cret')).body, page('proxy not found'));
    assert.is(asked, 0);
    const friendly = Address.parse(proxy).toString({ urlSafe: true });
    const sent = await rawGet(w.port, `/request/payout?proxy=${friendly}&access_hash=s3cret`);
    assert.equal([sent.statusLine, sent.headers.get('Content-Type'), sent.body], ['HTTP/1.0 200 ok', 'text/html; charset=utf-8', page('request sent')]);
    assert.is(asked, 1);
  });
});

test('restart resets counters and proxies, changes git_commit; cumulative tokens survive', async () => {
  await withWorker({}, async (w) => {
    w.completeRequests(20);
    const before = await stats(w);
    assert.is(before.totals.queries, 20);
    await w.inject({ kind: 'restart', gitCommit: 'c0ffee0000000000000000000000000000000000' });
    const after = await stats(w);
    for (const v of Object.values(after.totals)) assert.is(v, 0);
    for (const rates of Object.values(after.rates)) assert.equal(rates, [0, 0, 0, 0, 0, 0]);
    assert.equal(after.proxies, []);
    assert.is(after.status.gitCommit, 'c0ffee0000000000000000000000000000000000');
    assert.is(w.cumulativeAdjustedTokens(), before.totals.totalAdjustedTokens);
    w.completeRequests(5);
    const again = await stats(w);
    assert.is(again.totals.queries, 5);
    assert.is(w.cumulativeAdjustedTokens(), before.totals.totalAdjustedTokens + again.totals.totalAdjustedTokens);
  });
});

test('offline: connection refused, no work, then back on the same port', async () => {
  await withWorker({}, async (w) => {
    w.completeRequests(2);
    await w.inject({ kind: 'offline', seconds: 0.3 });
    const refused = await rawGet(w.port, '/jsonstats').then(
      () => null,
      (e: NodeJS.ErrnoException) => e.code,
    );
    assert.is(refused, 'ECONNREFUSED');
    assert.equal(w.completeRequests(3), []);
    await sleep(700);
    const s = await stats(w);
    assert.is(s.totals.queries, 2, 'offline is not a restart unless asked');
  });
  await withWorker({}, async (w) => {
    w.completeRequests(2);
    await w.inject({ kind: 'offline', seconds: 0.1, restartOnReturn: true });
    await sleep(500);
    assert.is((await stats(w)).totals.queries, 0);
  });
});

test('stall: serves, counters frozen, no log lines', async () => {
  await withWorker({ requestsPerSecond: 1000 }, async (w) => {
    await sleep(50);
    await w.inject({ kind: 'stall', seconds: 30 });
    await sleep(20);
    const frozen = await stats(w);
    await w.flushLog();
    const logSize = readFileSync(join(tmp, `worker-${n - 1}.log`)).length;
    await sleep(150);
    assert.is((await stats(w)).totals.queries, frozen.totals.queries);
    await w.flushLog();
    assert.is(readFileSync(join(tmp, `worker-${n - 1}.log`)).length, logSize);
  });
});

test('slow reply delays the answer', async () => {
  await withWorker({}, async (w) => {
    await w.inject({ kind: 'slow', seconds: 5, replyDelayMs: 250 });
    const reply = await rawGet(w.port, '/jsonstats');
    assert.ok(reply.ms >= 240, `${reply.ms} ms`);
    parseJsonStats(reply.body);
  });
});

test('scheduled and random faults run from the plan', async () => {
  await withWorker(
    { faults: { schedule: [{ atSeconds: 0.05, fault: { kind: 'restart', gitCommit: 'feedface00000000000000000000000000000000' } }] } },
    async (w) => {
      await sleep(400);
      assert.is((await stats(w)).status.gitCommit, 'feedface00000000000000000000000000000000');
    },
  );
  await withWorker({ faults: { random: { perHour: 3600 * 1000, faults: [{ kind: 'stall', seconds: 60 }] } } }, async (w) => {
    await sleep(60);
    assert.equal(w.completeRequests(1), [], 'a stall was injected');
  });
});

test('rotation: file → .1 at the size threshold; a tailer reading both loses nothing', async () => {
  const logFile = join(tmp, 'rotating.log');
  await withWorker({ logFile, logRotateBytes: 4096 }, async (w) => {
    const seen = new Map<string, TaskCompletedLine>();
    let rotations = 0;
    let lastFirstLine = '';
    for (let i = 0; i < 60; i++) {
      w.completeRequests(1);
      await w.flushLog();
      for (const l of logLines(logFile)) seen.set(l.requestId, l);
      if (existsSync(`${logFile}.1`)) {
        const first = readFileSync(`${logFile}.1`, 'utf8').slice(0, 200);
        if (first !== lastFirstLine) rotations++;
        lastFirstLine = first;
      }
      assert.ok(readFileSync(logFile).length <= 4096);
    }
    assert.ok(rotations >= 2, `${rotations} rotations`);
    const s = await stats(w);
    assert.is(seen.size, 60);
    assert.is([...seen.values()].reduce((a, l) => a + l.totalTokens, 0), s.totals.totalAdjustedTokens);
  });
});

test('setStatus makes the worker unhealthy as /jsonstats reports it', async () => {
  await withWorker({ walletBalanceNanoton: 1_000_000_000n }, async (w) => {
    w.setStatus({ actualModel: false, tonLastSyncedAt: 1_000 });
    const s = await stats(w);
    assert.equal(workerHealth(s, Math.floor(Date.now() / 1000)).reasons, ['ton-out-of-sync', 'model-not-in-root', 'wallet-balance-low']);
  });
});

test('stop() releases the port and timers', async () => {
  const w = new EmulatedWorker({ port: 0, seed: 1, logFile: join(tmp, 'stop.log'), requestsPerSecond: 100, tickMs: 10 });
  await w.start();
  const port = w.port;
  await w.inject({ kind: 'offline', seconds: 0.05 });
  await w.stop();
  await sleep(100); // the pending come-back timer must not re-open the port
  const code = await rawGet(port, '/jsonstats').then(
    () => null,
    (e: NodeJS.ErrnoException) => e.code,
  );
  assert.is(code, 'ECONNREFUSED');
  const again = new EmulatedWorker({ port, seed: 1, logFile: join(tmp, 'stop2.log') });
  await again.start();
  assert.is(again.port, port);
  await again.stop();
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
