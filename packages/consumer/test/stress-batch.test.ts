/**
 * Batched claim/publish under real threads. (1) Mixed producers: two use reserveBatch/batchOffset/
 * submitBatch/discardBatch (some batches partly committed record by record), two use reserve/submit
 * and output, into one ring drained by a Consumer worker: no loss, no duplicate, per-producer FIFO,
 * every byte intact, discarded batches skipped, exact accounting. (2) Producers killed mid-batch: a
 * batch producer is terminated at an arbitrary instruction, recoverProducer discards its BUSY
 * records, and the consumer still delivers every record it had committed, in order, none twice.
 * Bounded: fixed attempts, a watchdog on every report. Seeds are printed for replay.
 */
import test from 'ava';
import { BPF_RB_PROD_POS, RingBuffer } from '@ringbuf/core';
import { seedFromEnv } from './helpers/prng.js';
import {
  BATCH_CONTROL_BYTES,
  DELIVERED_INDEX,
  STOP_INDEX,
  committedIndex,
  doneIndex,
} from './fixtures/batch-layout.js';
import type { BatchConsumerConfig, BatchConsumerReport } from './fixtures/batch-consumer.js';
import type { BatchProducerConfig, BatchProducerReport } from './fixtures/batch-producer.js';
import { derive, firstFew, reports, start, sum, type Running } from './fixtures/stress-harness.js';

const PRODUCER = new URL('./fixtures/batch-producer.js', import.meta.url);
const CONSUMER = new URL('./fixtures/batch-consumer.js', import.meta.url);
const RING_SIZE = 64 * 1024;

function producerConfig(
  ring: RingBuffer,
  control: SharedArrayBuffer,
  index: number,
  seed: number,
  mode: 'batch' | 'single',
  attempts: number,
): BatchProducerConfig {
  return {
    share: ring.share(),
    control,
    index,
    producerId: index + 1,
    seed: derive(seed, index),
    attempts,
    mode,
    maxBatch: 64,
    maxSize: 120,
    discardRate: 0.1,
  };
}

/** Waits (bounded) until every listed producer stored DONE. */
async function allDone(ctrl: Int32Array, producers: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Observes each producer's DONE store.
  while (!producers.every((p) => Atomics.load(ctrl, doneIndex(p)) === 1)) {
    if (Date.now() > deadline) throw new Error(`producers ${producers.join(', ')} not done within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test.serial(
  '2 batch producers and 2 single-record producers into one ring: no loss, no duplicate, FIFO, intact, exact ' +
    'accounting',
  async (t) => {
    const seed = seedFromEnv();
    t.log(`seed=${seed} (replay with RINGBUF_SEED=${seed})`);
    const ring = RingBuffer.create({ size: RING_SIZE, producerId: 999 });
    const control = new SharedArrayBuffer(BATCH_CONTROL_BYTES);
    const ctrl = new Int32Array(control);
    const modes: Array<'batch' | 'single'> = ['batch', 'batch', 'single', 'single'];
    const consumer = start<BatchConsumerReport>('consumer', CONSUMER, {
      share: ring.share(),
      control,
      producers: modes.length,
      exact: modes.map(() => true),
      timeoutMs: 60_000,
    } satisfies BatchConsumerConfig);
    const producers: Running<BatchProducerReport>[] = modes.map((mode, i) =>
      start<BatchProducerReport>(
        `producer ${i}`,
        PRODUCER,
        producerConfig(ring, control, i, seed, mode, mode === 'batch' ? 1500 : 30_000),
      ),
    );
    const ps = await reports(producers, 60_000, 'batch producers');
    Atomics.store(ctrl, STOP_INDEX, 1);
    const [c] = await reports([consumer], 30_000, 'batch consumer');
    for (const p of ps) t.is(p.error, undefined, p.error);
    t.is(c!.error, undefined, c!.error);
    t.is(c!.violations.length, 0, `violations:\n  ${firstFew(c!.violations)}`);
    for (const p of ps) t.is(c!.delivered[p.index], p.committed, `producer ${p.index}: delivered = committed`);
    t.is(
      c!.discardedSkipped,
      sum(ps, (p) => p.discarded),
      'every discarded record skipped',
    );
    t.true(ps[0]!.batches > 100 && ps[1]!.batches > 100, `batches made: ${JSON.stringify(ps)}`);
    t.is(c!.finalConsPos, c!.finalProdPos);
    t.is(ring.lockHolder(), 0);
    t.log(
      `committed ${ps.map((p) => p.committed).join('/')}, discarded ${sum(ps, (p) => p.discarded)}, dropped ` +
        `${sum(ps, (p) => p.dropped)}, batches ${ps[0]!.batches + ps[1]!.batches}, bytes ` +
        `${ring.query(BPF_RB_PROD_POS)}`,
    );
  },
);

test.serial(
  'batch producers killed at random instructions: recovery discards the rest of their batches, nothing committed is ' +
    'lost, duplicated or reordered',
  async (t) => {
    const seed = seedFromEnv();
    t.log(`seed=${seed} (replay with RINGBUF_SEED=${seed})`);
    const MAX_ROUNDS = 16;
    let recoveredRecords = 0;
    let midBatchKills = 0;
    let round = 0;
    for (; round < MAX_ROUNDS && midBatchKills < 3; round++) {
      const ring = RingBuffer.create({ size: RING_SIZE, producerId: 999 });
      const control = new SharedArrayBuffer(BATCH_CONTROL_BYTES);
      const ctrl = new Int32Array(control);
      const VICTIM = 0;
      const consumer = start<BatchConsumerReport>('consumer', CONSUMER, {
        share: ring.share(),
        control,
        producers: 3,
        exact: [false, true, true],
        timeoutMs: 60_000,
      } satisfies BatchConsumerConfig);
      const roundSeed = derive(seed, round);
      const victim = start<BatchProducerReport>('victim', PRODUCER, {
        ...producerConfig(ring, control, VICTIM, roundSeed, 'batch', 1_000_000),
        fillPauseMs: 0.01,
      });
      const others = [1, 2].map((i) =>
        start<BatchProducerReport>(
          `producer ${i}`,
          PRODUCER,
          producerConfig(ring, control, i, roundSeed, i === 1 ? 'batch' : 'single', i === 1 ? 800 : 15_000),
        ),
      );
      // Kill the victim once the consumer has seen some traffic, at a moment the seed chooses.
      const killAfter = 2000 + (roundSeed % 20_000);
      const deadline = Date.now() + 20_000;
      // Observes the consumer's progress.
      while (Atomics.load(ctrl, DELIVERED_INDEX) < killAfter && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 1));
      await victim.worker.terminate();
      // Observes the victim's last published committed count: it committed at least this many.
      const committedAtLeast = Atomics.load(ctrl, committedIndex(VICTIM));
      const recovery = ring.recoverProducer(VICTIM + 1);
      t.true(recovery.recordsDiscarded >= 0, 'recovery took the lock');
      recoveredRecords += recovery.recordsDiscarded;
      if (recovery.recordsDiscarded > 0) midBatchKills++;
      const ps = await reports(others, 60_000, 'surviving producers');
      await allDone(ctrl, [1, 2], 10_000);
      Atomics.store(ctrl, STOP_INDEX, 1);
      const [c] = await reports([consumer], 30_000, 'consumer after a kill');
      t.is(c!.error, undefined, c!.error);
      t.is(c!.violations.length, 0, `round ${round}: violations:\n  ${firstFew(c!.violations)}`);
      // Every record the victim committed before its last published count is delivered, in order;
      // at most the records of the batch it was committing when it died come on top.
      t.true(
        c!.delivered[VICTIM]! >= committedAtLeast,
        `round ${round}: victim committed >= ${committedAtLeast}, delivered ${c!.delivered[VICTIM]}`,
      );
      t.true(
        c!.nextSeq[VICTIM]! - c!.gaps[VICTIM]! === c!.delivered[VICTIM],
        `round ${round}: victim's deliveries are distinct seqs`,
      );
      t.true(
        c!.delivered[VICTIM]! <= committedAtLeast + 64,
        `round ${round}: more than one batch beyond the published count`,
      );
      for (const p of ps)
        t.is(c!.delivered[p.index], p.committed, `round ${round}: producer ${p.index} delivered = committed`);
      t.is(c!.finalConsPos, c!.finalProdPos, `round ${round}: drained`);
      t.is(ring.lockHolder(), 0, `round ${round}: lock free`);
    }
    t.log(`${round} kills, ${midBatchKills} of them mid-batch, ${recoveredRecords} BUSY records discarded by recovery`);
    t.true(midBatchKills >= 1, 'no kill landed inside a batch: the recovery path was not exercised');
  },
);
