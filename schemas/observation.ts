/**
 * Observation: the pool's own record of when it was watching its workers, so that its outages
 * and restarts count against nobody (domain/observation.ts). One subject, `pool.observer.poller`.
 */
import Type from 'typebox';
import { UnixMs } from './common.ts';
import { defineEvent } from './define.ts';

export const PoolObserving = defineEvent({
  type: 'PoolObserving',
  version: 1,
  context: 'observer',
  aggregate: 'observer (the process polling the workers: `poller`)',
  aggregateId: () => 'poller',
  description:
    'The pool is observing its workers at `atMs` and promises its next heartbeat within `validForMs`: the time up to ' +
    'the next heartbeat, at most `validForMs`, is observed. Appended at start (`phase` start), every poll interval ' +
    '(running) and on a clean stop (stop, `validForMs` 0). After a crash the promise runs out: the time until the next ' +
    'start is the pool\'s own outage and counts in nobody\'s expected uptime.',
  data: Type.Object(
    {
      atMs: UnixMs,
      validForMs: Type.Integer({ minimum: 0, description: 'milliseconds' }),
      phase: Type.Union([Type.Literal('start'), Type.Literal('running'), Type.Literal('stop')]),
    },
    { additionalProperties: false },
  ),
});
