#!/usr/bin/env node
// Sums the per-package .test-results.json files written by scripts/ava-tap.mjs and prints the plain
// line `N passed, N failed` that CI reads. `--clean` removes stale results before a run. A package
// with a test script but no results counts as one failure, so a build error cannot pass silently.
import { readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(root, 'packages');
const packages = readdirSync(packagesDir).filter((d) => existsSync(join(packagesDir, d, 'package.json')));

// The house's checks (scripts/checks.mjs: lint, format, API reference, dead code, package checks).
const checksFile = join(root, '.checks-results.json');

if (process.argv.includes('--clean')) {
  for (const pkg of packages) rmSync(join(packagesDir, pkg, '.test-results.json'), { force: true });
  rmSync(checksFile, { force: true });
  process.exit(0);
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const pkg of packages) {
  const manifest = JSON.parse(readFileSync(join(packagesDir, pkg, 'package.json'), 'utf8'));
  if (!manifest.scripts?.test) continue;
  const file = join(packagesDir, pkg, '.test-results.json');
  if (!existsSync(file)) {
    console.error(`test-summary: ${pkg} produced no test results (build or runner failure)`);
    failed++;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
}
if (process.argv.includes('--with-checks')) {
  if (existsSync(checksFile)) {
    const r = JSON.parse(readFileSync(checksFile, 'utf8'));
    passed += r.passed;
    failed += r.failed;
  } else {
    console.error('test-summary: the checks (scripts/checks.mjs) produced no results');
    failed++;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
