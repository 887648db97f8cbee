/**
 * Crash-ish: a producer worker is terminated (`worker.terminate()`) while two other producers and
 * the consumer keep running. Afterwards the main thread, through its own handle with a distinct
 * producer id, calls `ring.recoverProducer(deadId)` and writes a DONE record on the dead producer's
 * behalf. The consumer must then deliver everything the survivors committed and everything the dead
 * producer committed (a contiguous prefix of its sequence: it publishes its committed count after
 * each submit, so the count seen after the kill is exact or one short), nothing it did not commit,
 * and the lock must end free.
 *
 * Rounds: the victim dies holding a reserved BUSY record (deterministically), holding the
 * reservation lock (deterministically; it takes the lock word exactly as reserve() does), and at
 * seeded random moments of normal production.
 */
import test from 'ava';
import { setTimeout as delay } from 'node:timers/promises';
import { BPF_RB_FORCE_WAKEUP, RingBuffer } from '@ringbuf/core';
import { mulberry32, seedFromEnv } from './helpers/prng.js';
import type { ConsumerReport } from './fixtures/stress-consumer.js';
import {
  consumerConfig,
  derive,
  firstFew,
  reports,
  type Running,
  start,
  type StressRun,
  sum,
} from './fixtures/stress-harness.js';
import {
  VICTIM_HOLDING_LOCK,
  VICTIM_HOLDING_RECORD,
  VICTIM_RUNNING,
  VICTIM_STATE_INDEX,
  committedIndex,
  createControl,
  discardedIndex,
} from './fixtures/stress-layout.js';
import type { ProducerConfig, ProducerReport } from './fixtures/stress-producer.js';
import { KIND_DONE, REC_MIN_BYTES, SEQ_UNKNOWN, writeRecord } from './fixtures/stress-record.js';

const PRODUCER = new URL('./fixtures/stress-producer.js', import.meta.url);
const CONSUMER = new URL('./fixtures/stress-consumer.js', import.meta.url);
const SURVIVORS = 2;
const PRODUCERS = SURVIVORS + 1;
const VICTIM = SURVIVORS;
const VICTIM_ID = VICTIM + 1;
const MAIN_ID = 100;
const MIN_SIZE = 8;
const MAX_SIZE = 600;
const SURVIVOR_ATTEMPTS = 8_000;
const MODES = ['record', 'lock', 'random', 'random', 'record', 'random'] as const;

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(1);
  }
}

for (const [round, mode] of MODES.entries()) {
  test.serial(
    `round ${round}: victim terminated ${mode === 'random' ? 'at a random moment' : `holding a ${mode}`}; recovery, ` +
      `then everything committed is delivered`,
    async (t) => {
      const seed = seedFromEnv();
      t.log(`seed=${seed} (replay with RINGBUF_SEED=${seed})`);
      const rng = mulberry32(derive(seed, 1000 + round));
      const ring = RingBuffer.create({ size: 16 * 1024, producerId: MAIN_ID });
      const control = createControl();
      const ctrl = new Int32Array(control);
      const run: StressRun = {
        share: ring.share(),
        control,
        producers: PRODUCERS,
        seed,
        minSize: MIN_SIZE,
        maxSize: MAX_SIZE,
      };
      const parties = PRODUCERS + 1;
      const consumer = start<ConsumerReport>('consumer', CONSUMER, consumerConfig(run));
      const common = {
        share: ring.share(),
        control,
        seed,
        minSize: MIN_SIZE,
        maxSize: MAX_SIZE,
        discardRate: 0.1,
        outputRate: 0.4,
        flags: 'random' as const,
        parties,
        barrierTimeoutMs: 10_000,
        kickOnFull: true,
        backoffMs: 0.02,
        countDone: false,
      };
      const survivors: Running<ProducerReport>[] = [];
      for (let p = 0; p < SURVIVORS; p++) {
        survivors.push(
          start<ProducerReport>(`producer ${p}`, PRODUCER, {
            ...common,
            index: p,
            producerId: p + 1,
            streamSeed: derive(seed, round, p),
            attempts: SURVIVOR_ATTEMPTS,
            doneRecord: { flags: BPF_RB_FORCE_WAKEUP, timeoutMs: 10_000 },
          } satisfies ProducerConfig),
        );
      }
      const holdAfter = rng.int(20, 400);
      const victim = start<ProducerReport>('victim', PRODUCER, {
        ...common,
        index: VICTIM,
        producerId: VICTIM_ID,
        streamSeed: derive(seed, round, VICTIM),
        attempts: 2 ** 30,
        victim: {
          holdAfter: mode === 'random' ? Infinity : holdAfter,
          hold: mode === 'random' ? 'none' : mode,
          maxSpin: 20_000,
        },
      } satisfies ProducerConfig);

      let recovery: { lockRecovered: boolean; recordsDiscarded: number };
      let committedAtDeath: number;
      let discardedAtDeath: number;
      try {
        // Observes the victim's published state and counts (polled; the kill moment needs no precision).
        if (mode === 'random') {
          const threshold = rng.int(50, 1500);
          await waitFor(
            () => Atomics.load(ctrl, committedIndex(VICTIM)) >= threshold,
            20_000,
            `victim to commit ${threshold} records`,
          );
        } else {
          await waitFor(
            () => Atomics.load(ctrl, VICTIM_STATE_INDEX) !== VICTIM_RUNNING,
            20_000,
            `victim to hold a ${mode}`,
          );
        }
        await victim.worker.terminate();
        // Observes the dead victim's last published counts (its thread has exited).
        committedAtDeath = Atomics.load(ctrl, committedIndex(VICTIM));
        discardedAtDeath = Atomics.load(ctrl, discardedIndex(VICTIM));
        recovery = ring.recoverProducer(VICTIM_ID);
        // DONE on the dead producer's behalf: after its last committed record in position order.
        const deadline = performance.now() + 10_000;
        for (;;) {
          const offset = ring.reserve(REC_MIN_BYTES);
          if (offset >= 0) {
            writeRecord(ring.data, offset, REC_MIN_BYTES, KIND_DONE, VICTIM, SEQ_UNKNOWN);
            ring.submit(offset, BPF_RB_FORCE_WAKEUP);
            break;
          }
          if (performance.now() > deadline) throw new Error('the DONE record for the victim never fit');
          await delay(1);
        }
      } catch (error) {
        await Promise.all([consumer, ...survivors, victim].map((r) => r.worker.terminate()));
        throw error;
      }
      const [c, ...ps] = (await reports<ConsumerReport | ProducerReport>(
        [consumer, ...survivors],
        45_000,
        'crash run',
      )) as [ConsumerReport, ...ProducerReport[]];
      // Observes what the victim was doing when it died (for the log and the exactness check below).
      const state = Atomics.load(ctrl, VICTIM_STATE_INDEX);
      t.log(
        `victim died after ${committedAtDeath} commits (state ${state}); recovery: ` +
          `lock ${recovery.lockRecovered ? 'recovered' : 'was not held'}, ${recovery.recordsDiscarded} BUSY ` +
          `record(s) discarded; ` +
          `survivors committed ${sum(ps, (p) => p.committed)}, dropped ${sum(ps, (p) => p.dropped)}, lock timeouts ` +
          `${sum(ps, (p) => p.lockTimeouts)}`,
      );
      t.is(c.error, undefined, c.error);
      for (const p of ps) t.is(p.error, undefined, p.error);
      t.is(c.violationCount, 0, `${c.violationCount} bad record(s), first ones:\n  ${firstFew(c.violations)}`);

      t.true(recovery.recordsDiscarded >= 0, 'recovery could not take the lock');
      if (mode === 'record') t.is(recovery.recordsDiscarded, 1, 'the held BUSY record was discarded');
      if (mode === 'lock') t.true(recovery.lockRecovered, 'the lock held by the dead producer was freed');
      t.true(recovery.recordsDiscarded <= 1, 'a producer holds at most one BUSY record at a time');
      if (state === VICTIM_HOLDING_RECORD || state === VICTIM_HOLDING_LOCK) {
        t.is(c.delivered[VICTIM], committedAtDeath, 'a holding victim published its exact committed count');
      }

      for (const p of ps) {
        t.is(
          p.committed + p.discarded + p.dropped,
          p.attempts,
          `survivor ${p.index}: committed + discarded + dropped != attempted`,
        );
        t.is(c.delivered[p.index], p.committed, `survivor ${p.index}: delivered != committed`);
      }
      // The victim may have died between a commit and publishing it: exact or one more.
      const victimDelivered = c.delivered[VICTIM]!;
      t.true(
        victimDelivered === committedAtDeath || victimDelivered === committedAtDeath + 1,
        `victim: delivered ${victimDelivered}, published committed count ${committedAtDeath}`,
      );
      t.true(committedAtDeath > 0, 'the victim committed nothing before it died: the round proves little');
      const victimDiscards = c.ring.discarded - sum(ps, (p) => p.discarded) - recovery.recordsDiscarded;
      t.true(
        victimDiscards === discardedAtDeath || victimDiscards === discardedAtDeath + 1,
        `discarded records skipped by the consumer do not add up: victim's share ${victimDiscards}, published ` +
          `${discardedAtDeath}`,
      );
      t.is(c.ring.records, sum(c.delivered, (n) => n) + PRODUCERS, 'records delivered (data + one DONE per producer)');
      t.is(c.finalConsPos, c.finalProdPos, 'consumer drained the ring');
      t.is(ring.lockHolder(), 0, 'reservation lock free afterwards');
      t.deepEqual(ring.recoveryCounts(), { locks: recovery.lockRecovered ? 1 : 0, records: recovery.recordsDiscarded });
    },
  );
}
