/**
 * A process owning an embedded PostgreSQL server, for tests/db/embedded.test.ts to SIGKILL:
 * `node --import tsx tests/db/holder.ts <clusterDir> <value>` opens the server, migrates, commits
 * `<value>` into the table `held`, prints `{"serverPid":N}` and waits to be killed.
 */
import { sql } from 'kysely';
import { openDatabase } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';

const [dir, value] = process.argv.slice(2);
const opened = await openDatabase({ embeddedDir: dir!, maxConnections: 2 });
await migrateToLatest(opened.db);
await sql`create table if not exists held (value text not null)`.execute(opened.db);
await sql`insert into held (value) values (${value!})`.execute(opened.db);
process.stdout.write(`${JSON.stringify({ serverPid: opened.serverPid })}\n`);
setInterval(() => undefined, 60_000);
