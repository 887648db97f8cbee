#!/usr/bin/env node
// The house's checks, run by the README's test command before the test suites: lint (ESLint, zero
// warnings), the format check (Prettier) and the line width it cannot enforce (comments, strings),
// the API reference (TypeDoc, warnings as errors), the dead-code check (knip) and the package
// checks (publint and attw on every packed tarball). Each is
// one result in the `N passed, N failed` line (a check is a test that the whole workspace passes),
// written to .checks-results.json beside the packages' .test-results.json for scripts/test-summary.mjs.
// Run after a build (TypeDoc and the package checks read the compiled packages).
//
//   node scripts/checks.mjs            run every check
//   node scripts/checks.mjs lint knip  run some
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

/** name -> the command line, run from the workspace root. */
const CHECKS = {
  lint: [bin('eslint'), '.', '--max-warnings', '0'],
  'format:check': [bin('prettier'), '--check', '.', '--log-level', 'warn'],
  'line-width': [process.execPath, join(root, 'scripts', 'line-width.mjs')],
  docs: [bin('typedoc'), '--logLevel', 'Warn'],
  knip: [bin('knip'), '--no-progress'],
  'check:packages': [process.execPath, join(root, 'scripts', 'check-packages.mjs'), '--no-build'],
};

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in CHECKS));
if (unknown.length > 0) {
  console.error(`checks: unknown check ${unknown.join(', ')} (checks: ${Object.keys(CHECKS).join(', ')})`);
  process.exit(2);
}
const names = asked.length > 0 ? asked : Object.keys(CHECKS);

let passed = 0;
let failed = 0;
for (const name of names) {
  const [command, ...args] = CHECKS[name];
  const started = performance.now();
  const run = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const ok = run.status === 0;
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok' : 'not ok'} - check ${name} (${seconds} s)${run.error ? `: ${run.error.message}` : ''}`);
}
writeFileSync(join(root, '.checks-results.json'), JSON.stringify({ passed, failed, skipped: 0 }) + '\n');
console.log(`checks: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
