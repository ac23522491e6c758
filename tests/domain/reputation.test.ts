import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nextReputation, type ReputationInput } from '../../domain/reputation.ts';

const input = (over: Partial<ReputationInput> = {}): ReputationInput => ({
  previous: 500, uptimeMs: 600_000, expectedMs: 600_000, tasks: 100, tasksSucceeded: 100, taskMicros: 0, slashes: 0, maxTaskSeconds: 60, ...over,
});

test('a perfect epoch targets 1000 and moves a quarter of the way', () => {
  assert.equal(nextReputation(input()), { target: 1000, score: 625 });
});

test('the seed\'s worked example: 99.2% uptime, 98% completion, fast responses', () => {
  // seed 004 §4.3: uptime .992·.4 + response 1·.2 + completion .98·.3 + .99·.1 ≈ 981 (with 1% disputes)
  const r = nextReputation(input({ uptimeMs: 595_200, tasksSucceeded: 98, previous: 981 }));
  assert.is(r.target, 991); // no disputes in Cocoon: (1 − 0)·.1
  assert.is(r.score, 984);
});

test('offline all epoch: uptime 0, no tasks count as no blame', () => {
  assert.equal(nextReputation(input({ uptimeMs: 0, tasks: 0, tasksSucceeded: 0 })), { target: 600, score: 525 });
});

test('an epoch the pool did not observe at all is no evidence: the score stays, a slash still costs 100', () => {
  assert.equal(nextReputation(input({ previous: 900, uptimeMs: 0, expectedMs: 0, tasks: 0, tasksSucceeded: 0 })), { target: 900, score: 900 });
  assert.equal(nextReputation(input({ previous: 900, uptimeMs: 0, expectedMs: 0, slashes: 1 })), { target: 900, score: 800 });
});

test('uptime is measured against observed time: a worker up whenever the pool was keeps a high target', () => {
  // pool observed 20 min of a 60 min epoch; the worker answered for 19 of them
  const observed = nextReputation(input({ previous: 900, uptimeMs: 19 * 60_000, expectedMs: 20 * 60_000, tasks: 0, tasksSucceeded: 0 }));
  const wall = nextReputation(input({ previous: 900, uptimeMs: 19 * 60_000, expectedMs: 60 * 60_000, tasks: 0, tasksSucceeded: 0 }));
  assert.is(observed.target, 980);
  assert.is(wall.target, 727);
});

test('a slash is a dispute and costs 100; never below 0 or above 1000', () => {
  assert.equal(nextReputation(input({ slashes: 1 })), { target: 900, score: 500 });
  assert.is(nextReputation(input({ previous: 50, slashes: 3 })).score, 0);
  assert.is(nextReputation(input({ previous: 1000 })).score, 1000);
});

test.run();
