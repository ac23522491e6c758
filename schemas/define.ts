/**
 * One definition per event type and version: its name, the bounded context (the second token of
 * its subject, `pool.<context>.<aggregate id>`), a JSON Schema of its data and a description.
 */
import type { Static, TSchema } from 'typebox';

/**
 * The bounded contexts, one subject space each (`pool.<context>.>`). Who may append to which is
 * decided in infra/nats/roles.ts (a test checks every context has exactly one writer).
 */
export const contexts = ['telemetry', 'work', 'membership', 'chain', 'epoch', 'alerts', 'observer'] as const;

export type Context = (typeof contexts)[number];

export interface EventDefinition<T extends string = string, S extends TSchema = TSchema> {
  type: T;
  version: number;
  context: Context;
  /** What the aggregate id (last subject token) is, for the AsyncAPI document. */
  aggregate: string;
  /**
   * The aggregate id (last subject token) read from the event's data, e.g. `(d) => d.workerId`: a
   * reader refuses an event stored on another aggregate's subject. `null` when the data does not
   * name it (chain events: the subject names the indexed contract, the data its address), then
   * only the context is checked.
   */
  aggregateId: ((data: Static<S>) => string | number) | null;
  description: string;
  data: S;
}

/** Declares an event type; see schemas/catalog.ts for the full list. */
export function defineEvent<T extends string, S extends TSchema>(def: EventDefinition<T, S>): EventDefinition<T, S> {
  return def;
}

/** The data type of an event definition. */
export type DataOf<D> = D extends EventDefinition<string, infer S> ? Static<S> : never;
