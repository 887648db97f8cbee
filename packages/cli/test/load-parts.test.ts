/**
 * The load command's new parts without threads: --stages, --threshold, the per-second latency window, the timeline
 * CSV.
 */
import test from 'ava';
import { UsageError } from '../src/cli-errors.js';
import { stages } from '../src/options.js';
import { evaluateThresholds, parseThreshold, type ThresholdFigures } from '../src/run/thresholds.js';
import { LIVE_BUCKET_FIRST, liveBucketOf } from '../src/run/live-layout.js';
import { LiveWindow, newLiveBlock } from '../src/run/live-latency.js';
import { TIMELINE_COLUMNS, timelineCsv } from '../src/run/timeline.js';

test('--stages: DURATION:RATE lists, units and suffixes; bad ones refused naming the stage', (t) => {
  t.deepEqual(stages('--stages', '5s:1000,10s:50k,500ms:0,1m:1.5M'), [
    { durationSec: 5, targetRate: 1000 },
    { durationSec: 10, targetRate: 50_000 },
    { durationSec: 0.5, targetRate: 0 },
    { durationSec: 60, targetRate: 1.5e6 },
  ]);
  for (const bad of ['5s', '5:100', '0s:100', '5s:-1', '5s:abc', '5s:100,', 's:1', '5s:1:2', '1s:2G']) {
    t.throws(
      () => stages('--stages', bad),
      { instanceOf: UsageError, message: /^--stages: '.*' in '.*' is not DURATION:RATE/ },
      bad,
    );
  }
  t.throws(() => stages('--stages', '1s:0'), { instanceOf: UsageError, message: /never sends a record/ });
  t.throws(() => stages('--stages', '1440m:1,1s:1'), { instanceOf: UsageError, message: /more than 86400/ });
});

const figures: ThresholdFigures = {
  latencyUs: { p50: 40, p90: 90, p99: 450, p999: 2500, max: 9000 },
  throughputPerSec: 1.2e6,
  attempted: 1000,
  dropped: 20,
  lost: 0,
  duplicates: 0,
  orderViolations: 1,
  malformed: 0,
  handlerErrors: 3,
  crashed: 0,
  leftBehind: 0,
  maxBacklogBytes: 600 * 1024,
};

test('--threshold: each metric with its units, evaluated against the figures', (t) => {
  const rows: Array<[string, number, string, boolean]> = [
    ['lost==0', 0, 'count', true],
    ['p99<500us', 450, 'us', true],
    ['p99<0.4ms', 450, 'us', false],
    ['p999<2ms', 2500, 'us', false],
    ['max<=9000', 9000, 'us', true],
    ['p50 < 1 s', 40, 'us', true],
    ['p90<100µs', 90, 'us', true],
    ['throughput>1M', 1.2e6, 'records/s', true],
    ['throughput>=2M/s', 1.2e6, 'records/s', false],
    ['throughput>500k', 1.2e6, 'records/s', true],
    ['drops<1%', 2, '%', false],
    ['drops<=20', 20, 'count', true],
    ['order==0', 1, 'count', false],
    ['errors!=0', 3, 'count', true],
    ['backlog<512K', 600 * 1024, 'bytes', false],
    ['backlog<1MiB', 600 * 1024, 'bytes', true],
  ];
  const results = evaluateThresholds(
    rows.map(([e]) => parseThreshold(e)),
    figures,
  );
  t.deepEqual(
    results.map((r) => [r.expr, r.value, r.unit, r.ok]),
    rows,
  );
  // A figure that is not a number (no latency sample) fails the check.
  t.false(
    evaluateThresholds([parseThreshold('p99<1s')], { ...figures, latencyUs: { ...figures.latencyUs, p99: NaN } })[0]
      ?.ok,
  );
});

test('--threshold: bad expressions are one-line usage errors naming the expression', (t) => {
  for (const bad of [
    'p99',
    'p99<',
    '<5',
    'p99<<5',
    'p99=5',
    'p99<5kg',
    'lost==0%',
    'throughput>1T',
    'drops<1x',
    'speed>1',
    'p99<-5',
    'backlog<1T',
  ]) {
    const err = t.throws(() => parseThreshold(bad), { instanceOf: UsageError }, bad);
    t.true(err?.message.startsWith(`--threshold: '${bad}' `), err?.message);
    t.false(err?.message.includes('\n'));
  }
});

test('LiveWindow: per-second percentiles are the difference of the cumulative buckets, the block never reset', (t) => {
  const block = newLiveBlock();
  const w = new Uint32Array(block);
  const win = new LiveWindow(block);
  t.is(win.next(), 0);
  t.true(Number.isNaN(win.percentileUs(99)));
  w[LIVE_BUCKET_FIRST + liveBucketOf(10_000)] = 99; // 99 samples of 10 µs
  w[LIVE_BUCKET_FIRST + liveBucketOf(5_000_000)] = 1; // and one of 5 ms
  t.is(win.next(), 100);
  const p50 = win.percentileUs(50);
  t.true(p50 >= 10 && p50 <= 11.25, String(p50));
  t.true(win.percentileUs(100) >= 5000);
  // The next second: 10 samples of 1 ms only; the earlier ones are not in it.
  w[LIVE_BUCKET_FIRST + liveBucketOf(1_000_000)] = 10;
  t.is(win.next(), 10);
  const p99 = win.percentileUs(99);
  t.true(p99 >= 1000 && p99 <= 1125, String(p99));
  // A counter that wrapped past 2^32 (from 10 to 3: 2^32 - 7 samples later) still gives the difference.
  w[LIVE_BUCKET_FIRST + liveBucketOf(1_000_000)] = 3;
  t.is(win.next(), 2 ** 32 - 7);
});

test('timelineCsv: the header, one line per row, empty cells for missing percentiles', (t) => {
  const csv = timelineCsv([
    {
      tSec: 1.0004,
      recordsPerSec: 1000.5,
      dropsPerSec: 0,
      backlogBytes: 72,
      p50Us: 12.3456,
      p99Us: null,
      wakeups: 3,
      kills: 0,
      handlerErrors: 0,
      stage: 0,
    },
    {
      tSec: 2,
      recordsPerSec: 0,
      dropsPerSec: 5,
      backlogBytes: 0,
      p50Us: null,
      p99Us: null,
      wakeups: 0,
      kills: 1,
      handlerErrors: 2,
      stage: null,
    },
  ]);
  t.is(csv, `${TIMELINE_COLUMNS.join(',')}\n1,1000.5,0,72,12.346,,3,0,0,0\n2,0,5,0,,,0,1,2,\n`);
});
