/**
 * Compiles every Tact project of contracts/tact.config.json with the pinned compiler
 * (@tact-lang/compiler, exact version in package.json) into contracts/build/<Project>/:
 * code BoC, ABI, FunC/Fift listings and the generated TypeScript wrapper
 * (`<Project>_<Contract>.ts`). Generated files are never edited by hand.
 *
 * Usage: `node --import tsx contracts/build.ts` (scripts/bootstrap.mjs runs it when a `.tact`
 * file, this script or tact.config.json changed). Exits 1 with the compiler's messages when a
 * project does not compile.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

const contractsDir = import.meta.dirname;
const require = createRequire(import.meta.url);
const compilerCli = join(dirname(require.resolve('@tact-lang/compiler/package.json')), 'bin', 'tact.js');

const configPath = join(contractsDir, 'tact.config.json');
const config = JSON.parse(readFileSync(configPath, 'utf8')) as { projects: { output: string }[] };
// stale wrappers of a renamed contract must not survive a rebuild
for (const project of config.projects) rmSync(join(contractsDir, project.output), { recursive: true, force: true });

const result = spawnSync(process.execPath, [compilerCli, '--config', configPath, '--quiet'], {
  cwd: contractsDir,
  encoding: 'utf8',
});
if (result.error) {
  process.stderr.write(`contracts/build.ts: could not start the Tact compiler: ${result.error.message}\n`);
  process.exit(1);
}
if (result.status !== 0) {
  process.stderr.write(`contracts/build.ts: Tact compilation failed (exit ${result.status})\n${result.stdout}${result.stderr}`);
  process.exit(1);
}
process.stderr.write('contracts/build.ts: contracts compiled into contracts/build/\n');
