#!/usr/bin/env node
// Runs ava with the TAP reporter in the current package, passes its output through, and writes the
// counts to .test-results.json so that scripts/test-summary.mjs can print the workspace's
// `N passed, N failed` line (ava's own summary is not in that form).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(join(process.cwd(), 'package.json'));
// ava exports only its entry points: its CLI sits beside the main one (bin: entrypoints/cli.mjs).
const avaCli = join(dirname(require.resolve('ava')), 'cli.mjs');
const child = spawn(process.execPath, [avaCli, '--tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});

const counts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
let pending = '';
const tally = (line) => {
  if (/^ok \d+/.test(line)) {
    if (/# SKIP/i.test(line)) counts.skipped++;
    else if (/# TODO/i.test(line)) counts.todo++;
    else counts.passed++;
  } else if (/^not ok \d+/.test(line)) {
    if (/# TODO/i.test(line)) counts.todo++;
    else counts.failed++;
  }
};
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString('utf8');
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) tally(line);
});
child.on('close', (code, signal) => {
  tally(pending);
  // A run that crashed before reporting anything must not read as "0 failed".
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  writeFileSync('.test-results.json', JSON.stringify({ ...counts, exitCode: code, signal }) + '\n');
  process.exitCode = code ?? 1;
});
