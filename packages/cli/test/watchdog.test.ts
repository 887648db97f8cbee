/**
 * The producer watchdog (src/run/watchdog.ts) and the consumer stall watch (src/run/consumer-stall.ts)
 * without threads: a fake pool whose reports a test scripts, and a clock the test passes in.
 */
import test from 'ava';
import { RingBuffer } from '@ringbuf/core';
import type { ProducerReport } from '@ringbuf/producer-pool';
import { ProducerWatchdog, STARTING_PATIENCE_MS, describeStuck } from '../src/run/watchdog.js';
import { StallWatch } from '../src/run/consumer-stall.js';

/** A live producer's report, as pool.stats() gives it. */
function report(producerId: number, slot: number, fields: Partial<ProducerReport> = {}): ProducerReport {
  return {
    producerId,
    slot,
    state: 'running',
    attempted: 0,
    committed: 0,
    discarded: 0,
    dropped: 0,
    abandoned: 0,
    inFlight: 0,
    lockContended: 0,
    lockWaits: 0,
    lockTimeouts: 0,
    lastCommittedSeq: -1,
    startUs: 1_000,
    elapsedUs: 0,
    targetRate: 0,
    achievedRate: 0,
    rateMet: true,
    maxLagUs: 0,
    ...fields,
  };
}

/** A pool whose reports the test sets, recording what the watchdog terminates. */
function fakePool(reports: ProducerReport[]) {
  const terminated: Array<[number, string]> = [];
  return {
    reports,
    terminated,
    liveStats: () => reports,
    terminateProducer: (id: number, reason: string) => {
      terminated.push([id, reason]);
      return true;
    },
  };
}

const MS = 1000;

test(
  'a producer that makes no progress for the patience after the end of its run is terminated, ' +
    'named with its seq; a moving one is not',
  (t) => {
    const stuck = report(1, 0, { attempted: 41, lastCommittedSeq: 39, inFlight: 1 });
    const moving = report(2, 1, { attempted: 10 });
    const pool = fakePool([stuck, moving]);
    const dog = new ProducerWatchdog(pool, 1000, 500);
    dog.start(0);
    dog.stop();
    // Scheduled end: the slot's start (1 ms) + 1000 ms. Before end + patience: nothing, however quiet.
    for (let at = 0; at < 1_500 * MS; at += 50 * MS) {
      moving.attempted++;
      dog.check(1_000 + at);
    }
    t.deepEqual(pool.terminated, []);
    moving.attempted++;
    dog.check(1_000 + 1_500 * MS);
    t.deepEqual(
      pool.terminated.map(([id]) => id),
      [1],
    );
    t.is(
      pool.terminated[0]?.[1],
      'stuck on record seq 40 (in hand, not committed): no progress for 1500 ms after the end of its run',
    );
    // Once terminated, not again (its death is being handled).
    dog.check(1_000 + 1_600 * MS);
    t.is(pool.terminated.length, 1);
  },
);

test(
  'the stop request ends every run: a quiet producer is terminated a patience after it, ' +
    'named "after the stop request"',
  (t) => {
    const p = report(3, 0, { attempted: 5, lastCommittedSeq: 4 });
    const pool = fakePool([p]);
    const dog = new ProducerWatchdog(pool, Infinity, 300);
    dog.start(0);
    dog.stop();
    dog.check(100 * MS);
    t.deepEqual(pool.terminated, [], 'no scheduled end (--records): never before a stop request');
    dog.check(100_000 * MS);
    t.deepEqual(pool.terminated, []);
    dog.stopRequested(100_000 * MS);
    dog.check(100_299 * MS);
    t.deepEqual(pool.terminated, []);
    dog.check(100_300 * MS);
    t.deepEqual(pool.terminated, [[3, 'stuck after record seq 4: no progress for 100200 ms after the stop request']]);
  },
);

test('a producer still starting gets STARTING_PATIENCE_MS; finished and dead ones are left alone', (t) => {
  const starting = report(4, 0, { state: 'starting', startUs: 0 });
  const finished = report(5, 1, { state: 'finished' });
  const dead = report(6, 2, { state: 'dead' });
  const pool = fakePool([starting, finished, dead]);
  const dog = new ProducerWatchdog(pool, 1000, 200);
  dog.start(0);
  dog.stop();
  dog.check(0);
  dog.stopRequested(10 * MS);
  dog.check((10 + STARTING_PATIENCE_MS - 1) * MS);
  t.deepEqual(pool.terminated, []);
  dog.check((10 + STARTING_PATIENCE_MS) * MS);
  t.deepEqual(
    pool.terminated.map(([id]) => id),
    [4],
  );
  t.regex(
    pool.terminated[0]?.[1] ?? '',
    /^stuck before its first record \(its module's init\(\)\?\): no progress for \d+ ms after the stop request$/,
  );
});

test('a refused termination (no thread yet) is tried again at the next look', (t) => {
  const p = report(7, 0, { attempted: 1, inFlight: 1, lastCommittedSeq: -1 });
  let accept = false;
  const calls: number[] = [];
  const dog = new ProducerWatchdog(
    { liveStats: () => [p], terminateProducer: (id) => (calls.push(id), accept) },
    0,
    100,
  );
  dog.start(0);
  dog.stop();
  dog.check(0);
  dog.check(200 * MS);
  accept = true;
  dog.check(250 * MS);
  dog.check(300 * MS);
  t.deepEqual(calls, [7, 7]);
  t.is(describeStuck(p, 12.4, 'x'), 'stuck on record seq 0 (in hand, not committed): no progress for 12 ms after x');
});

test(
  'the stall watch: a heartbeat older than the threshold with data waiting is a stall; ' +
    'an empty ring or no stamp is not',
  (t) => {
    const ring = RingBuffer.create({ size: 4096 });
    const watch = new StallWatch([ring], 100, 0);
    t.is(watch.sample(), -1, 'never stamped');
    ring.stampConsumerHeartbeat(1);
    t.is(watch.sample(), -1, 'an old stamp, but nothing to read');
    ring.submit(ring.reserve(16));
    const age = watch.sample(2_000);
    t.true(age > 100, String(age));
    t.is(watch.current, age);
    t.is(watch.longest?.thresholdMs, 100);
    t.is(watch.longest?.firstAtSec, 2);
    t.true((watch.longest?.backlogBytes ?? 0) > 0);
    ring.stampConsumerHeartbeat();
    t.is(watch.sample(), -1, 'a fresh stamp');
    t.is(watch.current, -1);
    t.is(watch.longest?.maxAgeMs, age, 'the longest stall is kept');
  },
);
