/**
 * Overwrite mode (the kernel's BPF_F_RB_OVERWRITE, 2025) under concurrency: 2 producer workers
 * write as fast as they can into a small overwrite ring while a deliberately slow consumer worker
 * (a few records per pass, then a pause) reads it. Checked: every delivered record is intact (exact
 * length, every byte; the consumer copies each record and must never hand over a torn one), each
 * producer's sequence numbers strictly increase (gaps are overwritten records), and
 * delivered + lost == committed, with `lost` from the consumer's `ringCounters(0).lost` and
 * `committed` counted by the producers. Discards are off, so every overwritten record counts.
 */
import test from 'ava';
import { BPF_RB_OVERWRITE_POS, RingBuffer } from '@ringbuf/core';
import { seedFromEnv } from './helpers/prng.js';
import type { ConsumerReport } from './fixtures/stress-consumer.js';
import { firstFew, reports, startStress, type StressRun, sum } from './fixtures/stress-harness.js';
import { createControl } from './fixtures/stress-layout.js';
import type { ProducerReport } from './fixtures/stress-producer.js';

const PRODUCERS = 2;
const MIN_SIZE = 8;
const MAX_SIZE = 600;
const ATTEMPTS = 40_000;

/** Independent runs: a torn read needs a copy to overlap an overwrite, which not every run shows. */
const RUNS = 3;

for (let run = 1; run <= RUNS; run++) {
  test.serial(
    `run ${run}/${RUNS}: overwrite ring, 2 producers, slow consumer: intact records, increasing seqs, delivered + ` +
      `lost == committed`,
    async (t) => {
      const seed = seedFromEnv();
      t.log(`seed=${seed} (replay with RINGBUF_SEED=${seed})`);
      const ring = RingBuffer.create({ size: 8192, overwrite: true, producerId: 100 });
      const run: StressRun = {
        share: ring.share(),
        control: createControl(),
        producers: PRODUCERS,
        seed,
        minSize: MIN_SIZE,
        maxSize: MAX_SIZE,
      };
      const { consumer, producers } = startStress(run, { mode: 'overwrite', slow: { batch: 2, pauseMs: 0.1 } }, () => ({
        attempts: ATTEMPTS,
        discardRate: 0,
        outputRate: 0.5,
        flags: 'zero',
        kickOnFull: false,
        backoffMs: 0,
        countDone: true,
      }));
      const [c, ...ps] = (await reports<ConsumerReport | ProducerReport>(
        [consumer, ...producers],
        45_000,
        'overwrite run',
      )) as [ConsumerReport, ...ProducerReport[]];
      t.is(c.error, undefined, c.error);
      for (const p of ps) t.is(p.error, undefined, p.error);
      t.is(c.violationCount, 0, `${c.violationCount} bad record(s), first ones:\n  ${firstFew(c.violations)}`);
      const committed = sum(ps, (p) => p.committed);
      const delivered = sum(c.delivered, (n) => n);
      for (const p of ps) {
        // In overwrite mode a reservation fails only when it would overrun the other producer's BUSY record.
        t.is(p.committed + p.dropped, p.attempts, `producer ${p.index}: committed + dropped != attempted`);
        t.true(
          c.delivered[p.index]! <= p.committed,
          `producer ${p.index}: delivered ${c.delivered[p.index]} > committed ${p.committed}`,
        );
        t.true(
          c.lastSeq[p.index]! < p.committed,
          `producer ${p.index}: last seq ${c.lastSeq[p.index]} was never committed`,
        );
      }
      t.log(
        `committed ${committed}, delivered ${delivered}, lost ${c.ring.lost}, dropped ${sum(ps, (p) => p.dropped)}, ` +
          `overwrite_pos ${ring.query(BPF_RB_OVERWRITE_POS)}, consumer busy stalls ${c.ring.busyStalls}`,
      );
      t.is(delivered, c.ring.records, 'records counted by the consumer');
      t.is(
        delivered + c.ring.lost,
        committed,
        `delivered ${delivered} + lost ${c.ring.lost} != committed ${committed}`,
      );
      // Otherwise the run never exercised overwriting (or reading) and proves nothing.
      t.true(c.ring.lost > 0, 'no record was overwritten: the consumer was not slow enough');
      t.true(delivered > 0, 'nothing was delivered');
      t.is(c.finalConsPos, c.finalProdPos, 'consumer drained the ring');
      t.is(ring.lockHolder(), 0, 'reservation lock free at the end');
    },
  );
}
