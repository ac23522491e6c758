/**
 * Credentials of the embedded nats-server (`npm start`): one random password per role of
 * infra/nats/roles.ts, generated at the first start into `<dir>/credentials.json` (mode 0600) and
 * reused afterwards, and the server config file (`<dir>/auth.conf`, mode 0600) the child is
 * started with (`-c`). Passwords are never logged; downstream services read the `reader` one
 * from credentials.json.
 *
 * credentials.json: `{"users": {"<role>": "<password>", …}}` (48 hex characters each).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_POOL_NAMES, type PoolNames } from '../../streams/names.ts';
import { roles, userOf, usersConf, type Role } from './roles.ts';

/** Thrown when credentials.json exists but cannot be used. */
export class NatsCredentialsError extends Error {
  override name = 'NatsCredentialsError';
}

/** A user name and password per role. */
export type RoleCredentials = Record<Role, { user: string; pass: string }>;

function writePrivate(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync's mode applies only when it creates the file
}

/**
 * Loads `<dir>/credentials.json`, adding a password for every role it lacks (all of them at the
 * first start) and rewriting it then. User names are pool `names`' ({@link userOf}).
 * @throws NatsCredentialsError when the file is not `{"users": {role: string}}` (it says what to do).
 */
export function loadOrCreateCredentials(dir: string, names: PoolNames = DEFAULT_POOL_NAMES): RoleCredentials {
  const file = join(dir, 'credentials.json');
  let users: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { users?: unknown };
      if (typeof parsed.users !== 'object' || parsed.users === null) throw new Error('no "users" object');
      users = parsed.users as Record<string, unknown>;
      for (const [k, v] of Object.entries(users)) if (typeof v !== 'string' || v.length < 16) throw new Error(`user ${k}: not a password string`);
    } catch (err) {
      throw new NatsCredentialsError(
        `${file} is unreadable (${(err as Error).message}); delete it to generate new NATS passwords at the next start (downstream readers then need the new one)`,
      );
    }
  }
  let added = false;
  for (const role of roles) {
    if (typeof users[role] !== 'string') {
      users[role] = randomBytes(24).toString('hex');
      added = true;
    }
  }
  if (added || (statSync(file).mode & 0o077) !== 0) writePrivate(file, `${JSON.stringify({ users }, null, 2)}\n`);
  return Object.fromEntries(roles.map((r) => [r, { user: userOf(r, names), pass: users[r] as string }])) as RoleCredentials;
}

/**
 * Writes `<dir>/auth.conf`: the users of every role with their passwords and permissions, at the
 * top level (the global account, where the pool's streams have always been stored, so an existing
 * store keeps its streams). Rewritten at every start, so a change of roles.ts applies at the next.
 * @returns the file's path, for `nats-server -c`.
 */
export function writeServerAuthConfig(dir: string, credentials: RoleCredentials, names: PoolNames = DEFAULT_POOL_NAMES): string {
  const file = join(dir, 'auth.conf');
  const text = [
    '# Written by the pool at every start from infra/nats/roles.ts and credentials.json. Holds passwords.',
    'authorization {',
    usersConf((role) => JSON.stringify(credentials[role as Role].pass), [], names),
    '}',
    '',
  ].join('\n');
  writePrivate(file, text);
  return file;
}
