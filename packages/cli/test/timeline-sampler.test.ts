/**
 * The timeline sampler without threads: hand-driven counters in, one row per sample out (rates per
 * second of each interval, the stage of the interval's middle, the live window's percentiles), and
 * the last partial interval sampled only when it is long enough.
 */
import test from 'ava';
import type { DeathReport, ProducerReport } from '@ringbuf/producer-pool';
import { LIVE_BUCKET_FIRST, liveBucketOf, liveBucketUpperNs } from '../src/run/live-layout.js';
import { LiveWindow, newLiveBlock } from '../src/run/live-latency.js';
import { TimelineSampler } from '../src/run/timeline-sampler.js';
import type { StageSpec } from '../src/options.js';

/** Counters a test moves by hand, and a sampler reading them. */
function rig(stages?: readonly StageSpec[]) {
  const c = { records: 0, wakeups: 0, handlerErrors: 0, dropped: [0, 0], injected: 0, crashed: 0, backlog: 0 };
  const live = newLiveBlock();
  const sampler = new TimelineSampler(
    {
      consumer: () => ({ records: c.records, wakeups: c.wakeups, handlerErrors: c.handlerErrors }),
      producers: () => c.dropped.map((dropped) => ({ dropped }) as ProducerReport),
      deaths: () => [
        ...Array.from({ length: c.injected }, () => ({ cause: 'injected' }) as DeathReport),
        ...Array.from({ length: c.crashed }, () => ({ cause: 'crashed' }) as DeathReport),
      ],
      window: new LiveWindow(live),
      backlog: () => c.backlog,
    },
    1000,
    stages,
  );
  /** Records `n` latency samples of `ns` in the live block, as the consumer's handler does. */
  const time = (ns: number, n: number): void => {
    Atomics.add(new Uint32Array(live), LIVE_BUCKET_FIRST + liveBucketOf(ns), n);
  };
  return { c, sampler, time };
}

test('each row is the counters moved since the last sample, as rates per second of its interval', (t) => {
  const { c, sampler, time } = rig();
  c.records = 500;
  c.wakeups = 7;
  c.dropped = [10, 30];
  c.backlog = 4096;
  time(20_000, 10);
  const first = sampler.sample(1000 + 500);
  t.deepEqual(first, {
    tSec: 0.5,
    recordsPerSec: 1000,
    dropsPerSec: 80,
    backlogBytes: 4096,
    p50Us: liveBucketUpperNs(liveBucketOf(20_000)) / 1000,
    p99Us: liveBucketUpperNs(liveBucketOf(20_000)) / 1000,
    wakeups: 7,
    kills: 0,
    handlerErrors: 0,
    stage: null,
  });
  c.records = 2500;
  c.wakeups = 9;
  c.handlerErrors = 3;
  c.injected = 2;
  c.crashed = 1; // not a kill
  const second = sampler.sample(1000 + 2500);
  t.is(second.tSec, 2.5);
  t.is(second.recordsPerSec, 1000);
  t.is(second.dropsPerSec, 0);
  t.is(second.wakeups, 2);
  t.is(second.kills, 2);
  t.is(second.handlerErrors, 3);
  t.is(second.p50Us, null, 'nothing timed in the interval');
  t.is(sampler.killed, 2);
  t.is(sampler.handlerErrors, 3);
  t.deepEqual(sampler.rows, [first, second]);
});

test("a row carries the stage its interval's middle fell in, null after the last", (t) => {
  const { sampler } = rig([
    { durationSec: 2, targetRate: 100 },
    { durationSec: 3, targetRate: 0 },
  ]);
  const stages = [1, 2, 2.8, 4, 5.2, 6.5].map((s) => sampler.sample(1000 + s * 1000).stage);
  // Middles: 0.5, 1.5, 2.4, 3.4, 4.6, 5.85.
  t.deepEqual(stages, [0, 0, 1, 1, 1, null]);
});

test('finish samples the last partial interval unless it is under 10 ms', (t) => {
  const { c, sampler } = rig();
  sampler.sample(2000);
  c.records = 5;
  sampler.finish(2009);
  t.is(sampler.rows.length, 1);
  sampler.finish(2010);
  t.is(sampler.rows.length, 2);
  t.is(sampler.rows[1]?.recordsPerSec, 5 / 0.01);
});
