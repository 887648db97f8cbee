/**
 * Lost-wakeup stress, self-pacing only: flags 0 on every commit, so the only wakeups are the
 * kernel's rule (wake iff the consumer has consumed everything up to exactly this record). The
 * consumer sleeps in `poll(-1)`, never with a timeout. Producers emit small bursts and then wait
 * until the consumer has delivered all their records (a counter the consumer publishes after each
 * pass). The wait has a generous timeout that fails the test: a lost wakeup leaves the consumer
 * asleep with committed records and shows up as a producer that never sees it catch up.
 *
 * A second test replaces the catch-up waits by episodes: producers and consumer meet at a barrier,
 * then the producers emit a burst at once while the consumer is on its way to sleep (the Dekker
 * window a lost wakeup needs is hit far more often than by producers woken from a futex wait); the
 * consumer delivers the episode's records before the next barrier, which times out otherwise.
 *
 * Both tests check that the consumer really slept and was really woken many times (through the
 * wake word's notification counter and the consumer's own counters); otherwise they prove nothing.
 */
import test from 'ava';
import { RingBuffer } from '@ringbuf/core';
import { seedFromEnv } from './helpers/prng.js';
import type { ConsumerReport } from './fixtures/stress-consumer.js';
import { derive, firstFew, reports, startStress, type StressRun, sum } from './fixtures/stress-harness.js';
import { createControl } from './fixtures/stress-layout.js';
import type { ProducerReport } from './fixtures/stress-producer.js';

const PRODUCERS = 2;
const MIN_SIZE = 8;
const MAX_SIZE = 600;
/** Bursts of 1..8 records per producer: far below the ring's capacity, so nothing is ever dropped. */
const BURST = { min: 1, max: 8 };
const BURSTS_PER_PRODUCER = 10_000;
/** Generous: a healthy catch-up takes microseconds; only a lost wakeup (or a wedged machine) hits it. */
const CATCH_UP_TIMEOUT_MS = 5_000;

test.serial('flags 0 everywhere, consumer in poll(-1), producers self-paced in bursts: no lost wakeup', async (t) => {
  const seed = seedFromEnv();
  t.log(`seed=${seed} (replay with RINGBUF_SEED=${seed})`);
  const ring = RingBuffer.create({ size: 64 * 1024, producerId: 100 });
  const run: StressRun = {
    share: ring.share(),
    control: createControl(),
    producers: PRODUCERS,
    seed,
    minSize: MIN_SIZE,
    maxSize: MAX_SIZE,
  };
  // Mean burst 4.5 records: this many attempts give about BURSTS_PER_PRODUCER bursts per producer.
  const attempts = Math.round(BURSTS_PER_PRODUCER * ((BURST.min + BURST.max) / 2));
  const { consumer, producers } = startStress(run, { publishDelivered: true }, () => ({
    attempts,
    discardRate: 0.1,
    outputRate: 0.4,
    flags: 'zero',
    // No kicks: the kernel's self-pacing rule must be enough on its own.
    kickOnFull: false,
    backoffMs: 0,
    burst: { ...BURST, catchUpTimeoutMs: CATCH_UP_TIMEOUT_MS },
    doneRecord: { flags: 0, timeoutMs: 10_000 },
    countDone: false,
  }));
  const [c, ...ps] = (await reports<ConsumerReport | ProducerReport>(
    [consumer, ...producers],
    50_000,
    'wakeup run',
  )) as [ConsumerReport, ...ProducerReport[]];
  for (const p of ps) t.is(p.error, undefined, p.error);
  t.is(c.error, undefined, c.error);
  t.is(c.violationCount, 0, `${c.violationCount} bad record(s), first ones:\n  ${firstFew(c.violations)}`);
  for (const p of ps) {
    t.is(p.dropped, 0, `producer ${p.index}: ${p.dropped} drops (the paced ring should never fill)`);
    t.is(p.committed + p.discarded, p.attempts, `producer ${p.index}: committed + discarded != attempted`);
    t.is(c.delivered[p.index], p.committed, `producer ${p.index}: delivered != committed`);
  }
  t.is(c.finalConsPos, c.finalProdPos, 'consumer drained the ring');
  const bursts = Math.round((sum(ps, (p) => p.attempts) * 2) / (BURST.min + BURST.max));
  t.log(
    `about ${bursts} bursts, ${sum(ps, (p) => p.committed)} records; consumer polls ${c.counters.polls}, ` +
      `sleeps ${c.counters.sleeps}, wakeups ${c.counters.wakeups}, notifications sent ${c.wakeNotifies}`,
  );
  // The test proves something only if the consumer slept and producers' commits woke it, many times.
  // Each burst starts after the consumer caught up, so it usually sleeps between bursts (measured:
  // 25-45% of bursts end in a sleep on 2 cores); a twentieth leaves a wide margin for busy machines.
  const minimum = Math.floor(bursts / 20);
  t.true(c.counters.sleeps >= minimum, `consumer slept only ${c.counters.sleeps} times (< ${minimum})`);
  t.true(c.wakeNotifies >= minimum, `producers woke the consumer only ${c.wakeNotifies} times (< ${minimum})`);
  t.true(c.counters.wakeups >= minimum, `only ${c.counters.wakeups} sleeps ended by a notification (< ${minimum})`);
});

const EPISODES = 15_000;
const EPISODE_TIMEOUT_MS = 5_000;

test.serial(
  'flags 0 everywhere, consumer in poll(-1), bursts released by a barrier as the consumer goes to sleep: no lost ' +
    'wakeup',
  async (t) => {
    const seed = seedFromEnv();
    t.log(`seed=${seed} (replay with RINGBUF_SEED=${seed})`);
    const ring = RingBuffer.create({ size: 64 * 1024, producerId: 100 });
    const run: StressRun = {
      share: ring.share(),
      control: createControl(),
      producers: PRODUCERS,
      seed,
      minSize: MIN_SIZE,
      maxSize: MAX_SIZE,
    };
    const { consumer, producers } = startStress(
      run,
      { episodes: { count: EPISODES, timeoutMs: EPISODE_TIMEOUT_MS } },
      (p) => ({
        streamSeed: derive(seed, 77, p),
        attempts: 0,
        discardRate: 0.1,
        outputRate: 0.4,
        flags: 'zero',
        kickOnFull: false,
        backoffMs: 0,
        episodes: { count: EPISODES, min: 1, max: 4, timeoutMs: EPISODE_TIMEOUT_MS, jitterSpins: 4000 },
        countDone: false,
      }),
    );
    const [c, ...ps] = (await reports<ConsumerReport | ProducerReport>(
      [consumer, ...producers],
      50_000,
      'episode run',
    )) as [ConsumerReport, ...ProducerReport[]];
    t.is(c.violationCount, 0, `${c.violationCount} bad record(s), first ones:\n  ${firstFew(c.violations)}`);
    for (const p of ps) {
      t.is(p.dropped, 0, `producer ${p.index}: ${p.dropped} drops`);
      t.is(p.committed + p.discarded, p.attempts, `producer ${p.index}: committed + discarded != attempted`);
      t.is(c.delivered[p.index], p.committed, `producer ${p.index}: delivered != committed`);
    }
    t.is(c.finalConsPos, c.finalProdPos, 'consumer drained the ring');
    t.log(
      `${EPISODES} episodes, ${sum(ps, (p) => p.committed)} records; consumer polls ${c.counters.polls}, ` +
        `sleeps ${c.counters.sleeps}, wakeups ${c.counters.wakeups}, notifications sent ${c.wakeNotifies}`,
    );
    // Measured: the consumer sleeps in about half the episodes on 2 cores; a twentieth leaves a wide margin.
    const minimum = Math.floor(EPISODES / 20);
    t.true(c.counters.sleeps >= minimum, `consumer slept only ${c.counters.sleeps} times (< ${minimum})`);
    t.true(c.wakeNotifies >= minimum, `producers woke the consumer only ${c.wakeNotifies} times (< ${minimum})`);
  },
);
