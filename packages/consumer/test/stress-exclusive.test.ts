/**
 * claimExclusive under real threads: producer workers take turns holding one ring exclusively (the
 * reservation lock kept for good, their reservations skipping it) while a consumer worker verifies
 * every record (instrumented: per-producer FIFO, no gap, no duplicate, owner word, every filler
 * byte). The holder writes a seeded mix of reserve + submit, reserve + discard, small outputs (copied
 * under the lock and published finished), large outputs and reserveBatch + submitBatch. Meanwhile
 * the other live producers keep trying reserve, tryReserve, reserveBatch, both outputs and
 * claimExclusive: every attempt must fail at once (never a lock wait, never a timeout), judged by
 * the hold protocol of fixtures/exclusive-layout.ts. Each turn ends either by the holder's
 * releaseExclusive (one seeded turn per round) or by terminating the holder at a seeded moment
 * mid-stream; the test thread then recovers it with recoverProducer (the lock must be recovered:
 * the holder held it) and the next producer claims the ring and continues.
 *
 * Accounting: each producer stores the committed count a commit will reach before it and the count
 * after it, so a terminated producer delivered from COMMITTED to INTENT records (its record in hand
 * may be abandoned). One documented exception: a producer killed inside submitBatch, after the plain
 * commits of the batch's later records and before the first one's compare-exchange, leaves those
 * later records committed and recovery discards the rest; that is one gap right at its committed
 * count, ending at its intent, of exactly the records recovery discarded.
 *
 * Bounded: 4 producers and one consumer per round, a few hundred to a few thousand records per turn,
 * a watchdog on every wait and report. Seeded: RINGBUF_SEED replays a run.
 */
import test from 'ava';
import { setTimeout as delay } from 'node:timers/promises';
import { OUTPUT_UNDER_LOCK_MAX, RESERVE_FAILED, RingBuffer, wakeConsumer } from '@ringbuf/core';
import { EventKind, INSTRUMENTED_HEADER_BYTES, clockMicros, writeInstrumented } from '@ringbuf/instrument';
import { mulberry32, seedFromEnv } from './helpers/prng.js';
import type { ExclusiveConsumerConfig, ExclusiveConsumerReport } from './fixtures/exclusive-consumer.js';
import {
  CONTEND_OPS,
  EPOCH_INDEX,
  FINISHED_INDEX,
  HOLD_INDEX,
  READY_INDEX,
  STATE_HOLDING,
  STATE_RELEASED,
  STOP_INDEX,
  TURN_INDEX,
  committedIndex,
  createExclusiveControl,
  discardIntentIndex,
  discardedIndex,
  failedOpIndex,
  failedUnderHoldIndex,
  intentIndex,
  racedSuccessIndex,
  slowestFailIndex,
  stateIndex,
  timedOutFailIndex,
  waitedFailIndex,
  wrongSuccessIndex,
} from './fixtures/exclusive-layout.js';
import type { ExclusiveProducerConfig, ExclusiveProducerReport } from './fixtures/exclusive-producer.js';
import { patternByte } from './fixtures/runtime-helpers.js';
import { derive, firstFew, reports, start, sum, type Running } from './fixtures/stress-harness.js';

const PRODUCER = new URL('./fixtures/exclusive-producer.js', import.meta.url);
const CONSUMER = new URL('./fixtures/exclusive-consumer.js', import.meta.url);
const ROUNDS = 2;
const PRODUCERS = 4;
const MAIN_ID = 100;
const RING_SIZE = 16 * 1024;
const MAX_SIZE = 512;
const MAX_BATCH = 8;
/** Long, so that a contender that waited for the lock instead of failing at once would stand out. */
const LOCK_TIMEOUT_MS = 2000;
const TIMEOUT_MS = 10_000;

/**
 * Waits (bounded) for a state that the test then asserts; never decides correctness by time. Fails
 * at once when `failed()` names a worker that reported an error or died unasked.
 */
async function waitFor(
  condition: () => boolean,
  failed: () => string | undefined,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    const failure = failed();
    if (failure !== undefined) throw new Error(`while waiting for ${what}: ${failure}`);
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(1);
  }
}

/** What the test thread saw of one killed holder. */
interface Kill {
  index: number;
  committed: number;
  intent: number;
  discarded: number;
  discardIntent: number;
  /** Records committed in its turn before the kill (at least the seeded threshold). */
  inTurn: number;
  lockHolderAtDeath: number;
  recovery: { lockRecovered: boolean; recordsDiscarded: number };
}

/** The test thread's own records (MAIN_ID, seq from 0), to prove the ring usable at the end. */
function mainRecord(bytes: Uint8Array, view: DataView, offset: number, size: number, seq: number): void {
  writeInstrumented(view, offset, MAIN_ID, seq, clockMicros(), 0, EventKind.Load, clockMicros());
  for (let i = INSTRUMENTED_HEADER_BYTES; i < size; i++) bytes[offset + i] = patternByte(MAIN_ID, seq, i);
}

for (let round = 0; round < ROUNDS; round++) {
  test.serial(
    `round ${round}: producers take turns holding the ring exclusively; the others fail at once; killed holders are ` +
      `recovered; nothing committed is lost, duplicated or reordered`,
    async (t) => {
      t.timeout(60_000);
      const seed = seedFromEnv();
      t.log(`seed=${seed} (replay with RINGBUF_SEED=${seed})`);
      const rng = mulberry32(derive(seed, 3000 + round));
      const ring = RingBuffer.create({ size: RING_SIZE, producerId: MAIN_ID, lockTimeoutMs: LOCK_TIMEOUT_MS });
      const control = createExclusiveControl();
      const ctrl = new Int32Array(control);
      // Observes a worker's published word (each is stored atomically by its one writer).
      const load = (index: number): number => Atomics.load(ctrl, index);
      const releaseTurn = rng.int(0, PRODUCERS - 1);
      const turnOps = Array.from({ length: PRODUCERS }, (_, p) => (p === releaseTurn ? rng.int(400, 1500) : Infinity));
      const started = performance.now();

      const consumer = start<ExclusiveConsumerReport>('consumer', CONSUMER, {
        share: ring.share(),
        control,
        maxSize: MAX_SIZE,
        maxExamples: 64,
        timeoutMs: 60_000,
      } satisfies ExclusiveConsumerConfig);
      const producers: Running<ExclusiveProducerReport>[] = [];
      for (let p = 0; p < PRODUCERS; p++) {
        producers.push(
          start<ExclusiveProducerReport>(`producer ${p}`, PRODUCER, {
            share: ring.share(),
            control,
            index: p,
            producerId: p + 1,
            seed: derive(seed, round, p),
            turnOps: turnOps[p]!,
            maxSize: MAX_SIZE,
            maxBatch: MAX_BATCH,
            lockTimeoutMs: LOCK_TIMEOUT_MS,
            contendPauseMs: 0.05,
            timeoutMs: TIMEOUT_MS,
          } satisfies ExclusiveProducerConfig),
        );
      }

      // The first worker that reported an error or died unasked (the killed ones are asked to die).
      let failure: string | undefined;
      const killed = new Set<number>();
      for (const [p, r] of [consumer, ...producers].entries()) {
        (r.report as Promise<{ error?: string }>).then(
          (report) => {
            if (report.error !== undefined) failure ??= report.error;
          },
          (error: unknown) => {
            if (!killed.has(p - 1)) failure ??= String(error);
          },
        );
      }
      const failed = (): string | undefined => failure;
      const kills: Kill[] = [];
      const mainRefusals: number[] = [];
      let survivorReports: ExclusiveProducerReport[];
      let c: ExclusiveConsumerReport;
      const mainStatsBefore = { ...ring.lockStats };
      try {
        await waitFor(() => load(READY_INDEX) === PRODUCERS, failed, TIMEOUT_MS, 'every producer to attach');
        for (let turn = 0; turn < PRODUCERS; turn++) {
          const committedBefore = load(committedIndex(turn));
          // Hands the turn to producer `turn` (it polls TURN between its contending attempts).
          Atomics.store(ctrl, TURN_INDEX, turn);
          if (turn === releaseTurn) {
            await waitFor(
              () => load(stateIndex(turn)) === STATE_RELEASED,
              failed,
              TIMEOUT_MS,
              `producer ${turn} to hand the ring over`,
            );
            continue;
          }
          await waitFor(
            () => load(stateIndex(turn)) === STATE_HOLDING,
            failed,
            TIMEOUT_MS,
            `producer ${turn} to claim the ring`,
          );
          const threshold = rng.int(50, 1500);
          await waitFor(
            () => load(committedIndex(turn)) - committedBefore >= threshold,
            failed,
            TIMEOUT_MS,
            `producer ${turn} to commit ${threshold} records in its turn`,
          );
          killed.add(turn);
          await producers[turn]!.worker.terminate();
          // Observes the dead holder's last published counts (its thread has exited).
          const kill: Kill = {
            index: turn,
            committed: load(committedIndex(turn)),
            intent: load(intentIndex(turn)),
            discarded: load(discardedIndex(turn)),
            discardIntent: load(discardIntentIndex(turn)),
            inTurn: load(committedIndex(turn)) - committedBefore,
            lockHolderAtDeath: ring.lockHolder(),
            recovery: { lockRecovered: false, recordsDiscarded: -1 },
          };
          // The dead holder still holds the ring: this thread, another producer, fails at once too.
          const waits = ring.lockStats.waits;
          const before = performance.now();
          const refused =
            ring.tryReserve(16) === RESERVE_FAILED &&
            ring.reserve(16) === RESERVE_FAILED &&
            !ring.output(new Uint8Array(16), 0);
          mainRefusals.push(refused && ring.lockStats.waits === waits ? performance.now() - before : Infinity);
          // Ends the dead holder's hold as the layout's protocol says: HOLD cleared, EPOCH bumped,
          // then the lock freed (by the recovery).
          Atomics.store(ctrl, HOLD_INDEX, 0);
          // Counts the end of this hold; pairs with the contenders' second EPOCH load.
          Atomics.add(ctrl, EPOCH_INDEX, 1);
          kill.recovery = ring.recoverProducer(turn + 1);
          kills.push(kill);
        }
        // Every turn is over: the live producers stop contending and report.
        Atomics.store(ctrl, FINISHED_INDEX, 1);
        survivorReports = await reports(
          producers.filter((_, p) => p === releaseTurn),
          TIMEOUT_MS,
          'the producer that handed over',
        );
        // The ring is usable at the end: exclusively, then as an ordinary locking producer. The
        // consumer may still be draining the last turns' records: a full ring is retried, bounded.
        let fullRetries = 0;
        const fit = async (attempt: () => boolean, what: string): Promise<void> => {
          for (let retries = 0; !attempt(); retries++, fullRetries++) {
            const failure = failed();
            if (failure !== undefined) throw new Error(`while the test thread wrote ${what}: ${failure}`);
            if (retries > 2000) {
              throw new Error(
                `the test thread's ${what} failed ${retries} times: producer_pos ${ring.producerPos()}, ` +
                  `consumer_pos ${ring.consumerPos()}, lock holder ${ring.lockHolder()}`,
              );
            }
            wakeConsumer(ring.wake);
            await delay(1);
          }
        };
        t.true(ring.claimExclusive(), 'the test thread claims the ring after the last turn');
        const small = new Uint8Array(OUTPUT_UNDER_LOCK_MAX);
        mainRecord(small, new DataView(small.buffer), 0, small.length, 0);
        await fit(() => ring.output(small, 0), 'a small output, exclusive');
        ring.releaseExclusive();
        const size = MAX_SIZE;
        let off = RESERVE_FAILED;
        await fit(() => (off = ring.reserve(size)) !== RESERVE_FAILED, 'a reservation as an ordinary producer');
        mainRecord(ring.data, ring.view, off, size, 1);
        ring.submit(off);
        const large = new Uint8Array(OUTPUT_UNDER_LOCK_MAX + 1);
        mainRecord(large, new DataView(large.buffer), 0, large.length, 2);
        await fit(() => ring.output(large, 0), 'a large output');
        t.log(`the test thread's last three records fitted after ${fullRetries} full retries`);
        // Lets the consumer stop once it has drained the ring (our records included).
        Atomics.store(ctrl, STOP_INDEX, 1);
        [c] = (await reports([consumer], TIMEOUT_MS, 'consumer')) as [ExclusiveConsumerReport];
      } catch (error) {
        await Promise.all([consumer, ...producers].map((r) => r.worker.terminate()));
        throw error;
      }
      const elapsed = performance.now() - started;
      const v = c.verifier;
      const summary = (id: number) =>
        v.producers.find((s) => s.producerId === id) ?? { producerId: id, records: 0, nextSeq: 0, missing: 0 };

      // Contention, from every producer's CONTENDED line (the killed ones' too).
      const all = Array.from({ length: PRODUCERS }, (_, p) => p);
      const failedUnderHold = sum(all, (p) => load(failedUnderHoldIndex(p)));
      const byOp = CONTEND_OPS.map((_, op) => sum(all, (p) => load(failedOpIndex(p, op))));
      const wrong = sum(all, (p) => load(wrongSuccessIndex(p)));
      const raced = sum(all, (p) => load(racedSuccessIndex(p)));
      const waited = sum(all, (p) => load(waitedFailIndex(p)));
      const timedOut = sum(all, (p) => load(timedOutFailIndex(p)));
      const slowestMs = Math.max(...all.map((p) => load(slowestFailIndex(p)))) / 1000;
      const released = survivorReports[0]!;
      t.log(
        `${PRODUCERS} turns in ${elapsed.toFixed(0)} ms: producer ${releaseTurn} handed over after ` +
          `${released.committed} commits ` +
          `(${released.submits} submits, ${released.discards} discards, ${released.smallOutputs} small and ` +
          `${released.largeOutputs} large outputs, ` +
          `${released.batches} batches of ${released.batchRecords} records, ${released.fullRetries} full retries); ` +
          kills
            .map(
              (k) =>
                `producer ${k.index} killed after ${k.inTurn} commits in its turn, ` +
                `recovery ${JSON.stringify(k.recovery)}`,
            )
            .join('; '),
      );
      t.log(
        `contention: ${failedUnderHold} attempts failed under a hold ` +
          `(${CONTEND_OPS.map((name, op) => `${name} ${byOp[op]}`).join(', ')}), ` +
          `slowest ${slowestMs.toFixed(3)} ms; ${raced} raced the end of a hold and succeeded rightly; test thread ` +
          `refused in ` +
          `${mainRefusals.map((ms) => ms.toFixed(3)).join(', ')} ms; consumer: ${c.records} records, ${c.discarded} ` +
          `discarded skipped, ${c.busyStalls} BUSY stalls`,
      );

      t.is(c.error, undefined, c.error);
      t.is(released.error, undefined, released.error);
      t.is(c.badLengths, 0, 'records of a length no producer writes');

      // Others failed at once while a producer held the ring.
      t.is(wrong, 0, 'an attempt succeeded while another producer held the ring exclusively');
      t.is(waited, 0, 'a failing attempt waited for the lock');
      t.is(timedOut, 0, 'a failing attempt timed out on the lock');
      t.true(
        slowestMs < LOCK_TIMEOUT_MS / 2,
        `the slowest failing attempt took ${slowestMs} ms (lock timeout ${LOCK_TIMEOUT_MS} ms)`,
      );
      for (const [op, name] of CONTEND_OPS.entries())
        t.true(byOp[op]! > 0, `no contending ${name} was tried under a hold`);
      t.is(mainRefusals.length, kills.length);
      for (const ms of mainRefusals)
        t.true(
          ms < LOCK_TIMEOUT_MS / 2,
          `the test thread's refusal by a dead exclusive holder took ${ms} ms or waited`,
        );
      t.deepEqual(
        { ...ring.lockStats, contended: 0 },
        { ...mainStatsBefore, contended: 0 },
        'the test thread never waited for the lock',
      );

      // The handover: exclusive reservations never touched the lock; every kind of operation was made.
      t.true(released.released);
      t.deepEqual(released.statsAtRelease, released.statsAtClaim, 'an exclusive reservation went through the lock');
      for (const [what, n] of Object.entries({
        submits: released.submits,
        discards: released.discards,
        'small outputs': released.smallOutputs,
        'large outputs': released.largeOutputs,
        batches: released.batches,
      })) {
        t.true(n > 0, `the handing-over producer made no ${what}`);
      }

      // Every kill recovered: the dead holder held the lock, recovery freed it.
      t.is(kills.length, PRODUCERS - 1);
      for (const k of kills) {
        t.is(k.lockHolderAtDeath, k.index + 1, `producer ${k.index} held the lock when it died`);
        t.true(k.recovery.lockRecovered, `producer ${k.index}: the lock it held was not recovered`);
        t.true(
          k.recovery.recordsDiscarded >= 0 && k.recovery.recordsDiscarded <= MAX_BATCH,
          `producer ${k.index}: recovery discarded ${k.recovery.recordsDiscarded}`,
        );
      }
      t.deepEqual(ring.recoveryCounts(), {
        locks: kills.length,
        records: sum(kills, (k) => k.recovery.recordsDiscarded),
      });

      // Delivery: no duplicate, reorder, torn record or foreign owner; gaps only the documented one.
      t.is(v.duplicates, 0, `duplicates: ${firstFew(v.examples.map((e) => JSON.stringify(e)))}`);
      t.is(v.reorders, 0, 'reordered records');
      t.is(
        v.torn,
        0,
        `torn records: ${firstFew(v.examples.filter((e) => e.kind === 'torn').map((e) => JSON.stringify(e)))}`,
      );
      t.is(v.ownerMismatches, 0, 'a record framed with another producer id than its payload');
      t.is(v.producerErrors + v.causal, 0);
      let allowedGaps = 0;
      for (const e of v.examples.filter((x) => x.kind === 'gap')) {
        const k = kills.find((x) => x.index + 1 === e.producerId);
        const ok =
          k !== undefined &&
          e.expected === k.committed &&
          e.got < k.intent &&
          summary(e.producerId).nextSeq === k.intent &&
          e.got - e.expected === k.recovery.recordsDiscarded;
        t.true(ok, `producer ${e.producerId - 1}: records ${e.expected} to ${e.got - 1} lost (${JSON.stringify(k)})`);
        if (ok) allowedGaps++;
      }
      t.is(v.gaps, allowedGaps, 'more gaps than examples kept');
      if (allowedGaps > 0)
        t.log(
          `${allowedGaps} holder(s) killed inside submitBatch: the batch's later records committed, the rest ` +
            `discarded by recovery`,
        );
      for (const k of kills) {
        const s = summary(k.index + 1);
        t.true(
          s.nextSeq >= k.committed && s.nextSeq <= k.intent,
          `producer ${k.index}: delivered up to seq ${s.nextSeq - 1}, committed ${k.committed}, intent ${k.intent}`,
        );
        t.true(
          s.records >= k.committed,
          `producer ${k.index}: delivered ${s.records} records, committed ${k.committed}`,
        );
      }
      const s = summary(releaseTurn + 1);
      t.is(s.records, released.committed, `producer ${releaseTurn} (handed over): delivered != committed`);
      t.is(s.nextSeq, released.committed);
      t.is(load(committedIndex(releaseTurn)), released.committed);
      t.deepEqual(
        [summary(MAIN_ID).records, summary(MAIN_ID).nextSeq],
        [3, 3],
        "the test thread's records after the last turn",
      );
      t.is(c.records, v.records);

      // Discards: every published discard and every recovered record skipped, at most the in-hand ones more.
      const recovered = sum(kills, (k) => k.recovery.recordsDiscarded);
      const lower = recovered + sum(all, (p) => load(discardedIndex(p)));
      const upper = recovered + sum(all, (p) => load(discardIntentIndex(p)));
      t.true(
        c.discarded >= lower && c.discarded <= upper,
        `discarded skipped ${c.discarded}, expected ${lower} to ${upper}`,
      );

      // The ring at the end: drained, lock free.
      t.is(c.finalConsPos, c.finalProdPos, 'consumer drained the ring');
      t.is(ring.lockHolder(), 0, 'reservation lock free afterwards');
      t.false(ring.isExclusive);
    },
  );
}
