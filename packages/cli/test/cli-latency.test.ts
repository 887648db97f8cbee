/**
 * `ringbuf latency` end to end with tiny parameters: every policy and the floor reported, every run
 * lossless and in order; bad options. No timing is asserted (only that percentiles are ordered).
 */
import test from 'ava';
import { badOptionTests, runCli, testSeed } from './cli-run.js';

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
  floor: { latencyUs: Pct & { count: number }; correctedLatencyUs: Pct & { count: number }; correctedIntervalUs: number };
  policies: Array<{ name: string; wait: unknown; latencyUs: Pct; samples: number; records: { committed: number; consumed: number }; lost: number; duplicates: number; orderViolations: number; consumer: { wakeups: number } }>;
  ok: boolean;
}

function ordered(t: { true(v: boolean, m?: string): void }, name: string, p: Pct): void {
  t.true(p.p50 > 0 && p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.p999 && p.p999 <= p.max, `${name}: ${JSON.stringify(p)}`);
}

test.serial('latency --json: the four wake policies and the raw floor, every run lossless', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const { code, stdout, stderr } = await runCli(['latency', '--duration', '0.5', '--rate', '2000', '--sampled', '16', '--floor-samples', '200', '--seed', String(seed), '--json']);
  t.is(code, 0, stderr);
  const lines = stdout.trim().split('\n');
  t.is(lines.length, 1);
  const r = JSON.parse(lines[0] ?? '') as LatencyJson;
  t.deepEqual(r.policies.map((p) => p.name), ['self-paced', 'sampled:16', 'force', 'busy-poll']);
  t.deepEqual(r.policies.map((p) => p.wait), ['sleep', 'sleep', 'sleep', 'busy']);
  t.is(r.floor.latencyUs.count, 200);
  ordered(t, 'floor', r.floor.latencyUs);
  // Corrected for coordinated omission: the raw samples plus the ones a scheduled sender would have
  // seen behind each late one, all at least one sample interval: no percentile can fall.
  ordered(t, 'corrected floor', r.floor.correctedLatencyUs);
  t.true(r.floor.correctedLatencyUs.count >= 200);
  t.true(r.floor.correctedLatencyUs.p99 >= r.floor.latencyUs.p99 && r.floor.correctedLatencyUs.max === r.floor.latencyUs.max);
  t.true(r.floor.correctedIntervalUs > 0);
  for (const p of r.policies) {
    t.true(p.records.committed > 0, p.name);
    t.is(p.records.consumed, p.records.committed, p.name);
    t.is(p.samples, p.records.consumed, `${p.name}: every record timed`);
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
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const { code, stdout, stderr } = await runCli(['latency', '--policy', 'force', '--policy', 'self', '--duration', '0.3', '--rate', '1000', '--floor-samples', '100', '--seed', String(seed)]);
  t.is(code, 0, stderr);
  t.regex(stdout, /^policy\s+p50\s+p90\s+p99\s+p99\.9\s+max/m);
  t.regex(stdout, /^self-paced\s+\S+ (µs|ms)/m);
  t.regex(stdout, /^force\s+\S+ (µs|ms)/m);
  t.regex(stdout, /^raw wait\/notify\s+\S+ (µs|ms)/m);
  t.notRegex(stdout, /^busy-poll/m);
  t.notRegex(stdout, /^sampled/m);
});

const bad: Array<[string[], RegExp]> = [
  [['latency', '--policy', 'warp'], /--policy: 'warp' is not one of self, sampled, force, busy/],
  [['latency', '--rate', 'fast'], /--rate: 'fast' is not a number greater than 0/],
  [['latency', '--sampled', '0'], /--sampled: '0' is not an integer from 1/],
  [['latency', '--floor-samples', '1'], /--floor-samples: '1' is not an integer from 2/],
];
badOptionTests(test, bad);
