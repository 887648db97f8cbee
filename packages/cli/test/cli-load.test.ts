/**
 * `ringbuf load` end to end: the built CLI spawned with small parameters, its JSON parsed and
 * checked (nothing lost, duplicated or reordered; killed == recovered), exit statuses, the Ctrl-C
 * drain and the second Ctrl-C. Each run prints its seed (t.log); replay with RINGBUF_TEST_SEED.
 */
import test from 'ava';
import { INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';
import { HOLD_ENV } from '../src/run/engine.js';
import { badOptionTests, parseOneJson, runCli, runSeeded, startCli, testSeed } from './cli-run.js';

interface LoadJson {
  producers: number;
  durationSec: number;
  records: {
    attempted: number;
    committed: number;
    discarded: number;
    dropped: number;
    abandoned: number;
    consumed: number;
  };
  lost: number;
  duplicates: number;
  orderViolations: number;
  overwritten: number;
  throughput: { recordsPerSec: number; bytesPerSec: number };
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number };
  killed: number;
  recovered: number;
  interrupted: boolean;
  drain: { reason: string; leftBehind: number };
  seed: number;
  ok: boolean;
}

function parseOne(stdout: string): LoadJson {
  return parseOneJson(stdout) as LoadJson;
}

test.serial('a closed-loop run with a record count delivers every committed record once, in order', async (t) => {
  const { code, stdout, stderr, seed } = await runSeeded(t, [
    'load',
    '--producers',
    '2',
    '--records',
    '20000',
    '--size',
    `${INSTRUMENTED_HEADER_BYTES}-200`,
    '--ring-size',
    '64K',
    '--discard-ratio',
    '0.1',
    '--json',
  ]);
  t.is(code, 0, stderr);
  const r = parseOne(stdout);
  t.is(r.seed, seed);
  t.is(r.producers, 2);
  // Every record of the count was attempted, and accounted as exactly one of the outcomes.
  t.is(r.records.attempted, 40000);
  t.is(r.records.committed + r.records.discarded + r.records.dropped + r.records.abandoned, r.records.attempted);
  t.is(r.records.abandoned, 0, 'nothing abandoned without kills');
  t.true(r.records.discarded > 0, 'the discard ratio discards some');
  t.is(r.records.consumed, r.records.committed);
  t.is(r.lost, 0);
  t.is(r.duplicates, 0);
  t.is(r.orderViolations, 0);
  t.is(r.killed, 0);
  t.is(r.drain.reason, 'drained');
  t.true(r.latencyUs.p50 > 0 && r.latencyUs.p50 <= r.latencyUs.p99 && r.latencyUs.p99 <= r.latencyUs.max);
  t.true(r.throughput.recordsPerSec > 0);
  t.true(r.ok);
});

test.serial('output mode, open loop and FORCE wakeups: the table on stdout says OK', async (t) => {
  const { code, stdout, stderr } = await runSeeded(t, [
    'load',
    '--mode',
    'output',
    '--rate',
    '5000',
    '--duration',
    '0.5',
    '--wakeup',
    'force',
  ]);
  t.is(code, 0, stderr);
  t.regex(stdout, /^ringbuf load — producers 2, duration 0\.5 s/);
  t.regex(stdout, /^lost\s+0$/m);
  t.regex(stdout, /^open-loop rate\s+/m);
  t.notRegex(stdout, /queueing|closed-loop/);
  t.regex(stdout, /OK: every committed record was delivered once, in order\./);
  // Progress lines go to stderr, never to stdout.
  t.notRegex(stdout, /records\s+[\d.]+ [kM]?\/s\s+drops/);
});

test.serial('a closed-loop table labels its latency as queueing and says how to get open-loop figures', async (t) => {
  const { code, stdout, stderr } = await runSeeded(t, ['load', '--producers', '1', '--records', '5000']);
  t.is(code, 0, stderr);
  t.regex(stdout, /^latency p50 \/ p90 \(queueing\)\s+\S+ (µs|ms) \/ \S+ (µs|ms)$/m);
  t.regex(stdout, /^Latency is closed-loop: /m);
  t.regex(stdout, /--rate <records\/s per producer>/);
  t.notRegex(stdout, /\d us\b/);
});

test.serial(
  'fault injection: producers killed every 100 ms are all recovered and nothing committed is lost',
  async (t) => {
    const { code, stdout, stderr } = await runSeeded(t, [
      'load',
      '--kill-producer-every',
      '100',
      '--duration',
      '2',
      '--ring-size',
      '256K',
      '--json',
    ]);
    t.is(code, 0, stderr);
    const r = parseOne(stdout);
    t.true(r.killed > 0, 'some producers were killed');
    t.is(r.recovered, r.killed);
    // Exact accounting under kills: every attempted record is committed, discarded, dropped or abandoned.
    t.is(r.records.committed + r.records.discarded + r.records.dropped + r.records.abandoned, r.records.attempted);
    t.true(r.records.abandoned <= r.killed, 'at most one record abandoned per death');
    t.is(r.lost, 0);
    t.is(r.duplicates, 0);
    t.is(r.orderViolations, 0);
    t.true(r.records.consumed > 0);
    t.is(r.records.consumed, r.records.committed);
  },
);

test.serial('overwrite mode: overwritten records are reported apart and nothing else is lost', async (t) => {
  const { code, stdout, stderr } = await runSeeded(t, [
    'load',
    '--overwrite',
    '--ring-size',
    '4096',
    '--producers',
    '2',
    '--records',
    '20000',
    '--json',
  ]);
  t.is(code, 0, stderr);
  const r = parseOne(stdout);
  // (Reservations may still fail: a record is never overwritten while it is uncommitted.)
  t.true(r.overwritten > 0, 'a 4 KiB ring under two closed-loop producers overwrites');
  t.is(r.lost, 0);
  t.is(r.records.consumed + r.overwritten, r.records.committed);
});

test.serial('Ctrl-C stops the producers, drains the consumer and prints the final report with no loss', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const cli = startCli(['load', '--duration', '30', '--ring-size', '256K', '--seed', String(seed), '--json']);
  t.teardown(() => cli.child.kill('SIGKILL'));
  await cli.waitForStderr(/^load\s+\d+s\s+records/);
  cli.child.kill('SIGINT');
  const { code, stdout, stderr } = await cli.done;
  t.is(code, 0, stderr);
  t.regex(stderr, /SIGINT: stopping the producers and draining/);
  const r = parseOne(stdout);
  t.true(r.interrupted);
  t.true(r.durationSec < 29, 'stopped long before the duration');
  t.true(r.records.committed > 0);
  t.is(r.records.consumed, r.records.committed);
  t.is(r.lost, 0);
  t.is(r.drain.reason, 'drained');
});

test.serial('a second Ctrl-C exits at once with status 130 and says what was not drained', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const cli = startCli(['load', '--duration', '30', '--seed', String(seed), '--json'], { [HOLD_ENV]: '20000' });
  t.teardown(() => cli.child.kill('SIGKILL'));
  await cli.waitForStderr(/^load\s+\d+s\s+records/);
  cli.child.kill('SIGTERM');
  await cli.waitForStderr(/SIGTERM: stopping the producers/);
  cli.child.kill('SIGINT');
  const { code, stdout, stderr } = await cli.done;
  t.is(code, 130);
  t.is(stdout, '', 'no report after the second signal');
  t.regex(
    stderr,
    new RegExp(
      'SIGINT again: exiting without draining; not drained: \\d+ committed records \\(\\d+ still reserved\\), .*' +
        ' \\(AVAIL_DATA\\); \\d+ records had been delivered',
    ),
  );
});

const bad: Array<[string[], RegExp]> = [
  [['load', '--producers', '0'], /--producers: '0' is not an integer from 1 to 256/],
  [['load', '--duration', 'soon'], /--duration: 'soon' is not a number greater than 0/],
  [['load', '--records', '1.5'], /--records: '1.5' is not an integer/],
  [
    ['load', '--size', '10'],
    new RegExp(`--size: '10' is not an integer number of bytes or MIN-MAX, from ${INSTRUMENTED_HEADER_BYTES} to`),
  ],
  [['load', '--size', '200-100'], /--size: '200-100'/],
  [['load', '--size', '8192', '--ring-size', '8192'], /--size: '8192' does not fit a 8192-byte ring/],
  [['load', '--ring-size', '5000'], /--ring-size: '5000' is not a power of two from 4096 to/],
  [['load', '--mode', 'push'], /--mode: 'push' is not one of reserve, output/],
  [['load', '--discard-ratio', '1.5'], /--discard-ratio: '1.5' is not a number from 0 to 1/],
  [['load', '--mode', 'output', '--discard-ratio', '0.5'], /--discard-ratio: .*--mode reserve only/],
  [['load', '--wakeup', 'sampled:0'], /--wakeup: 'sampled:0' is not one of self, none, force, sampled:N/],
  [['load', '--wakeup', 'often'], /--wakeup: 'often' is not one of self, none, force, sampled:N/],
  [['load', '--rate', '0'], /--rate: '0' is not a number greater than 0/],
  [['load', '--kill-producer-every', '0'], /--kill-producer-every: '0' is not an integer from 1/],
  [['load', '--log-level', 'loud'], /--log-level: 'loud' is not one of fatal, error, warn/],
  [['load', '--stages', '5s'], /--stages: '5s' in '5s' is not DURATION:RATE/],
  [['load', '--stages', '5x:100'], /--stages: '5x:100' in '5x:100' is not DURATION:RATE/],
  [['load', '--stages', '1s:100,,1s:5'], /--stages: '' in '1s:100,,1s:5' is not DURATION:RATE/],
  [['load', '--stages', '1s:0,2s:0'], /--stages: '1s:0,2s:0' never sends a record/],
  [['load', '--stages', '1s:100', '--rate', '5'], /--stages: sets the rate stage by stage; not with --rate/],
  [['load', '--stages', '1s:100', '--duration', '5'], /--stages: the stages set the duration; not with --duration/],
  [
    ['load', '--threshold', 'p99<fast'],
    /--threshold: 'p99<fast' is not METRIC OP VALUE: accepted METRIC OP VALUE with METRIC one of p50, /,
  ],
  [['load', '--threshold', 'latency<1ms'], /--threshold: 'latency<1ms' names no metric 'latency'/],
  [['load', '--threshold', 'p99<5kg'], /--threshold: 'p99<5kg' has unit 'kg' where a latency takes us, µs, ms or s/],
  [['load', '--threshold', 'lost==0', '--threshold', 'lost=0'], /--threshold: 'lost=0' is not METRIC OP VALUE/],
  [['load', '--threshold', 'drops<1kB'], /--threshold: 'drops<1kB' has unit 'kB' where drops take a count or %/],
  [['load', '--handler', '/nonexistent/handler.mjs'], /--handler: '\/nonexistent\/handler.mjs' is not a file/],
  [['load', '--producer', '/nonexistent/producer.mjs'], /--producer: '\/nonexistent\/producer.mjs' is not a file/],
  [['load', '--handler-options', '{"a":1}'], /--handler-options: needs --handler <module>/],
  [['load', '--producer-options', '[1]'], /--producer-options: needs --producer <module>/],
  [['load', '--handler', 'package.json', '--handler-options', '{bad'], /--handler-options: '\{bad' is not JSON/],
  [['load', '--drain-timeout', '0'], /--drain-timeout: '0' is not a number greater than 0/],
  [['load', '--stall-after', 'soon'], /--stall-after: 'soon' is not a number greater than 0/],
  [['load', '--bogus'], /unknown option '--bogus': accepted options are .*--producers/],
  [['load', 'now'], /unexpected argument 'now'/],
];
badOptionTests(test, bad);

test.serial('load --help lists every option and runs nothing', async (t) => {
  const { code, stdout } = await runCli(['load', '--help']);
  t.is(code, 0);
  for (const opt of [
    '--producers',
    '--duration',
    '--records',
    '--size',
    '--ring-size',
    '--mode',
    '--discard-ratio',
    '--wakeup',
    '--rate',
    '--overwrite',
    '--kill-producer-every',
    '--stages',
    '--handler',
    '--handler-options',
    '--producer',
    '--producer-options',
    '--threshold',
    '--out',
    '--drain-timeout',
    '--stall-after',
    '--json',
    '--log-level',
  ]) {
    t.true(stdout.includes(opt), opt);
  }
  t.regex(stdout, /NOT counted as lost/);
});
