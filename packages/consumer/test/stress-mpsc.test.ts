/**
 * Many producers, one consumer, real threads: 4 producer workers (more than the 2 cores) with
 * per-producer sequence numbers, seeded random payload sizes (8..600 bytes), ~10% discards, random
 * wakeup flags, reserve + submit and output mixed, into one ring drained by a consumer worker in a
 * `poll(-1)` loop. Checked: no loss, no duplicate, per-producer FIFO, every payload byte intact,
 * exact lengths, and committed + discarded + dropped == attempted per producer. Run once from
 * position 0 and once from 2^32 - 64 KiB so that the positions cross the 32-bit wrap.
 *
 * Liveness with NO_WAKEUP commits: the kernel leaves the wakeup to the producer then (D1), so a
 * producer that finds the ring full wakes the consumer if it sleeps, and each producer's final DONE
 * record is submitted with BPF_RB_FORCE_WAKEUP.
 */
import test, { type ExecutionContext } from 'ava';
import { BPF_RB_FORCE_WAKEUP, BPF_RB_PROD_POS, RingBuffer } from '@ringbuf/core';
import { seedFromEnv } from './helpers/prng.js';
import type { ConsumerReport } from './fixtures/stress-consumer.js';
import { firstFew, reports, startStress, type StressRun, sum } from './fixtures/stress-harness.js';
import { createControl } from './fixtures/stress-layout.js';
import type { ProducerReport } from './fixtures/stress-producer.js';

const PRODUCERS = 4;
const MIN_SIZE = 8;
const MAX_SIZE = 600;
const RING_SIZE = 16 * 1024;

async function runMpsc(
  t: ExecutionContext,
  seed: number,
  startPos: number,
  attempts: number,
): Promise<{ ring: RingBuffer; totalBytes: number }> {
  const ring = RingBuffer.create({ size: RING_SIZE, startPos, producerId: 100 });
  const run: StressRun = {
    share: ring.share(),
    control: createControl(),
    producers: PRODUCERS,
    seed,
    minSize: MIN_SIZE,
    maxSize: MAX_SIZE,
  };
  const { consumer, producers } = startStress(run, {}, () => ({
    attempts,
    discardRate: 0.1,
    outputRate: 0.4,
    flags: 'random',
    kickOnFull: true,
    backoffMs: 0.02,
    doneRecord: { flags: BPF_RB_FORCE_WAKEUP, timeoutMs: 10_000 },
    countDone: false,
  }));
  const [c, ...ps] = (await reports<ConsumerReport | ProducerReport>([consumer, ...producers], 45_000, 'mpsc run')) as [
    ConsumerReport,
    ...ProducerReport[],
  ];
  t.is(c.error, undefined, c.error);
  for (const p of ps) t.is(p.error, undefined, p.error);
  t.is(c.violationCount, 0, `${c.violationCount} bad record(s), first ones:\n  ${firstFew(c.violations)}`);
  const problems: string[] = [];
  for (const p of ps) {
    if (p.attempts !== attempts)
      problems.push(`producer ${p.index}: made ${p.attempts} attempts, expected ${attempts}`);
    if (p.committed + p.discarded + p.dropped !== p.attempts) {
      problems.push(
        `producer ${p.index}: committed ${p.committed} + discarded ${p.discarded} + dropped ${p.dropped} != ` +
          `attempted ${p.attempts}`,
      );
    }
    if (c.delivered[p.index] !== p.committed)
      problems.push(`producer ${p.index}: committed ${p.committed}, delivered ${c.delivered[p.index]}`);
    if (c.doneSeq[p.index] !== p.committed)
      problems.push(`producer ${p.index}: DONE record says ${c.doneSeq[p.index]}, committed ${p.committed}`);
  }
  t.is(problems.length, 0, `accounting violations:\n  ${firstFew(problems)}`);
  const committed = sum(ps, (p) => p.committed);
  t.true(committed > 0, 'no record was committed: the run proves nothing');
  // The consumer skips every discarded record and delivers every committed one plus the DONEs.
  t.is(
    c.ring.discarded,
    sum(ps, (p) => p.discarded),
    'discarded records skipped by the consumer',
  );
  t.is(c.ring.records, committed + PRODUCERS, 'records delivered (data + one DONE per producer)');
  t.is(c.finalConsPos, c.finalProdPos, 'consumer drained the ring');
  t.is(ring.lockHolder(), 0, 'reservation lock free at the end');
  const totalBytes = (ring.query(BPF_RB_PROD_POS) - (startPos | 0)) >>> 0;
  t.log(
    `committed ${committed}, discarded ${sum(ps, (p) => p.discarded)}, dropped ${sum(ps, (p) => p.dropped)}, ` +
      `lock timeouts ${sum(ps, (p) => p.lockTimeouts)}, bytes ${totalBytes}; consumer polls ${c.counters.polls}, ` +
      `sleeps ${c.counters.sleeps}, notifies ${c.wakeNotifies}, busy stalls ${c.ring.busyStalls}`,
  );
  return { ring, totalBytes };
}

test.serial(
  '4 producers, random sizes/discards/flags, reserve+submit and output: no loss, no duplicate, FIFO, intact',
  async (t) => {
    const seed = seedFromEnv();
    t.log(`seed=${seed} (replay with RINGBUF_SEED=${seed})`);
    await runMpsc(t, seed, 0, 40_000);
  },
);

test.serial('same, started at 2^32 - 64 KiB: positions cross the 32-bit wrap mid-run', async (t) => {
  const seed = seedFromEnv();
  t.log(`seed=${seed} (replay with RINGBUF_SEED=${seed})`);
  const startPos = 2 ** 32 - 64 * 1024;
  const { ring, totalBytes } = await runMpsc(t, seed, startPos, 20_000);
  // Crossed the wrap: more than 64 KiB went through, so the unsigned producer_pos is now below start.
  t.true(totalBytes > 64 * 1024, `only ${totalBytes} bytes produced: the wrap was not crossed`);
  t.true(ring.query(BPF_RB_PROD_POS) < startPos, `producer_pos ${ring.query(BPF_RB_PROD_POS)} did not wrap past 2^32`);
});
