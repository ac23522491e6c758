/**
 * A restart with another epoch length, through the real saga on a real nats-server: the change is
 * a recorded decision (EpochScheduleChanged on pool.epoch.<id>), logged at warn with both values,
 * the open epoch ends at max(now, start + new length), and a restart with the same length records nothing.
 */
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SagaSettings } from '../../sagas/epoch/decide.ts';
import { runEpochSaga } from '../../sagas/epoch/processManager.ts';
import { DEFAULT_REWARD_PARAMS } from '../../domain/rewards.ts';
import type { RecordedEvent } from '../../schemas/catalog.ts';
import { openArtifactStore } from '../../streams/artifacts.ts';
import { deadLetterTo } from '../../streams/deadLetter.ts';
import { createMigratedDatabase, type TestDb } from '../support/db.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { recordingActions } from '../support/sagaActions.ts';

let nats: TestNats;
let pg: TestDb;
test.before(async () => {
  [nats, pg] = await Promise.all([startTestNats(), createMigratedDatabase()]);
});
test.after(async () => {
  await nats.stop();
  await pg.drop();
});

const WEEK = 7 * 24 * 3600 * 1000;
// no projection runs here, so no epoch is ever frozen: nothing reaches the chain
const actions = recordingActions();

/** Runs the saga with `epochMs` until `done` holds for the stored events of the first `epochs` epochs. */
async function runSaga(epochMs: number, until: (events: RecordedEvent[]) => boolean, epochs = 3): Promise<{ events: RecordedEvent[]; logs: Record<string, unknown>[] }> {
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const settings: SagaSettings = { epochMs, batchSize: 200, maxBatchesInFlight: 1, resubmitAfterMs: 30_000, maxRefusedAttempts: 3 };
  const ctl = new AbortController();
  const done = runEpochSaga({ store: nats.store, deadLetter: deadLetterTo(nats.js), db: pg.db, artifacts: await openArtifactStore(nats.nc), actions, settings, rewardParams: DEFAULT_REWARD_PARAMS, logger, tickMs: 50, signal: ctl.signal });
  try {
    for (let i = 0; i < 1200; i++) {
      const events = (await Promise.all(Array.from({ length: epochs }, (_, k) => nats.store.readSubject(`pool.epoch.${k + 1}`)))).flat();
      if (until(events)) return { events, logs };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('condition not reached within 60 s');
  } finally {
    ctl.abort();
    await done;
  }
}

const of = <T extends RecordedEvent['type']>(events: RecordedEvent[], type: T, epochId: number) =>
  events.filter((e) => e.type === type && (e.data as { epochId: number }).epochId === epochId) as Extract<RecordedEvent, { type: T }>[];

test('started with 7-day epochs, restarted with 2-second ones: recorded, logged, and the epoch closes at its new end', async () => {
  const first = await runSaga(WEEK, (events) => of(events, 'EpochOpened', 1).length === 1);
  const opened = of(first.events, 'EpochOpened', 1)[0]!.data;
  assert.is(opened.endsAtMs - opened.startedAtMs, WEEK);

  const second = await runSaga(2_000, (events) => of(events, 'EpochOpened', 2).length === 1);
  const changes = of(second.events, 'EpochScheduleChanged', 1);
  assert.is(changes.length, 1);
  const change = changes[0]!.data;
  assert.equal([change.previousEndsAtMs, change.previousLengthMs, change.lengthMs], [opened.endsAtMs, WEEK, 2_000]);
  assert.is(change.endsAtMs, Math.max(change.changedAtMs, opened.startedAtMs + 2_000));
  // the cut comes after the change, at or after the new end, and long before the old one
  const closing = of(second.events, 'EpochClosing', 1)[0]!;
  assert.ok(closing.sequence > changes[0]!.sequence);
  assert.ok(closing.data.closedAtMs >= change.endsAtMs && closing.data.closedAtMs < opened.endsAtMs);
  const next = of(second.events, 'EpochOpened', 2)[0]!.data;
  assert.is(next.endsAtMs - next.startedAtMs, 2_000);
  // printed at start, at warn, with both values
  const warn = second.logs.find((l) => l.msg === 'epoch length changed: the open epoch now ends at max(now, start + new length)');
  assert.ok(warn, 'no warn line for the schedule change');
  assert.is(warn!.level, 40);
  assert.equal([warn!.epochId, warn!.previousEpochSeconds, warn!.epochSeconds], [1, WEEK / 1000, 2]);
  assert.equal([warn!.previousEndsAt, warn!.endsAt], [new Date(opened.endsAtMs).toISOString(), new Date(change.endsAtMs).toISOString()]);

  // a restart with the same length records nothing new: epoch 2 ends on its own schedule
  const third = await runSaga(2_000, (events) => of(events, 'EpochOpened', 3).length === 1);
  assert.is(third.events.filter((e) => e.type === 'EpochScheduleChanged').length, 1);
  assert.equal(actions.commits, [], 'nothing was signed');
  assert.not.ok(third.logs.some((l) => l.level === 40));
});

test.run();
