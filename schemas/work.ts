/** Work: task completions read from the worker's log (producers/cocoon/logTailer.ts). */
import Type from 'typebox';
import { Count, Hash256, UnixMs, WorkerId } from './common.ts';
import { defineEvent } from './define.ts';

export const TaskCompleted = defineEvent({
  type: 'TaskCompleted',
  version: 1,
  context: 'work',
  aggregate: 'worker id',
  aggregateId: (d) => d.workerId,
  description:
    'One `worker request <id>: completed: …` log line (Cocoon WorkerRunningRequest.cpp:299). Token counts ' +
    'are adjusted tokens; the event id is the Cocoon request id.',
  data: Type.Object(
    {
      workerId: WorkerId,
      requestId: Hash256,
      success: Type.Boolean(),
      seconds: Type.Number({ minimum: 0 }),
      payloadParts: Count,
      payloadBytes: Count,
      promptTokens: Count,
      cachedTokens: Count,
      completionTokens: Count,
      reasoningTokens: Count,
      totalTokens: Count,
      loggedAtMs: Type.Union([UnixMs, Type.Null()]),
      observedAtMs: UnixMs,
    },
    { additionalProperties: false },
  ),
});
