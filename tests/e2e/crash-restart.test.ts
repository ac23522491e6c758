/**
 * Restart safety: the pool is killed with SIGKILL at arbitrary moments (one of them while an
 * epoch is being paid) and started again on the same ./var. In the end nothing is lost or counted
 * twice: epochs settle, every leaf is paid exactly once on chain, every revenue transaction is
 * counted once, every completed task line of the workers' logs is counted once.
 */
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTaskCompletedLine } from '../../producers/cocoon/logLine.ts';
import { auditChain, lastJson, spawnPool } from '../support/pool.ts';
import { openPoolReadModels } from '../support/db.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pool-crash-'));
test.after(() => rmSync(dataDir, { recursive: true, force: true }));

/** the emulated proxy pays each member's forwarder at 0.005 TON: many revenue transactions in these short runs */
const PAY_OFTEN = ['--auto-pay-threshold', '0.005'];

async function killAt(trigger: RegExp | number): Promise<string> {
  const run = spawnPool('node', ['--epoch-seconds', '10', '--log-level', 'info', ...PAY_OFTEN], dataDir);
  const started = JSON.parse(await run.waitFor(/"msg":"pool started"/));
  if (typeof trigger === 'number') await new Promise((r) => setTimeout(r, trigger));
  else await run.waitFor(trigger);
  run.child.kill('SIGKILL');
  await run.exited;
  return started.distributionContract as string;
}

test('killed three times (once mid-payout), restarted, it settles with nothing lost or doubled', async () => {
  const distribution = await killAt(2_500);
  await killAt(/"msg":"submitting payout batch"/);
  await killAt(/"msg":"committing epoch root"/);

  const finish = spawnPool('node', ['--epoch-seconds', '10', '--epochs', '3', '--exit-when-settled', ...PAY_OFTEN], dataDir);
  assert.is(await finish.exited, 0);
  const { epochs } = lastJson(finish.lines);
  assert.equal(epochs.map((e) => e.status), ['settled', 'settled', 'settled']);

  const audit = await auditChain(dataDir, distribution, epochs.map((e) => e.id));
  for (const e of epochs) {
    assert.is(audit.roots.get(e.id), e.merkleRoot);
    const paid = [...audit.payments].filter(([k]) => k.startsWith(`${e.id}:`));
    assert.is(paid.length, e.leafCount, `epoch ${e.id}: leaves paid`);
    assert.ok(paid.every(([, v]) => v.times === 1), `epoch ${e.id}: a leaf paid twice`);
    assert.is(paid.reduce((s, [, v]) => s + v.amount, 0n), BigInt(e.rewardsNanoton));
  }

  const db = await openPoolReadModels(dataDir);
  try {
    // conservation per epoch: what came in (revenue, carry in) went out (fee, rewards, slashed, carry out), and each
    // epoch carries in what the one before carried out (an epoch in which nobody was observed long enough, the kills,
    // carries its pot on)
    type Money = { epoch_id: number; revenue: string; carry_in: string; fee: string; rewards: string; slashed: string; carry_out: string };
    const money = (await db.query<Money>(
      'select epoch_id, revenue_nanoton::text as revenue, carry_in_nanoton::text as carry_in, operator_fee_nanoton::text as fee, rewards_nanoton::text as rewards, slashed_nanoton::text as slashed, carry_out_nanoton::text as carry_out from epochs order by epoch_id',
    )).rows;
    for (const e of epochs) {
      const m = money.find((r) => r.epoch_id === e.id)!;
      assert.is(m.revenue, e.revenueNanoton);
      assert.is(BigInt(m.fee) + BigInt(m.rewards) + BigInt(m.slashed) + BigInt(m.carry_out), BigInt(m.revenue) + BigInt(m.carry_in), `epoch ${e.id}: conservation`);
      const before = money.find((r) => r.epoch_id === e.id - 1);
      assert.is(m.carry_in, before ? before.carry_out : '0', `epoch ${e.id} carries in what epoch ${e.id - 1} carried out`);
    }
    // revenue: every on-chain revenue transaction up to the last indexed one is counted, once
    const rows = (await db.query<{ tx_hash: string; epoch_id: number; amount_nanoton: string; lt: string }>('select tx_hash, epoch_id, amount_nanoton, lt::text from revenue')).rows;
    const counted = new Map(rows.map((r) => [r.tx_hash, r]));
    const lastLt = rows.reduce((m, r) => (BigInt(r.lt) > m ? BigInt(r.lt) : m), 0n);
    const onChain = [...audit.revenue].filter(([, v]) => v.lt <= lastLt);
    assert.ok(onChain.length >= epochs.length, `${onChain.length} revenue transactions indexed for ${epochs.length} settled epochs`); // how many depends on the machine's speed
    for (const [hash, v] of onChain) assert.is(counted.get(hash)?.amount_nanoton, String(v.amount), `revenue tx ${hash} lost`);
    for (const e of epochs) {
      const sum = rows.filter((r) => r.epoch_id === e.id).reduce((s, r) => s + BigInt(r.amount_nanoton), 0n);
      assert.is(String(sum), e.revenueNanoton, `epoch ${e.id} revenue = its transactions`);
    }
    // tasks: every completed line logged before the last seconds is counted exactly once
    const taskIds = new Set((await db.query<{ request_id: string }>('select request_id from counted_tasks')).rows.map((r) => r.request_id));
    const logged: { id: string; at: number }[] = [];
    const logs = join(dataDir, 'workers');
    for (const f of readdirSync(logs)) {
      for (const line of readFileSync(join(logs, f), 'utf8').split('\n')) {
        const t = parseTaskCompletedLine(line);
        if (t) logged.push({ id: t.requestId, at: t.loggedAtMs ?? 0 });
      }
    }
    const until = Math.max(...logged.map((l) => l.at)) - 5_000;
    const due = logged.filter((l) => l.at < until);
    assert.ok(due.length >= 10, `only ${due.length} task lines`); // how many depends on the machine's speed
    const missing = due.filter((l) => !taskIds.has(l.id));
    assert.is(missing.length, 0, `${missing.length} task lines never counted`);
    const perEpoch = (await db.query<{ n: string }>('select coalesce(sum(tasks), 0)::text as n from contributions')).rows[0]!.n;
    assert.is(Number(perEpoch), taskIds.size, 'tasks in contributions = distinct request ids');
  } finally {
    await db.close();
  }
});

test.run();
