#!/usr/bin/env node
// Checks every publishable package as it would ship: packs them all with scripts/pack-all.mjs (pnpm's
// pack, which rewrites `workspace:` and `catalog:` ranges), then runs publint and
// @arethetypeswrong/cli (attw) on each tarball. Exits 1 on any error from either tool.
//
//   node scripts/check-packages.mjs [--no-build] [--json]
//
// --no-build  skip the build (the caller built already)
// --json      print one JSON object { packages: [{ name, tarball, publint: [...], attw: {...} }] }
//
// Accepted, on purpose:
// - ESM only. Every package is `"type": "module"` with `exports` conditions `types` + `default` and no
//   `require` build; Node 20.19+ can require() ESM, and a CJS build would double the surface for no user.
//   attw runs with `--profile esm-only`, which leaves out the CommonJS resolution modes (node10 and
//   node16-cjs) where an ESM-only package cannot resolve by design.
// - A package with no `exports`, `main` or `types` (the CLI: a `bin` only) has no types to resolve;
//   attw is not run on it (it would report the package root unresolvable in every mode).
// - publint's suggestions are printed but do not fail the check; its warnings and errors do (`strict`).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

let args;
try {
  args = parseArgs({
    options: { 'no-build': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  }).values;
} catch (err) {
  console.error(`check-packages: ${err.message}`);
  process.exit(2);
}
if (args.help) {
  console.log('usage: node scripts/check-packages.mjs [--no-build] [--json]');
  process.exit(0);
}

/** The resolution modes `--profile esm-only` leaves out: attw's JSON lists their problems anyway. */
const IGNORED_RESOLUTIONS = new Set(['node10', 'node16-cjs']);

const log = (line) => process.stderr.write(`check-packages: ${line}\n`);

/** attw's command-line entry, from its package.json `bin` (the package has no programmatic CLI API). */
function attwBin() {
  const manifestPath = require.resolve('@arethetypeswrong/cli/package.json');
  const { bin } = JSON.parse(readFileSync(manifestPath, 'utf8'));
  return join(dirname(manifestPath), typeof bin === 'string' ? bin : bin.attw);
}

const out = mkdtempSync(join(tmpdir(), 'ringbuf-check-packages-'));
try {
  const packArgs = [join(root, 'scripts', 'pack-all.mjs'), '--out', out, '--json'];
  if (args['no-build']) packArgs.push('--no-build');
  const packed = JSON.parse(
    execFileSync(process.execPath, packArgs, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
  );

  const attw = attwBin();
  const results = [];
  let failures = 0;
  for (const p of packed.packages) {
    const tarball = readFileSync(p.tarball);
    const manifest = JSON.parse(readFileSync(join(root, p.dir, 'package.json'), 'utf8'));
    const lint = await publint({
      pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) },
      level: 'suggestion',
      strict: true,
    });
    const publintMessages = lint.messages.map((m) => ({
      type: m.type,
      code: m.code,
      message: formatMessage(m, manifest, { color: false }) ?? m.code,
    }));
    const publintErrors = publintMessages.filter((m) => m.type !== 'suggestion').length;

    const hasTypes = manifest.exports !== undefined || manifest.main !== undefined || manifest.types !== undefined;
    let attwReport = { skipped: 'no exports, main or types: a bin-only package' };
    let status = 0;
    if (hasTypes) {
      const run = spawnSync(process.execPath, [attw, p.tarball, '--profile', 'esm-only', '--format', 'json'], {
        encoding: 'utf8',
      });
      status = run.status;
      try {
        attwReport = JSON.parse(run.stdout);
      } catch {
        attwReport = { error: (run.stderr || run.stdout).trim() };
      }
    }
    const all = Array.isArray(attwReport.analysis?.problems) ? attwReport.analysis.problems : [];
    const problems = all.filter((pr) => !IGNORED_RESOLUTIONS.has(pr.resolutionKind));
    const attwFailed = status !== 0 || attwReport.error !== undefined || problems.length > 0;

    if (publintErrors > 0 || attwFailed) failures++;
    results.push({
      name: p.name,
      tarball: p.tarball,
      publint: publintMessages,
      attw: {
        status,
        problems,
        ignored: all.length - problems.length,
        ...(attwReport.error !== undefined ? { error: attwReport.error } : {}),
        ...(attwReport.skipped !== undefined ? { skipped: attwReport.skipped } : {}),
      },
    });
    const verdict = publintErrors > 0 || attwFailed ? 'FAIL' : 'ok';
    const attwSummary = hasTypes
      ? `attw ${problems.length} problem(s) (${all.length - problems.length} in CJS modes, accepted)`
      : 'attw skipped (bin only)';
    log(`${verdict} ${p.name}: publint ${publintMessages.length} message(s), ${attwSummary}`);
    for (const m of publintMessages) log(`  publint ${m.type}: ${m.message}`);
    for (const pr of problems) log(`  attw ${pr.kind}: ${pr.entrypoint ?? ''} ${pr.resolutionKind ?? ''}`.trimEnd());
    if (attwReport.error !== undefined) log(`  attw: ${attwReport.error}`);
  }
  if (args.json) console.log(JSON.stringify({ packages: results }));
  else console.log(`${results.length} packages checked, ${failures} failed`);
  if (failures > 0) process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
