/**
 * The CLI helpers without threads: option parsers, the live latency buckets, the loss accounting on
 * hand-made reports, the progress line (TTY and plain), the two-step signal handling.
 */
import test from 'ava';
import fc from 'fast-check';
import type { RuntimeReport, VerifierReport } from '@ringbuf/consumer';
import type { DeathReport, ProducerReport } from '@ringbuf/producer-pool';
import { INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';
import { UsageError } from '../src/cli-errors.js';
import { LINE_BYTES, WORD_BYTES } from '@ringbuf/core';
import { checkFits, payloadSize, positiveNumber, ratio, ringSize, wakeup } from '../src/options.js';
import { describeToken } from '../src/report/load-report.js';
import { account, clean } from '../src/run/accounting.js';
import {
  LIVE_BLOCK_BYTES,
  LIVE_BUCKETS,
  LIVE_BUCKET_FIRST,
  LIVE_MAX_NS,
  LIVE_SAMPLES_INDEX,
  liveBucketOf,
  liveBucketUpperNs,
} from '../src/run/live-layout.js';
import { livePercentileUs, newLiveBlock } from '../src/run/live-latency.js';
import { DEFAULT_COLUMNS, ProgressLine, codePoints, fitLine } from '../src/run/progress.js';
import { EXIT_INTERRUPTED, Interrupts } from '../src/run/signals.js';
import { testSeed } from './cli-run.js';

test('option parsers accept what --help documents and refuse the rest with a UsageError naming the option', (t) => {
  t.is(ringSize('--ring-size', '1M', 0), 1 << 20);
  t.is(ringSize('--ring-size', '64K', 0), 65536);
  t.is(ringSize('--ring-size', '4096', 0), 4096);
  t.is(ringSize('--ring-size', undefined, 8192), 8192);
  for (const bad of ['5000', '2048', '2G', 'big', '-4096', '1.5M']) {
    t.throws(() => ringSize('--ring-size', bad, 0), {
      instanceOf: UsageError,
      message: new RegExp(`^--ring-size: '${bad.replace('.', '\\.')}'`),
    });
  }
  t.is(payloadSize('--size', '64', 0), 64);
  t.deepEqual(payloadSize('--size', `${INSTRUMENTED_HEADER_BYTES}-4096`, 0), {
    min: INSTRUMENTED_HEADER_BYTES,
    max: 4096,
  });
  t.throws(() => payloadSize('--size', String(INSTRUMENTED_HEADER_BYTES - 1), 0), {
    instanceOf: UsageError,
    message: /^--size: /,
  });
  for (const bad of ['23', '100-50', '10-20', 'x', '64-', '-64'])
    t.throws(() => payloadSize('--size', bad, 0), { instanceOf: UsageError, message: /^--size: / });
  t.deepEqual(wakeup('--wakeup', 'sampled:500', 'self'), { sampled: 500 });
  t.is(wakeup('--wakeup', 'force', 'self'), 'force');
  for (const bad of ['sampled', 'sampled:0', 'sampled:-1', 'FORCE'])
    t.throws(() => wakeup('--wakeup', bad, 'self'), { instanceOf: UsageError, message: /^--wakeup: / });
  t.is(ratio('--discard-ratio', '0.25', 0), 0.25);
  t.throws(() => ratio('--discard-ratio', '1.01', 0), { instanceOf: UsageError });
  t.notThrows(() => checkFits(4080, '4080', 4096));
  t.throws(() => checkFits({ min: 24, max: 4081 }, '24-4081', 4096), {
    instanceOf: UsageError,
    message: "--size: '24-4081' does not fit a 4096-byte ring (--ring-size): at most 4080 bytes",
  });
  t.is(positiveNumber('--duration', '0.5', 5, 10), 0.5);
  for (const bad of ['0', '-1', '11', 'NaN', '1e3', ''])
    t.throws(() => positiveNumber('--duration', bad, 5, 10), { instanceOf: UsageError, message: /^--duration: / });
});

test('live latency buckets: every value lands in a bucket whose upper edge bounds it within 12.5 %', (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: LIVE_MAX_NS }), (ns) => {
      const b = liveBucketOf(ns);
      const upper = liveBucketUpperNs(b);
      const lower = b === 0 ? 0 : liveBucketUpperNs(b - 1) + 1;
      return b >= 0 && b < LIVE_BUCKETS && lower <= ns && ns <= upper && upper - lower <= Math.max(1, ns / 8);
    }),
    { seed, numRuns: 5000 },
  );
  // Buckets are contiguous and increasing.
  for (let b = 1; b < LIVE_BUCKETS; b++) t.is(liveBucketOf(liveBucketUpperNs(b - 1) + 1), b);
  t.is(liveBucketOf(LIVE_MAX_NS), LIVE_BUCKETS - 1);
});

test('live latency block: the sample count and the buckets on separate line pairs, inside the block', (t) => {
  t.not(
    Math.floor((LIVE_SAMPLES_INDEX * WORD_BYTES) / LINE_BYTES),
    Math.floor((LIVE_BUCKET_FIRST * WORD_BYTES) / LINE_BYTES),
  );
  t.true((LIVE_BUCKET_FIRST + LIVE_BUCKETS) * WORD_BYTES <= LIVE_BLOCK_BYTES);
  t.is(new Uint32Array(newLiveBlock()).length * WORD_BYTES, LIVE_BLOCK_BYTES);
});

test("livePercentileUs reads the handler's buckets: NaN when empty, the bucket edge of the rank otherwise", (t) => {
  const block = newLiveBlock();
  t.true(Number.isNaN(livePercentileUs(block, 99)));
  const w = new Uint32Array(block);
  // 98 samples of 10 us, 2 of 5 ms.
  w[LIVE_BUCKET_FIRST + liveBucketOf(10_000)] = 98;
  w[LIVE_BUCKET_FIRST + liveBucketOf(5_000_000)] = 2;
  const p50 = livePercentileUs(block, 50);
  t.true(p50 >= 10 && p50 <= 11.25, String(p50));
  const p99 = livePercentileUs(block, 99);
  t.true(p99 >= 5000 && p99 <= 5625, String(p99));
});

function producer(id: number, committed: number, extra: Partial<ProducerReport> = {}): ProducerReport {
  return {
    producerId: id,
    slot: 0,
    state: 'finished',
    attempted: committed,
    committed,
    discarded: 0,
    dropped: 0,
    inFlight: 0,
    abandoned: 0,
    lockContended: 0,
    lockWaits: 0,
    lockTimeouts: 0,
    lastCommittedSeq: committed - 1,
    startUs: 0,
    elapsedUs: 0,
    targetRate: 0,
    achievedRate: 0,
    rateMet: true,
    maxLagUs: 0,
    ...extra,
  };
}

function runtimeReport(
  delivered: number,
  seen: Array<[number, number, number]>,
  v: Partial<VerifierReport> = {},
  lostOverwritten = 0,
): RuntimeReport {
  const verifier: VerifierReport = {
    records: delivered,
    tokenRecords: 0,
    maxToken: 0,
    gaps: 0,
    duplicates: 0,
    reorders: 0,
    causal: 0,
    producerErrors: 0,
    torn: 0,
    ownerMismatches: 0,
    missing: 0,
    skippedGaps: 0,
    violations: 0,
    examples: [],
    ok: true,
    producers: seen.map(([producerId, nextSeq, missing]) => ({
      producerId,
      records: nextSeq - missing,
      nextSeq,
      missing,
    })),
    ...v,
  };
  return {
    reason: 'drained',
    delivered,
    leftBehind: 0,
    leftBehindCommitted: 0,
    leftBehindBusy: 0,
    rings: [
      {
        delivered,
        bytes: delivered * 64,
        discarded: 0,
        lost: lostOverwritten,
        leftBehind: {
          committed: 0,
          busy: 0,
          total: 0,
          committedBytes: 0,
          consumerPos: 0,
          producerPos: 0,
          corrupt: false,
        },
      },
    ],
    stats: {
      records: delivered,
      bytes: 0,
      discarded: 0,
      polls: 0,
      sleeps: 0,
      wakeups: 0,
      busyStalls: 0,
      backlog: 0,
      maxBacklog: 0,
      handlerErrors: 0,
      lost: 0,
      violations: 0,
      latencyCount: 0,
    },
    verifier,
  };
}

function death(id: number, extra: Partial<DeathReport> = {}): DeathReport {
  return {
    producerId: id,
    slot: 0,
    cause: 'injected',
    method: 'terminate',
    point: 'after-submit',
    error: '',
    lastCommittedSeq: 4,
    inHand: 'none',
    lockRecovered: false,
    recordsDiscarded: 0,
    replacedBy: 3,
    ...extra,
  };
}

test('accounting: a clean run, a lost tail, a gap in the middle', (t) => {
  const ok = account(
    [producer(1, 10), producer(2, 5)],
    [],
    runtimeReport(15, [
      [1, 10, 0],
      [2, 5, 0],
    ]),
    false,
  );
  t.is(ok.lost, 0);
  t.is(ok.records.committed, 15);
  t.true(clean(ok));
  // Producer 2's last two committed records never arrived: a tail only the producer's count reveals.
  const tail = account(
    [producer(1, 10), producer(2, 5)],
    [],
    runtimeReport(13, [
      [1, 10, 0],
      [2, 3, 0],
    ]),
    false,
  );
  t.is(tail.lost, 2);
  t.false(clean(tail));
  // A producer that committed and delivered nothing loses everything.
  t.is(account([producer(1, 10), producer(2, 5)], [], runtimeReport(10, [[1, 10, 0]]), false).lost, 5);
  // Gaps in the middle the verifier remembered as missing.
  t.is(account([producer(1, 10)], [], runtimeReport(7, [[1, 10, 3]], { gaps: 1, missing: 3 }), false).lost, 3);
});

test(
  'accounting: a producer killed inside output() after its commit committed one more, ' + 'not lost, not abandoned',
  (t) => {
    // Its counter says 5 (seq 0..4) and one abandoned in hand ('undecided'); the verifier saw seq 0..5.
    const a = account(
      [producer(1, 5, { state: 'dead', attempted: 6, abandoned: 1 }), producer(3, 4)],
      [death(1, { inHand: 'undecided' })],
      runtimeReport(10, [
        [1, 6, 0],
        [3, 4, 0],
      ]),
      false,
    );
    t.is(a.records.committed, 10);
    t.is(a.records.abandoned, 0);
    t.is(a.records.attempted, a.records.committed + a.records.discarded + a.records.dropped + a.records.abandoned);
    t.is(a.lost, 0);
    t.is(a.killed, 1);
    t.is(a.recovered, 1);
    t.is(a.crashed, 0);
    // A death whose recovery gave up is not counted recovered.
    t.is(
      account(
        [producer(1, 5, { state: 'dead' })],
        [death(1, { recordsDiscarded: -1, cause: 'crashed' })],
        runtimeReport(5, [[1, 5, 0]]),
        false,
      ).recovered,
      0,
    );
  },
);

test('accounting: a reservation recovery discarded stays abandoned; the identity holds exactly', (t) => {
  // 7 attempted: 5 committed (all delivered), 1 discarded, 1 BUSY when killed (recovery discarded it).
  const a = account(
    [producer(1, 5, { state: 'dead', attempted: 7, discarded: 1, abandoned: 1 })],
    [death(1, { inHand: 'abandoned', recordsDiscarded: 1 })],
    runtimeReport(5, [[1, 5, 0]]),
    false,
  );
  t.is(a.records.committed, 5);
  t.is(a.records.abandoned, 1);
  t.is(a.lost, 0);
  t.is(a.records.attempted, a.records.committed + a.records.discarded + a.records.dropped + a.records.abandoned);
});

test(
  'accounting: overwrite mode counts overwritten records apart; ' + 'lost is what is neither delivered nor overwritten',
  (t) => {
    const a = account([producer(1, 100)], [], runtimeReport(60, [[1, 100, 0]], { skippedGaps: 3 }, 40), true);
    t.is(a.overwritten, 40);
    t.is(a.lost, 0);
    const b = account([producer(1, 100)], [], runtimeReport(50, [[1, 100, 0]], {}, 40), true);
    t.is(b.lost, 10);
  },
);

test('accounting: duplicates and reorders and causal violations come from the verifier', (t) => {
  const a = account(
    [producer(1, 3)],
    [],
    runtimeReport(4, [[1, 3, 0]], { duplicates: 1, reorders: 2, causal: 3 }),
    false,
  );
  t.is(a.duplicates, 1);
  t.is(a.orderViolations, 5);
  t.is(a.causalViolations, 3);
  t.false(clean(a));
});

test('progress: redrawn in place on a TTY, one plain line per update otherwise', (t) => {
  let tty = '';
  const onTty = new ProgressLine({ write: (s: string) => (tty += s), isTTY: true });
  onTty.update('a');
  onTty.update('b');
  onTty.message('stop');
  t.is(tty, '\r\x1b[2Ka\r\x1b[2Kb\nstop\n');
  let plain = '';
  const onPipe = new ProgressLine({ write: (s: string) => (plain += s), isTTY: false });
  onPipe.update('a');
  onPipe.update('b');
  onPipe.end();
  t.is(plain, 'a\nb\n');
  let quiet = '';
  new ProgressLine({ write: (s: string) => (quiet += s) }, false).update('x');
  t.is(quiet, '');
});

test('progress lines never wrap: cut to the terminal width less one column, else to 80', (t) => {
  const long = `load  12s  records 1.234 M/s  ${'x'.repeat(200)}`;
  for (const columns of [80, 40, 120]) {
    const out: string[] = [];
    new ProgressLine({ write: (s: string) => out.push(s), isTTY: true, columns }).update(long);
    const shown = (out[0] ?? '').replace('\r\x1b[2K', '');
    t.is(codePoints(shown).length, columns - 1, `${columns} columns`);
    t.true(shown.endsWith('…'));
  }
  const piped: string[] = [];
  new ProgressLine({ write: (s: string) => piped.push(s), isTTY: false }).update(long);
  t.is(codePoints((piped[0] ?? '').trimEnd()).length, DEFAULT_COLUMNS - 1);
  t.is(fitLine('short µs line', 80), 'short µs line');
});

test('signals outside a run: one line and exit 130 at once', (t) => {
  const lines: string[] = [];
  const exits: number[] = [];
  const i = new Interrupts(
    (c) => exits.push(c),
    (l) => lines.push(l),
  );
  i.handle('SIGTERM');
  t.deepEqual(exits, [EXIT_INTERRUPTED]);
  t.deepEqual(lines, ['ringbuf: SIGTERM before a run started: exiting (nothing to drain)']);
  i.begin({ stopping: 'stopping', notDrained: () => '', say: () => undefined });
  i.end();
  i.handle('SIGINT');
  t.deepEqual(exits, [EXIT_INTERRUPTED, EXIT_INTERRUPTED]);
  t.is(lines[1], 'ringbuf: SIGINT after the run ended: exiting (nothing to drain)');
});

test('signals during a run: the first aborts, the second says what was not drained and exits 130', (t) => {
  const said: string[] = [];
  const exits: number[] = [];
  const i = new Interrupts(
    (c) => exits.push(c),
    () => t.fail('nothing is written outside the run'),
  );
  const signal = i.begin({
    stopping: 'stopping the producers and draining the consumer',
    notDrained: () => '7 committed records',
    say: (l) => said.push(l),
  });
  t.true(i.running);
  t.false(signal.aborted);
  i.handle('SIGINT');
  t.true(signal.aborted);
  t.is(i.reason, 'SIGINT');
  t.deepEqual(exits, []);
  t.regex(said[0] ?? '', /SIGINT: stopping the producers and draining the consumer \(press Ctrl-C again/);
  i.handle('SIGINT');
  t.deepEqual(exits, [EXIT_INTERRUPTED]);
  t.regex(said[1] ?? '', /not drained: 7 committed records/);
  // A new run starts afresh.
  const again = i.begin({ stopping: 'stopping', notDrained: () => '', say: (l) => said.push(l) });
  t.false(again.aborted);
  i.handle('SIGTERM');
  t.true(again.aborted);
  t.deepEqual(exits, [EXIT_INTERRUPTED]);
});

test('causal tokens name the event, the task and the cpu', (t) => {
  t.is(describeToken(1, 3), 'fork of task 1 on cpu 0 (token 1)');
  t.is(describeToken(5, 3), 'exec of task 2 on cpu 1 (token 5)');
  t.is(describeToken(9, 4), 'exit of task 3 on cpu 0 (token 9)');
});
