/**
 * One definition per event type and version: its name, the bounded context (the second token of
 * its subject, `pool.<context>.<aggregate id>`), a JSON Schema of its data and a description.
 */
import type { Static, TSchema } from 'typebox';

export type Context = 'telemetry' | 'work' | 'membership' | 'chain' | 'epoch' | 'alerts' | 'observer';

export interface EventDefinition<T extends string = string, S extends TSchema = TSchema> {
  type: T;
  version: number;
  context: Context;
  /** What the aggregate id (last subject token) is, for the AsyncAPI document. */
  aggregate: string;
  description: string;
  data: S;
}

/** Declares an event type; see schemas/catalog.ts for the full list. */
export function defineEvent<T extends string, S extends TSchema>(def: EventDefinition<T, S>): EventDefinition<T, S> {
  return def;
}

/** The data type of an event definition. */
export type DataOf<D> = D extends EventDefinition<string, infer S> ? Static<S> : never;
