/**
 * `ringbuf load` with user code that misbehaves: the run always ends, within a bound, and always
 * reports. One test per failure mode (issue 20, section 4): a producer module whose write() never
 * returns (blocked, or a busy loop; at the end of the run and after SIGTERM), one whose write()
 * always throws, an async handler and one that returns promises, a handler close() that never
 * settles or returns something that cannot be cloned, modules that fail to import or init(), and
 * --out paths that cannot be written. Every run is short (a small rate, a second or so, a small
 * drain timeout) and prints its seed (t.log); replay with RINGBUF_TEST_SEED.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { handlerLoad, parseOneJson, runCli, runSeeded, startCli, testSeed } from './cli-run.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));
/** A module's path as the CLI names it: relative to the working directory (the tests run in the package). */
const shown = (file: string): string => relative(process.cwd(), file);
const STUCK = fixture('stuck-producer');
const THROWING_PRODUCER = fixture('throwing-producer');
const INIT_FAILING = fixture('init-failing');
const IMPORT_FAILING = fixture('import-failing');
const ASYNC_HANDLER = fixture('async-handler');
const PROMISE_HANDLER = fixture('promise-handler');
const CLOSE_HANGING = fixture('close-hanging-handler');
const CLOSE_UNCLONEABLE = fixture('close-uncloneable-handler');
const HANGING = fixture('hanging-handler');
const DROPPING = fixture('dropping-handler');

interface LoadJson {
  records: { attempted: number; committed: number; abandoned: number; consumed: number };
  lost: number;
  crashed: number;
  recovered: number;
  stuckProducers: string[];
  handler: {
    errors: number;
    firstError: { name: string; message: string } | null;
    close: unknown;
    closeError: string | null;
    closeNote: string | null;
  } | null;
  producer: { crashed: number; firstCrash: string | null } | null;
  thresholds: Array<{ expr: string; ok: boolean }>;
  failures: string[];
  ok: boolean;
}

function parseOne(stdout: string): LoadJson {
  return parseOneJson(stdout) as LoadJson;
}

for (const how of ['wait', 'spin'] as const) {
  test.serial(
    `watchdog: a producer whose write() never returns (${how === 'wait' ? 'Atomics.wait' : 'a busy loop'}) ` +
      `is terminated after the run's end; the report names it and its seq, exit 1`,
    async (t) => {
      const started = Date.now();
      const { code, stdout, stderr } = await runSeeded(
        t,
        [
          'load',
          '--producers',
          '3',
          '--producer',
          STUCK,
          '--producer-options',
          JSON.stringify({ slot: 1, at: 50, how }),
          '--rate',
          '200',
          '--duration',
          '1',
          '--drain-timeout',
          '0.5',
          '--quiet',
          '--json',
        ],
        20_000,
      );
      const tookMs = Date.now() - started;
      t.is(code, 1, stderr);
      // duration 1 s + patience 0.5 s + start-up and drain: well inside duration + drain + a few seconds.
      t.true(tookMs < 1000 + 500 + 4000, `bounded: took ${tookMs} ms`);
      const r = parseOne(stdout);
      t.is(r.stuckProducers.length, 1, r.stuckProducers.join('; '));
      t.regex(
        r.stuckProducers[0] ?? '',
        new RegExp(
          '^producer \\d+ \\(slot 1\\) stuck on record seq 50 \\(in hand, not committed\\)' +
            ': no progress for \\d+ ms after the end of its run$',
        ),
      );
      // Its reservation was discarded by recovery and counted abandoned; nothing committed was lost.
      t.is(r.records.abandoned, 1);
      t.is(r.lost, 0);
      t.is(r.records.consumed, r.records.committed);
      t.is(r.crashed, 0);
      t.is(r.recovered, 1);
      t.true(
        r.failures.some((f) => f.startsWith('the watchdog terminated producer')),
        r.failures.join('; '),
      );
    },
  );
}

test.serial(
  'SIGTERM ends a --records run whose producer is stuck in write(): bounded, the report printed, exit 1',
  async (t) => {
    const seed = testSeed();
    t.log(`seed ${seed}`);
    const cli = startCli([
      'load',
      '--producers',
      '2',
      '--producer',
      STUCK,
      '--producer-options',
      JSON.stringify({ slot: 0, at: 10 }),
      '--records',
      '1000000',
      '--rate',
      '200',
      '--drain-timeout',
      '0.5',
      '--seed',
      String(seed),
    ]);
    t.teardown(() => void cli.child.kill('SIGKILL'));
    // The first progress line: the run is under way (slot 0 got stuck at its 11th record, 50 ms in).
    await cli.waitForStderr(/^load\s+1s/, 15_000);
    const signalled = Date.now();
    cli.child.kill('SIGTERM');
    const { code, stdout, stderr } = await cli.done;
    const tookMs = Date.now() - signalled;
    t.is(code, 1, stderr);
    t.true(tookMs < 500 + 4000, `bounded after the signal: took ${tookMs} ms`);
    t.regex(stderr, /SIGTERM: stopping the producers/);
    t.regex(
      stdout,
      new RegExp(
        '^ {2}- the watchdog terminated producer \\d+ \\(slot 0\\) ' +
          'stuck on record seq 10 \\(in hand, not committed\\): no progress for \\d+ ms after the stop request; ' +
          'its reservation was discarded by recovery \\(abandoned\\)$',
        'm',
      ),
    );
    t.regex(stdout, /^abandoned \(killed in hand\)\s+1$/m);
    t.regex(stdout, /^lost\s+0$/m);
  },
);

test.serial(
  'a producer module whose write() always throws: its slots are given up after 3 deaths, ' +
    'the error reported once with its seq, exit 1',
  async (t) => {
    const { code, stdout, stderr } = await runSeeded(
      t,
      [
        'load',
        '--producers',
        '2',
        '--producer',
        THROWING_PRODUCER,
        '--rate',
        '1000',
        '--duration',
        '1',
        '--quiet',
        '--json',
      ],
      20_000,
    );
    t.is(code, 1, stderr);
    const r = parseOne(stdout);
    // Not thousands of crash-and-replace cycles: three deaths per slot, then the slot is given up.
    t.is(r.crashed, 6);
    t.is(r.recovered, 6);
    t.regex(r.producer?.firstCrash ?? '', /^producer \d+ \(slot \d\), on record seq 0: cannot encode record 0$/);
    t.true(
      r.failures.some((f) =>
        new RegExp(
          '^6 producers died on their own \\(the producer module threw\\?\\); ' +
            'first: producer \\d+ \\(slot \\d\\), on record seq 0: cannot encode record 0$',
        ).test(f),
      ),
      r.failures.join('; '),
    );
    // The error is logged once by the pool (and once in the CLI's failure summary), not once per death.
    const logLines = stderr.split('\n').filter((l) => l.includes('cannot encode record'));
    t.true(logLines.length <= 2, `${logLines.length} log lines:\n${stderr.slice(0, 2000)}`);
    t.is(r.records.attempted, r.records.committed + r.records.abandoned);
  },
);

test.serial('an async handle() is refused at start: one line naming --handler, the file and why, exit 2', async (t) => {
  const { code, stdout, stderr } = await runCli([...handlerLoad(ASYNC_HANDLER, '100', '0.5'), '--quiet'], 20_000);
  t.is(code, 2, stderr);
  t.is(stdout, '');
  t.deepEqual(stderr.trimEnd().split('\n'), [
    `ringbuf load: --handler ${shown(ASYNC_HANDLER)}: handle is an async function: ` +
      `the consumer calls it synchronously for each record and cannot await it (its errors would be lost); ` +
      `make it synchronous`,
  ]);
});

test.serial(
  'a handle() that returns promises: every call counted as an error, errors==0 fails, exit 1 with the report',
  async (t) => {
    const { code, stdout, stderr } = await runSeeded(
      t,
      [...handlerLoad(PROMISE_HANDLER, '300', '0.5'), '--threshold', 'errors==0', '--quiet', '--json'],
      20_000,
    );
    t.is(code, 1, stderr);
    const r = parseOne(stdout);
    t.true(r.records.consumed > 0);
    t.is(r.handler?.errors, r.records.consumed);
    t.is(r.handler?.firstError?.name, 'TypeError');
    t.regex(r.handler?.firstError?.message ?? '', /^handle\(\) returned a promise/);
    t.deepEqual(r.handler?.close, { seen: r.records.consumed });
    t.deepEqual(
      r.thresholds.map((x) => [x.expr, x.ok]),
      [['errors==0', false]],
    );
    t.is(r.lost, 0);
  },
);

test.serial(
  'a handler that drops rejected promises: each rejection counted as an error and the first named, ' +
    'the report kept, exit 1',
  async (t) => {
    const { code, stdout, stderr } = await runSeeded(
      t,
      [...handlerLoad(DROPPING, '300', '0.5'), '--threshold', 'errors==0', '--quiet', '--json'],
      20_000,
    );
    t.is(code, 1, stderr);
    const r = parseOne(stdout) as LoadJson & {
      handler: { unhandledRejections: { count: number; first: string } | null };
    };
    const dropped = Math.floor(r.records.consumed / 10);
    t.true(dropped > 0);
    t.deepEqual(r.handler.unhandledRejections, { count: dropped, first: 'Error: dropped 10' });
    t.is(r.handler.errors, dropped);
    t.deepEqual(r.handler.close, { seen: r.records.consumed });
    t.deepEqual(
      r.thresholds.map((x) => [x.expr, x.ok]),
      [['errors==0', false]],
    );
    t.true(
      r.failures.includes(`the handler left ${dropped} promise rejections unhandled (first: Error: dropped 10)`),
      r.failures.join('; '),
    );
  },
);

test.serial(
  'a handler close() that never settles: bounded by the drain timeout, the report printed with the failure, exit 1',
  async (t) => {
    const started = Date.now();
    const { code, stdout, stderr } = await runSeeded(
      t,
      [...handlerLoad(CLOSE_HANGING, '200', '0.5'), '--drain-timeout', '0.5', '--quiet', '--json'],
      20_000,
    );
    const tookMs = Date.now() - started;
    t.is(code, 1, stderr);
    t.true(tookMs < 500 + 2 * 500 + 4000, `bounded: took ${tookMs} ms`);
    const r = parseOne(stdout);
    t.is(r.handler?.closeError, 'close() did not settle within 500 ms (the drain timeout)');
    t.is(r.records.consumed, r.records.committed);
    t.true(
      r.failures.includes("the handler's close() failed: close() did not settle within 500 ms (the drain timeout)"),
      r.failures.join('; '),
    );
  },
);

test.serial(
  'a handler close() whose result cannot be cloned: replaced by a note, the report printed, exit 0',
  async (t) => {
    const { code, stdout, stderr } = await runSeeded(
      t,
      [...handlerLoad(CLOSE_UNCLONEABLE, '200', '0.5'), '--quiet', '--json'],
      20_000,
    );
    t.is(code, 0, stderr);
    const r = parseOne(stdout);
    t.true(r.ok, r.failures.join('; '));
    t.is(r.handler?.close, null);
    t.regex(
      r.handler?.closeNote ?? '',
      /^close\(\) returned a value that cannot be structured-cloned, not shown \(DataCloneError: /,
    );
  },
);

const START_FAILURES: ReadonlyArray<readonly [string, string, string]> = [
  ['--handler', INIT_FAILING, 'init() threw Error: no config'],
  ['--handler', IMPORT_FAILING, 'import failed: Error: cannot load this module'],
  ['--producer', INIT_FAILING, 'init() threw Error: no config'],
  ['--producer', IMPORT_FAILING, 'import failed: Error: cannot load this module'],
];
for (const [option, file, reason] of START_FAILURES) {
  test.serial(
    `a ${option} module that fails (${reason.split(':')[0]}): ` +
      `one line naming ${option}, the file and the error, exit 2`,
    async (t) => {
      const { code, stdout, stderr } = await runCli(
        ['load', option, file, '--rate', '100', '--duration', '1', '--quiet'],
        20_000,
      );
      t.is(code, 2, stderr);
      t.is(stdout, '');
      t.deepEqual(stderr.trimEnd().split('\n'), [`ringbuf load: ${option} ${shown(file)}: ${reason}`]);
    },
  );
}

test.serial(
  '--out that cannot be a directory (a file, /dev/null/x) is refused before the run: one line, exit 2',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ringbuf-out-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    for (const [out, why] of [
      [file, `cannot be a directory: ${file} is not a directory`],
      ['/dev/null/x', 'cannot be a directory: /dev/null is not a directory'],
      [join(file, 'sub'), `cannot be a directory: ${file} is not a directory`],
    ] as const) {
      const started = Date.now();
      const { code, stdout, stderr } = await runCli(['load', '--out', out, '--duration', '5', '--quiet'], 20_000);
      t.is(code, 2, stderr);
      t.is(stdout, '');
      t.deepEqual(stderr.trimEnd().split('\n'), [`ringbuf load: --out: '${out}' ${why} (see ringbuf load --help)`]);
      t.true(Date.now() - started < 4000, 'refused before the 5 s run');
    }
  },
);

test.serial(
  '--out that fails at the end (its parent replaced by a file during the run): ' +
    'the report printed anyway, the failure named, exit 1',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ringbuf-out-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const parent = join(dir, 'parent');
    const cli = startCli(['load', '--out', join(parent, 'sub'), '--rate', '200', '--duration', '1.5']);
    t.teardown(() => void cli.child.kill('SIGKILL'));
    await cli.waitForStderr(/^load\s+1s/, 15_000);
    // Checked before the run (parent did not exist: its ancestor was writable); now it is a file.
    writeFileSync(parent, 'not a directory');
    const { code, stdout, stderr } = await cli.done;
    t.is(code, 1, stderr);
    t.regex(stdout, /^OK: |^FAILED:/m);
    t.regex(
      stdout,
      new RegExp(
        `^ {2}- the --out files were not written: ` +
          `${join(parent, 'sub').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ENOTDIR`,
        'm',
      ),
    );
    t.regex(stdout, /^lost\s+0$/m);
  },
);

test.serial(
  'a handler blocked for good: progress and report say the consumer stalled (no heartbeat), ' +
    'the run ends with the report, exit 1',
  async (t) => {
    const started = Date.now();
    const { code, stdout, stderr, seed } = await runSeeded(
      t,
      [
        'load',
        // One producer: each record reaches the consumer in a pass of its own. The runtime publishes its
        // counters once per pass, so a pass cut by the blocking record holding two records (two
        // producers in step) would report one delivered record fewer than were delivered.
        '--producers',
        '1',
        '--handler',
        HANGING,
        '--handler-options',
        '{"after":50}',
        '--rate',
        '500',
        '--duration',
        '1.5',
        '--drain-timeout',
        '0.5',
        '--stall-after',
        '0.3',
      ],
      30_000,
    );
    const tookMs = Date.now() - started;
    t.is(code, 1, stderr);
    // duration + drain timeout + the stop grace (1 s) + the close() allowance (the drain timeout) + start-up.
    t.true(tookMs < 1500 + 500 + 1000 + 500 + 4000, `bounded: took ${tookMs} ms`);
    t.regex(stderr, /^load\s+1s .*consumer stalled: no heartbeat for \d+ ms/m);
    t.regex(stdout, /^consumer heartbeat\s+consumer stalled: no heartbeat for \d+ ms \(from \d+\.\d s, .+ unread\)$/m);
    t.regex(
      stdout,
      new RegExp(
        '^ {2}- the consumer did not stop within the drain deadline and was terminated ' +
          '\\(a handler that never returns\\?\\) \\(consumer stalled: no heartbeat for \\d+ ms\\); ' +
          '49 records had been delivered$',
        'm',
      ),
    );
    const json = await runCli(
      [
        'load',
        // One producer: each record reaches the consumer in a pass of its own. The runtime publishes its
        // counters once per pass, so a pass cut by the blocking record holding two records (two
        // producers in step) would report one delivered record fewer than were delivered.
        '--producers',
        '1',
        '--handler',
        HANGING,
        '--handler-options',
        '{"after":50}',
        '--rate',
        '500',
        '--duration',
        '1',
        '--drain-timeout',
        '0.5',
        '--stall-after',
        '0.3',
        '--seed',
        String(seed),
        '--quiet',
        '--json',
      ],
      30_000,
    );
    t.is(json.code, 1, json.stderr);
    const stall = (
      JSON.parse(json.stdout) as {
        consumerStall: { maxAgeMs: number; thresholdMs: number; backlogBytes: number } | null;
      }
    ).consumerStall;
    t.not(stall, null);
    t.is(stall?.thresholdMs, 300);
    t.true((stall?.maxAgeMs ?? 0) > 300 && (stall?.backlogBytes ?? 0) > 0, JSON.stringify(stall));
  },
);
