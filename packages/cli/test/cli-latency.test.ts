/**
 * `ringbuf latency` end to end with tiny parameters: every policy and the floor reported, every run
 * lossless and in order; bad options. No timing is asserted (only that percentiles are ordered).
 */
import test from 'ava';
import os from 'node:os';
import { SPIN_BEFORE_SEND_US } from '@ringbuf/producer-pool';
import { badOptionTests, runCli, runSeeded, testSeed } from './cli-run.js';

interface Pct {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}
interface LatencyJson {
  producers: number;
  ratePerProducer: number;
  warmupSec: number;
  cores: number;
  oversubscribed: boolean;
  floor: {
    latencyUs: Pct & { count: number };
    correctedLatencyUs: Pct & { count: number };
    correctedIntervalUs: number;
  };
  hiccups: {
    threads: number;
    intervalUs: number;
    msPerPolicy: number;
    latencyUs: Pct & { count: number };
    stalledFraction: number;
  };
  policies: Array<{
    name: string;
    wait: unknown;
    latencyUs: Pct;
    ringLatencyUs: Pct & { count: number };
    hiccupMultiple: { latencyP99: number; ringP99: number };
    samples: number;
    warmupSkipped: number;
    records: { committed: number; consumed: number };
    lost: number;
    duplicates: number;
    orderViolations: number;
    consumer: { wakeups: number };
  }>;
  ok: boolean;
}

function ordered(t: { true(v: boolean, m?: string): void }, name: string, p: Pct): void {
  t.true(
    p.p50 > 0 && p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.p999 && p.p999 <= p.max,
    `${name}: ${JSON.stringify(p)}`,
  );
}

test.serial('latency --json: the four wake policies and the raw floor, every run lossless', async (t) => {
  const { code, stdout, stderr } = await runSeeded(t, [
    'latency',
    '--duration',
    '0.5',
    '--warmup',
    '0.3',
    '--rate',
    '2000',
    '--sampled',
    '16',
    '--floor-samples',
    '200',
    '--json',
  ]);
  t.is(code, 0, stderr);
  const lines = stdout.trim().split('\n');
  t.is(lines.length, 1);
  const r = JSON.parse(lines[0] ?? '') as LatencyJson;
  t.deepEqual(
    r.policies.map((p) => p.name),
    ['self-paced', 'sampled:16', 'force', 'busy-poll'],
  );
  t.deepEqual(
    r.policies.map((p) => p.wait),
    ['sleep', 'sleep', 'sleep', 'busy'],
  );
  t.is(r.floor.latencyUs.count, 200);
  ordered(t, 'floor', r.floor.latencyUs);
  // Corrected for coordinated omission: the raw samples plus the ones a scheduled sender would have
  // seen behind each late one, all at least one sample interval: no percentile can fall.
  ordered(t, 'corrected floor', r.floor.correctedLatencyUs);
  t.true(r.floor.correctedLatencyUs.count >= 200);
  t.true(
    r.floor.correctedLatencyUs.p99 >= r.floor.latencyUs.p99 && r.floor.correctedLatencyUs.max === r.floor.latencyUs.max,
  );
  t.true(r.floor.correctedIntervalUs > 0);
  // The hiccup meter: 2 producers (the default) + the consumer = 3 threads at the producers' 500 µs
  // interval, 0.5 s before each of the four policies, one sample per tick of each thread.
  t.is(r.warmupSec, 0.3);
  // Two producers (the default) spinning the last 200 µs of each 500 µs gap, and the consumer.
  t.is(r.cores, os.availableParallelism());
  t.is(r.oversubscribed, 2 * (SPIN_BEFORE_SEND_US / 500) + 1 > os.availableParallelism());
  t.is(r.hiccups.threads, 3);
  t.is(r.hiccups.intervalUs, 500);
  t.is(r.hiccups.msPerPolicy, 500);
  t.is(r.hiccups.latencyUs.count, 4 * 3 * 1000);
  ordered(t, 'hiccups', r.hiccups.latencyUs);
  t.true(r.hiccups.stalledFraction >= 0 && r.hiccups.stalledFraction < 1);
  for (const p of r.policies) {
    t.true(p.records.committed > 0, p.name);
    t.is(p.records.consumed, p.records.committed, p.name);
    // 0.3 s of warm-up at 2,000 records/s: its records are delivered and verified, not timed.
    t.is(p.samples + p.warmupSkipped, p.records.consumed, `${p.name}: every record timed or left out as warm-up`);
    t.true(p.warmupSkipped > 0 && p.samples > 0, `${p.name}: ${p.warmupSkipped} warm-up records, ${p.samples} timed`);
    t.is(p.ringLatencyUs.count, p.samples, p.name);
    t.true(p.hiccupMultiple.ringP99 > 0 && p.hiccupMultiple.latencyP99 > 0, p.name);
    t.is(p.lost, 0, p.name);
    t.is(p.duplicates, 0, p.name);
    t.is(p.orderViolations, 0, p.name);
    ordered(t, p.name, p.latencyUs);
  }
  // The busy-polling consumer never sleeps, so it is never woken.
  t.is(r.policies[3]?.consumer.wakeups, 0);
  t.true(r.ok);
});

test.serial('latency prints a table with one row per selected policy and the floor', async (t) => {
  const { code, stdout, stderr } = await runSeeded(t, [
    'latency',
    '--policy',
    'force',
    '--policy',
    'self',
    '--duration',
    '0.3',
    '--warmup',
    '0',
    '--rate',
    '1000',
    '--floor-samples',
    '100',
  ]);
  t.is(code, 0, stderr);
  t.regex(stdout, /^policy\s+p50\s+p90\s+p99\s+p99\.9\s+max/m);
  t.regex(stdout, /^self-paced\s+\S+ (µs|ms)/m);
  t.regex(stdout, /^force\s+\S+ (µs|ms)/m);
  t.regex(stdout, /^raw wait\/notify\s+\S+ (µs|ms)/m);
  t.regex(stdout, /^machine, no ring\s+\S+ (µs|ms)/m);
  t.regex(stdout, /after 0 s of warm-up/);
  // Two producers spinning 200 µs of each 1,000 µs gap and the consumer: 1.4 busy threads.
  if (1.4 > os.availableParallelism())
    t.regex(stdout, /^Oversubscribed: 2 producers spinning 20 % of the time .* 1\.4 busy threads/m);
  else t.notRegex(stdout, /^Oversubscribed/m);
  t.notRegex(stdout, /^busy-poll/m);
  t.notRegex(stdout, /^sampled/m);
});

test.serial(
  'latency says when its producers and consumer oversubscribe the cores, in the table and in --json',
  async (t) => {
    const seed = testSeed();
    t.log(`seed ${seed}`);
    // As many producers as cores, at 20,000 records/s (a 50 µs gap: spun whole), plus the consumer.
    const producers = Math.min(255, os.availableParallelism());
    const args = [
      'latency',
      '--policy',
      'busy',
      '--producers',
      String(producers),
      '--duration',
      '0.2',
      '--warmup',
      '0',
      '--floor-samples',
      '20',
      '--seed',
      String(seed),
    ];
    const table = await runCli(args);
    t.is(table.code, 0, table.stderr);
    t.regex(
      table.stdout,
      new RegExp(
        `^Oversubscribed: ${producers} producers spinning 100 % of the time and the consumer are ` +
          `${producers + 1}\\.0 busy threads on ${os.availableParallelism()} cores`,
        'm',
      ),
    );
    const json = await runCli([...args, '--json']);
    t.is(json.code, 0, json.stderr);
    const r = JSON.parse(json.stdout) as LatencyJson;
    t.true(r.oversubscribed);
    t.is(r.cores, os.availableParallelism());
  },
);

const bad: Array<[string[], RegExp]> = [
  [['latency', '--policy', 'warp'], /--policy: 'warp' is not one of self, sampled, force, busy/],
  [['latency', '--rate', 'fast'], /--rate: 'fast' is not a number greater than 0/],
  [['latency', '--sampled', '0'], /--sampled: '0' is not an integer from 1/],
  [['latency', '--floor-samples', '1'], /--floor-samples: '1' is not an integer from 2/],
  [['latency', '--warmup=-1'], /--warmup: '-1' is not a number from 0 to 3600/],
  [['latency', '--warmup', 'soon'], /--warmup: 'soon' is not a number from 0 to 3600/],
  [['latency', '--warmup', '3601'], /--warmup: '3601' is not a number from 0 to 3600/],
  [['latency', '--warmup', 'NaN'], /--warmup: 'NaN' is not a number from 0 to 3600/],
];
badOptionTests(test, bad);
