/**
 * `ringbuf bench` through the built CLI with one small group: the progress lines (step k of n with an
 * ETA, never wider than 80 columns), the Ctrl-C convention (the first stops after the step in
 * progress and prints and writes the partial report, marked interrupted; a second exits 130), and
 * the quick run's goals labelled not meaningful. Only `--quick`-sized runs of one group.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, startCli } from './cli-run.js';
import { codePoints } from '../src/run/progress.js';

interface BenchJson {
  interrupted: boolean;
  notRun: string[];
  scenarios: Array<{ name: string; error?: string }>;
  options: { quick: boolean };
}

function outDir(t: { teardown(f: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ringbuf-cli-bench-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The five back-to-back batch-count scenarios of the `batch` group. */
const BATCH = ['rb-b2b-batch-1', 'rb-b2b-batch-10', 'rb-b2b-batch-50', 'rb-b2b-batch-500', 'rb-b2b-batch-2000'];

test.serial('bench --quick: progress "k/n" with an ETA within 80 columns, goals labelled not meaningful', async (t) => {
  const out = outDir(t);
  const { code, stdout, stderr } = await runCli(['bench', '--quick', '--scenario', 'batch', '--out', out], 100_000);
  t.is(code, 0, stderr);
  const progress = stderr.split('\n').filter((l) => l.startsWith('bench '));
  t.deepEqual(
    progress.map((l) =>
      /^bench (\d+)\/(\d+) {2}(\S+) {2}elapsed \d+:\d\d {2}ETA \d+:\d\d$/.exec(l)?.slice(1, 4).join(' '),
    ),
    BATCH.map((name, i) => `${i + 1} 5 ${name}`),
  );
  for (const l of stderr.split('\n')) t.true(codePoints(l).length < 80, `stderr line wider than 79 columns: ${l}`);
  t.regex(stdout, /\(quick: numbers not meaningful\)/);
  t.notRegex(stdout, /INTERRUPTED/);
  const md = readFileSync(path.join(out, 'report.md'), 'utf8');
  t.regex(md, /goals are not meaningful/);
});

test.serial(
  'Ctrl-C during a bench stops after the step in progress and prints and writes the partial report',
  async (t) => {
    const out = outDir(t);
    // Windows of 1.5 s: the signal surely lands while the first scenario runs.
    const cli = startCli([
      'bench',
      '--quick',
      '--scenario',
      'batch',
      '--windows',
      '1',
      '--window-ms',
      '1500',
      '--json',
      '--out',
      out,
    ]);
    t.teardown(() => cli.child.kill('SIGKILL'));
    await cli.waitForStderr(/^bench 1\/5 /, 60_000);
    cli.child.kill('SIGINT');
    const { code, stdout, stderr } = await cli.done;
    t.is(code, 0, stderr);
    t.regex(stderr, /^ringbuf: SIGINT: stopping after the step in progress, then writing the partial report/m);
    t.regex(stderr, /^ringbuf bench: interrupted; partial report in /m);
    const lines = stdout.trim().split('\n');
    t.is(lines.length, 1, 'exactly one JSON object on stdout');
    const r = JSON.parse(lines[0] ?? '') as BenchJson;
    t.true(r.interrupted);
    t.deepEqual(
      r.scenarios.map((s) => s.name),
      BATCH.slice(0, 1),
    );
    t.deepEqual(r.notRun, BATCH.slice(1));
    t.is(r.scenarios[0]?.error, undefined);
    const written = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as BenchJson;
    t.true(written.interrupted);
    t.regex(readFileSync(path.join(out, 'report.md'), 'utf8'), /\*\*Interrupted\*\*/);
  },
);

test.serial('a second Ctrl-C during a bench exits at once with status 130 and says what was not run', async (t) => {
  const out = outDir(t);
  const cli = startCli([
    'bench',
    '--quick',
    '--scenario',
    'batch',
    '--windows',
    '1',
    '--window-ms',
    '5000',
    '--json',
    '--out',
    out,
  ]);
  t.teardown(() => cli.child.kill('SIGKILL'));
  await cli.waitForStderr(/^bench 1\/5 /, 60_000);
  cli.child.kill('SIGINT');
  await cli.waitForStderr(/SIGINT: stopping after the step in progress/);
  cli.child.kill('SIGINT');
  const { code, stdout, stderr } = await cli.done;
  t.is(code, 130, stderr);
  t.is(stdout, '', 'no report after the second signal');
  t.regex(
    stderr,
    new RegExp(
      'SIGINT again: exiting without draining; not drained: ' +
        'the report \\(step 1 of 5, rb-b2b-batch-1, was running; 4 more not run\\)',
    ),
  );
});

const bad: Array<[string[], RegExp]> = [
  [['bench', '--scenario', 'warp'], /--scenario: 'warp' is not one of parallel, peers, user-ring, b2b, .*micro/],
  [['bench', '--out', ' '], /--out needs a directory path/],
];
for (const [args, pattern] of bad) {
  test(`\`ringbuf ${args.join(' ')}\` exits 2 with one line`, async (t) => {
    const { code, stdout, stderr } = await runCli(args, 30_000);
    t.is(code, 2);
    t.is(stdout, '');
    t.is(stderr.trimEnd().split('\n').length, 1, stderr);
    t.regex(stderr, pattern);
  });
}
