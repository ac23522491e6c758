/** Membership: which participant wallet each worker pays (pool configuration). */
import Type from 'typebox';
import { RawAddress, UnixMs, WorkerId } from './common.ts';
import { defineEvent } from './define.ts';

export const WorkerBound = defineEvent({
  type: 'WorkerBound',
  version: 1,
  context: 'membership',
  aggregate: 'worker id',
  aggregateId: (d) => d.workerId,
  description:
    'A worker endpoint is bound to a participant wallet: from now on its contribution counts for that participant. ' +
    'Appended when the configured binding differs from the last one recorded.',
  data: Type.Object(
    {
      workerId: WorkerId,
      participant: RawAddress,
      endpoint: Type.String({ maxLength: 500 }),
      boundAtMs: UnixMs,
    },
    { additionalProperties: false },
  ),
});
