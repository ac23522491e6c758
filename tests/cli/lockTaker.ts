/**
 * Child process of tests/cli/lock.test.ts: takes the lock of the data dir given as argv[2] and
 * prints one JSON line: `{"won":true,"pid":…}` (then holds the lock until killed or stdin ends) or
 * `{"won":false,"name":…,"holderPid":…,"message":…}` (then exits 0). Anything else is a crash.
 */
import { DataDirLockedError, lockDataDir } from '../../cli/lock.ts';

const dir = process.argv[2]!;
try {
  await lockDataDir(dir);
  process.stdout.write(`${JSON.stringify({ won: true, pid: process.pid })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  setInterval(() => undefined, 60_000);
} catch (err) {
  if (!(err instanceof DataDirLockedError)) throw err;
  process.stdout.write(`${JSON.stringify({ won: false, name: err.name, holderPid: err.holderPid, message: err.message })}\n`);
}
