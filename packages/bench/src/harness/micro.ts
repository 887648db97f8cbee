/**
 * Micro-operations on one thread with tinybench. Each task runs a tight loop of `OPS` operations so
 * tinybench's own per-iteration overhead (about 45 ns) stays out of the per-op figure.
 */
import { Bench } from 'tinybench';
import { BPF_RB_NO_WAKEUP, RingBuffer } from '@ringbuf/core';
import { Consumer } from '@ringbuf/consumer';
import type { MicroResult } from '../scenarios/types.js';

/** Operations per tinybench iteration. */
const OPS = 1000;
const PAYLOAD = 16;

/** Thread: main. */
export async function runMicro(timeMs: number): Promise<MicroResult[]> {
  const rings = microRings();
  const bench = new Bench({ time: timeMs, warmupTime: Math.max(10, timeMs / 4) });
  addProducerTasks(bench, rings);
  addConsumerTasks(bench, rings);
  await bench.run();
  rings.consumer.close();
  rings.passConsumer.close();
  const out = microResults(bench);
  if (rings.seen() === 0) throw new Error('consumer walk delivered nothing');
  return out;
}

/** The rings and consumers the micro tasks run on. */
interface MicroRings {
  ring: RingBuffer;
  payload: Uint8Array;
  /** Frees `ring` between iterations by moving consumer_pos to producer_pos (no consumer runs). */
  drain: () => void;
  /** The same operations by a producer that holds its ring exclusively (claimExclusive: no lock). */
  exclRing: RingBuffer;
  /** Frees `exclRing` as drain() does `ring`. */
  drainExcl: () => void;
  walkRing: RingBuffer;
  consumer: Consumer;
  /** A consumer that publishes consumer_pos once per pass (the kernel bench's rb-custom). */
  passRing: RingBuffer;
  passConsumer: Consumer;
  /** Records the two consumers delivered. */
  seen: () => number;
}

/** The micro tasks' rings and consumers. */
function microRings(): MicroRings {
  const ring = RingBuffer.create({ size: 512 * 1024 });
  const payload = new Uint8Array(PAYLOAD);
  const drain = (): void => {
    // Releases all space, as a consumer that read everything would (the accessors name their pairs).
    ring.publishConsumerPos(ring.producerPos());
  };
  const walkRing = RingBuffer.create({ size: 512 * 1024 });
  let seen = 0;
  const consumer = new Consumer(walkRing, () => {
    seen++;
  });
  const exclRing = RingBuffer.create({ size: 512 * 1024 });
  if (!exclRing.claimExclusive()) throw new Error('could not claim the micro ring exclusively');
  const drainExcl = (): void => {
    // Releases all space, as drain() does.
    exclRing.publishConsumerPos(exclRing.producerPos());
  };
  const passRing = RingBuffer.create({ size: 512 * 1024 });
  const passConsumer = new Consumer(
    passRing,
    () => {
      seen++;
    },
    { publish: 'pass' },
  );
  return { ring, payload, drain, exclRing, drainExcl, walkRing, consumer, passRing, passConsumer, seen: () => seen };
}

/** The producer's operations and the lock's fast path, OPS a task iteration. */
function addProducerTasks(bench: Bench, { ring, payload, drain, exclRing, drainExcl }: MicroRings): void {
  const lockWord = new Int32Array(new SharedArrayBuffer(128));
  bench
    .add('reserve+submit (16 B)', () => {
      for (let i = 0; i < OPS; i++) {
        const off = ring.reserve(PAYLOAD);
        ring.submit(off, BPF_RB_NO_WAKEUP);
      }
      drain();
    })
    .add('reserve+copy+submit (16 B)', () => {
      for (let i = 0; i < OPS; i++) {
        const off = ring.reserve(PAYLOAD);
        ring.data.set(payload, off);
        ring.submit(off, BPF_RB_NO_WAKEUP);
      }
      drain();
    })
    .add('output (16 B)', () => {
      for (let i = 0; i < OPS; i++) ring.output(payload, BPF_RB_NO_WAKEUP);
      drain();
    })
    .add('reserve+copy+submit (16 B), exclusive producer', () => {
      for (let i = 0; i < OPS; i++) {
        const off = exclRing.reserve(PAYLOAD);
        exclRing.data.set(payload, off);
        exclRing.submit(off, BPF_RB_NO_WAKEUP);
      }
      drainExcl();
    })
    .add('output (16 B), exclusive producer', () => {
      for (let i = 0; i < OPS; i++) exclRing.output(payload, BPF_RB_NO_WAKEUP);
      drainExcl();
    })
    .add('tryReserve+discard (lock taken and released)', () => {
      for (let i = 0; i < OPS; i++) ring.discard(ring.tryReserve(0), BPF_RB_NO_WAKEUP);
      drain();
    })
    .add('lock fast path (CAS acquire + exchange release)', () => {
      for (let i = 0; i < OPS; i++) {
        // The lock's uncontended acquire and release, as lock.ts does them.
        Atomics.compareExchange(lockWord, 0, 0, 2);
        Atomics.exchange(lockWord, 0, 0);
      }
    });
}

/** The consumer's walk, per record: consumer_pos per record and per pass. */
function addConsumerTasks(bench: Bench, { walkRing, consumer, passRing, passConsumer }: MicroRings): void {
  bench
    .add(
      'consumer walk per record (consume())',
      () => {
        consumer.consume();
      },
      {
        beforeEach() {
          for (let i = 0; i < OPS; i++) walkRing.submit(walkRing.reserve(PAYLOAD), BPF_RB_NO_WAKEUP);
        },
      },
    )
    .add(
      'consumer walk per record, consumer_pos per pass',
      () => {
        passConsumer.consume();
      },
      {
        beforeEach() {
          for (let i = 0; i < OPS; i++) passRing.submit(passRing.reserve(PAYLOAD), BPF_RB_NO_WAKEUP);
        },
      },
    );
}

/**
 * Each task's mean per operation.
 * @throws Error when a task did not complete.
 */
function microResults(bench: Bench): MicroResult[] {
  const out: MicroResult[] = [];
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') {
      throw new Error(`micro task "${task.name}" ${r.state}${r.state === 'errored' ? `: ${r.error.message}` : ''}`);
    }
    out.push({ name: task.name, nsPerOp: (r.latency.mean * 1e6) / OPS, rmePercent: r.latency.rme, opsPerTask: OPS });
  }
  return out;
}
