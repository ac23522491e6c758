/**
 * Who may do what on the pool's NATS server: ONE table of roles, from which the users and
 * permissions of the embedded server (`npm start`, infra/nats/auth.ts) and the shipped
 * infra/nats/accounts.conf (for a server run by an operator) are generated.
 *
 * Every pool component connects as its role's user. A role appends only to the contexts it owns
 * (`pool.<context>.>`), dead-letters only under its own sources (`dlq.pool.<source>`), writes only
 * its own cursor keys (`$KV.pool_cursors.<key>`) and leases (`$KV.pool_leases.<key>`), and reads what its capabilities say. Only
 * `admin` (used at start-up for the topology and the worker bindings) may create, update, purge or
 * delete a stream. Nobody may publish to an inbox (that would forge replies and consumer
 * deliveries) and nobody subscribes to a stream's subjects (a push consumer whose deliver subject
 * has no subscriber delivers nothing, so a reader cannot route stored messages into POOL or
 * POOL_DLQ). Each pool role receives its replies on its own inbox prefix (`_INBOX_<role>`, see
 * {@link inboxPrefixOf}), which no other user may subscribe to: the reader cannot watch the pool's
 * inboxes to aim a consumer's deliveries at one.
 *
 * Every name here is the pool's own (streams/names.ts): another pool id gives other streams,
 * subjects, buckets, inbox prefixes and user names, so two pools' users cannot touch each other's
 * data on one server. (The `admin` role's topology capability is the whole JetStream API of its
 * account, as creating streams needs.)
 *
 * To let a role append a new context: add the context to `contexts` (schemas/define.ts) and to that
 * role's `appends`; a new dead-letter source or cursor key: one entry in `deadLetters` / `cursors`.
 * tests/infra/nats-roles.test.ts checks every context has exactly one writer and every projection
 * its dead-letter source, and that accounts.conf is this table (`node --import tsx
 * infra/nats/roles.ts` rewrites it).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context } from '../../schemas/define.ts';
import { DEFAULT_POOL_NAMES, type PoolNames } from '../../streams/names.ts';

/** What a role may read or manage, beyond its own appends, dead letters and cursors. */
export type Capability =
  /** read stream POOL: stream info, get/direct get, its own consumers (create, info, next, ack, delete) */
  | 'readLedger'
  /** read stream POOL_DLQ the same way */
  | 'readDeadLetters'
  /** read the `pool_artifacts` object store */
  | 'readArtifacts'
  /** put to the `pool_artifacts` object store (never purge or delete it) */
  | 'writeArtifacts'
  /** the whole JetStream API: create, update, purge, delete streams and buckets */
  | 'topology';

export interface RoleGrant {
  /** who connects as this role */
  description: string;
  /** contexts whose subjects `pool.<context>.>` this role appends to */
  appends: readonly Context[];
  /** dead-letter sources, published as `dlq.pool.<source>` (streams/deadLetter.ts); `>` = any */
  deadLetters: readonly string[];
  /** cursor keys it writes, as KV subject patterns (`tailer.>`, `saga.heartbeat`); reading the bucket comes with it */
  cursors: readonly string[];
  /** single-writer leases it takes (keys of the lease bucket, streams/lease.ts); reading the bucket comes with it */
  leases: readonly string[];
  can: readonly Capability[];
}

/** The roles. User names are the keys. */
export const ROLES = {
  admin: {
    description: 'start-up: streams and buckets (ensureTopology), worker bindings (WorkerBound), `pool audit`',
    appends: ['membership'],
    deadLetters: ['>'],
    cursors: [],
    leases: [],
    can: ['topology', 'readLedger', 'readDeadLetters', 'readArtifacts'],
  },
  producers: {
    description: "the /jsonstats poller, the pool's own observation heartbeat, the log tailer (and its request-id claims) and the chain indexer (and the contracts' identity at start-up)",
    appends: ['telemetry', 'work', 'chain', 'observer'],
    deadLetters: ['poller', 'tailer', 'chain-indexer'],
    cursors: ['tailer.>', 'task.>', 'chain.>'],
    leases: ['producers'],
    can: ['readLedger'],
  },
  projections: {
    description: 'the read-model projections (projectors/all.ts): they append nothing',
    appends: [],
    deadLetters: [
      'projections',
      'projection-workers',
      'projection-contributions',
      'projection-epochs',
      'projection-participants',
      'projection-rewards',
      'projection-reputation',
      'projection-member-floats',
      'projection-member-revenue',
      'projection-worker-contracts',
      'projection-worker-stats',
    ],
    cursors: [],
    leases: ['projections'],
    can: ['readLedger', 'readArtifacts'],
  },
  'epoch-saga': {
    description: 'the epoch saga: its decisions (the contribution divergence alerts among them) and the epoch artifacts',
    appends: ['epoch'],
    deadLetters: ['epoch-saga'],
    cursors: [],
    leases: ['epoch-saga'],
    can: ['readLedger', 'readArtifacts', 'writeArtifacts'],
  },
  'heartbeat-saga': {
    description: 'the heartbeat saga: worker alerts',
    appends: ['alerts'],
    deadLetters: ['heartbeat-saga'],
    cursors: ['saga.heartbeat', 'saga.heartbeat.state.>'],
    leases: ['heartbeat-saga'],
    can: ['readLedger'],
  },
  'read-api': {
    description: 'the read API (health reads the stream position; metrics count failed chain transactions from the stream; epoch artifacts served as files; the operator reads dead letters)',
    appends: [],
    deadLetters: [],
    cursors: [],
    leases: ['alerts'],
    can: ['readLedger', 'readDeadLetters', 'readArtifacts'],
  },
  reader: {
    description: 'downstream services (alerting, a Telegram bot, accounting): read, nothing else',
    appends: [],
    deadLetters: [],
    cursors: [],
    leases: [],
    can: ['readLedger', 'readDeadLetters', 'readArtifacts'],
  },
} as const satisfies Record<string, RoleGrant>;

/** A role's name, also its NATS user name. */
export type Role = keyof typeof ROLES;

/** Every role, in table order. */
export const roles = Object.keys(ROLES) as Role[];

/** The subjects a user may publish to and subscribe to (NATS `permissions.publish/subscribe.allow`). */
export interface Permissions {
  publish: string[];
  subscribe: string[];
}

const API = '$JS.API';

/** Reading one stream: info, get, direct get, and consumers of one's own (ordered, pull or push). */
function readStream(stream: string): string[] {
  return [
    `${API}.STREAM.INFO.${stream}`,
    `${API}.STREAM.MSG.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}.>`,
    `${API}.CONSUMER.CREATE.${stream}`,
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.DURABLE.CREATE.${stream}.>`,
    `${API}.CONSUMER.INFO.${stream}.>`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.>`,
    `${API}.CONSUMER.DELETE.${stream}.>`,
    `$JS.ACK.${stream}.>`,
    // flow-control replies of push consumers (the object store reads with one)
    `$JS.FC.${stream}.>`,
  ];
}

function capabilitySubjects(capability: Capability, names: PoolNames): string[] {
  switch (capability) {
    case 'readLedger':
      return readStream(names.eventStream);
    case 'readDeadLetters':
      return readStream(names.deadLetterStream);
    case 'readArtifacts':
      return readStream(`OBJ_${names.artifactBucket}`);
    case 'writeArtifacts':
      return [`$O.${names.artifactBucket}.>`];
    case 'topology':
      return [`${API}.>`];
  }
}

/**
 * NATS user name of `role` in pool `names`: the role itself for the default pool, `<poolId>-<role>`
 * for another (two pools' users on one server).
 */
export function userOf(role: Role, names: PoolNames = DEFAULT_POOL_NAMES): string {
  return names.poolId === DEFAULT_POOL_NAMES.poolId ? role : `${names.poolId}-${role}`;
}

/**
 * Inbox prefix of `role`'s connection (nats.js `inboxPrefix`): `_INBOX_<role>` for the default
 * pool's roles (`_INBOX_<poolId>_<role>` for another pool's), the default `_INBOX` for `reader`
 * (downstream clients need no setting).
 */
export function inboxPrefixOf(role: Role, names: PoolNames = DEFAULT_POOL_NAMES): string {
  if (role === 'reader') return '_INBOX';
  return names.poolId === DEFAULT_POOL_NAMES.poolId ? `_INBOX_${role}` : `_INBOX_${names.poolId}_${role}`;
}

/** The permissions of `role` in pool `names` (default the `pool` pool), derived from {@link ROLES}. */
export function permissionsOf(role: Role, names: PoolNames = DEFAULT_POOL_NAMES): Permissions {
  const grant: RoleGrant = ROLES[role];
  const publish = new Set<string>([`${API}.INFO`]);
  for (const context of grant.appends) publish.add(`${names.subjectRoot}.${context}.>`);
  for (const source of grant.deadLetters) publish.add(`${names.deadLetterRoot}.${source}`);
  if (grant.cursors.length) {
    const kvStream = `KV_${names.cursorBucket}`;
    for (const s of [`${API}.STREAM.INFO.${kvStream}`, `${API}.STREAM.MSG.GET.${kvStream}`, `${API}.DIRECT.GET.${kvStream}.>`]) publish.add(s);
    for (const key of grant.cursors) publish.add(`$KV.${names.cursorBucket}.${key}`);
  }
  if (grant.leases.length) {
    const kvStream = `KV_${names.leaseBucket}`;
    for (const s of [`${API}.STREAM.INFO.${kvStream}`, `${API}.STREAM.MSG.GET.${kvStream}`, `${API}.DIRECT.GET.${kvStream}.>`]) publish.add(s);
    for (const key of grant.leases) publish.add(`$KV.${names.leaseBucket}.${key}`);
  }
  for (const c of grant.can) for (const s of capabilitySubjects(c, names)) publish.add(s);
  return { publish: [...publish], subscribe: [`${inboxPrefixOf(role, names)}.>`] };
}

/**
 * The union of every pool role's publish permissions (not `reader`'s): the one user of an
 * operator's server (NATS_USER), whose connection uses the default inbox prefix.
 */
export function servicePermissions(names: PoolNames = DEFAULT_POOL_NAMES): Permissions {
  const publish = new Set<string>();
  for (const role of roles) if (role !== 'reader') for (const s of permissionsOf(role, names).publish) publish.add(s);
  return { publish: [...publish], subscribe: ['_INBOX.>'] };
}

function quote(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s) || /["\\]/.test(s)) throw new Error(`cannot quote ${JSON.stringify(s)} in a NATS config`);
  return `"${s}"`;
}

/** One entry of a NATS `users` list; `password` is written as is (a quoted literal or a `$VARIABLE`). */
function userEntry(user: string, password: string, permissions: Permissions, comment: string): string {
  const list = (xs: string[]) => `[${xs.map(quote).join(', ')}]`;
  return [
    `      # ${comment}`,
    '      {',
    `        user: ${quote(user)}`,
    `        password: ${password}`,
    '        permissions: {',
    `          publish: { allow: ${list(permissions.publish)} }`,
    `          subscribe: { allow: ${list(permissions.subscribe)} }`,
    '        }',
    '      }',
  ].join('\n');
}

/**
 * The users of the table as NATS config text, for pool `names` (user names {@link userOf}):
 * `passwordOf(role)` gives what follows `password:` (a quoted literal or a `$VARIABLE`). `extra`
 * adds users after the roles.
 */
export function usersConf(
  passwordOf: (role: string) => string,
  extra: { user: string; permissions: Permissions; comment: string }[] = [],
  names: PoolNames = DEFAULT_POOL_NAMES,
): string {
  const entries = roles.map((r) => userEntry(userOf(r, names), passwordOf(r), permissionsOf(r, names), ROLES[r].description));
  for (const e of extra) entries.push(userEntry(e.user, passwordOf(e.user), e.permissions, e.comment));
  return `    users: [\n${entries.join('\n')}\n    ]`;
}

/**
 * Environment variable holding the password of `user` in the shipped accounts.conf, e.g.
 * POOL_EPOCH_SAGA_PASSWORD; the `pool` user's keeps its older name POOL_SERVICE_PASSWORD.
 */
export function passwordVariable(user: string): string {
  return user === 'pool' ? 'POOL_SERVICE_PASSWORD' : `POOL_${user.toUpperCase().replace(/-/g, '_')}_PASSWORD`;
}

/** The text of infra/nats/accounts.conf: account POOL with every role plus the `pool` service user. */
export function accountsConf(): string {
  const vars = [...roles, 'pool'].map((u) => `#   ${passwordVariable(u)}`).join('\n');
  return [
    '# Users and permissions of the pool\'s NATS account (included by single.conf and the cluster configs).',
    '# GENERATED from infra/nats/roles.ts (`node --import tsx infra/nats/roles.ts`); do not edit by hand.',
    '# Passwords come from the environment; set them before starting the server:',
    vars,
    '# The pool connects as one user to a server it does not run (NATS_USER / NATS_PASSWORD): `pool`,',
    '# the union of the pool roles. Downstream services connect as `reader`.',
    'accounts {',
    '  POOL {',
    '    jetstream: enabled',
    usersConf((u) => `$${passwordVariable(u)}`, [{ user: 'pool', permissions: servicePermissions(), comment: 'the whole pool process as one user (NATS_USER=pool)' }]),
    '  }',
    '}',
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = fileURLToPath(new URL('./accounts.conf', import.meta.url));
  writeFileSync(file, accountsConf());
  process.stdout.write(`wrote ${file}\n`);
}
