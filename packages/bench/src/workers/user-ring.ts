/**
 * The user-ring group's worker (harness/main-producer.ts starts it; the main thread produces).
 *
 * drainer: the kernel's BPF program as a thread, paced as the kernel ring's bench consumer
 *          (workers/consumer.ts, Consumer.poll(-1)): `drain` (flags 0), counting records in its
 *          callback and publishing the count every 1024 records and after each drain; after a
 *          drain that delivered, a pause of about 1 µs on a private word before the next (poll's
 *          pass pause: draining again at once reads each record while main still writes it and
 *          pulls its cache lines away mid-record); after an empty one, `waitForData` (some 4 µs of
 *          re-checks, then a sleep on the wake word until main commits the record at
 *          consumer_pos); ends at STOP once the ring is empty.
 * waker:   the blocked-wake measurement, `samples` of each kind alternately. Ring sample: wait until
 *          the main thread sleeps in reserveBlocking (the SPACE word), spin SETTLE_US so that it is
 *          really asleep in the futex, stamp SEND = clockMicros() and drain (which frees the ring
 *          and notifies). Floor sample: the raw protocol of workers/wake-floor.ts (wait for READY =
 *          i, spin, stamp, store FLAG = 1, notify) with the main thread as the waiter.
 * Thread: a worker thread.
 */
import { workerData } from 'node:worker_threads';
import { UserRingBuffer } from '@ringbuf/core';
import { clockMicros } from '@ringbuf/instrument';
import { WAIT_SLICE_MS, stopRequested } from '../harness/control.js';
import { FLOOR_FLAG_INDEX, FLOOR_READY_INDEX, FLOOR_SEND_F64, HITS_INDEX } from '../harness/layout.js';
import { Probe, awaitStart, ctl, toMain } from './common.js';

/** What the drainer receives (besides the harness's ctl and logLevel). */
export interface UserRingDrainerJob {
  role: 'drainer';
  buffer: SharedArrayBuffer;
}

/** What the waker receives. */
export interface UserRingWakerJob {
  role: 'waker';
  buffer: SharedArrayBuffer;
  /** The wake-floor pair's buffer (harness/layout.ts FLOOR_*). */
  floor: SharedArrayBuffer;
  samples: number;
  settleUs: number;
}

/** How long the waker waits for the main thread's next sleep before it gives up (ms). */
const SAMPLE_TIMEOUT_MS = 5000;
/** The drainer's pause after a drain that delivered: about 1 µs, Consumer.poll's PASS_PAUSE_LOADS. */
const PASS_PAUSE_LOADS = 140;
/** The pause's private word (never shared: no cache traffic). */
const pauseWord = new Int32Array(1);

const job = workerData as UserRingDrainerJob | UserRingWakerJob;
/** The main thread's handle has id 1. */
const ring = UserRingBuffer.attach(job.buffer, { id: 2 });

/** Pauses for `loads` loads of a private word (a few ns each), touching no shared memory. */
function pause(loads: number): void {
  // Observes nothing and pairs with nothing: a private word, so each load costs a few ns, touches no
  // shared line, and cannot be optimised away.
  for (let i = 0; i < loads; i++) Atomics.load(pauseWord, 0);
}

function spinMicros(us: number): void {
  const end = clockMicros() + us;
  while (clockMicros() < end);
}

async function drainer(): Promise<void> {
  const probe = new Probe('consumer');
  /** Records drained, kept a wrapping int32 (a small integer: adding to it never allocates). */
  let hits = 0;
  const onRecord = (): number => {
    if (((hits = (hits + 1) | 0) & 1023) === 0) {
      // Publishes the hit count; main reads it per window.
      Atomics.store(ctl, HITS_INDEX, hits);
    }
    return 0;
  };
  awaitStart();
  for (;;) {
    if (ring.drain(onRecord, 0) > 0) {
      // Publishes the exact hit count after the drain.
      Atomics.store(ctl, HITS_INDEX, hits);
      pause(PASS_PAUSE_LOADS);
    } else {
      if (stopRequested(ctl) && !ring.hasData()) break;
      ring.waitForData(WAIT_SLICE_MS);
    }
    probe.check();
  }
  await probe.finish({ wakeups: ring.notifies().data });
}

function waker(j: UserRingWakerJob): void {
  const i32 = new Int32Array(j.floor);
  const f64 = new Float64Array(j.floor);
  const noop = (): number => 0;
  for (let i = 1; i <= j.samples; i++) {
    // Ring sample: the main thread fills the ring and sleeps in reserveBlocking.
    let deadline = clockMicros() + SAMPLE_TIMEOUT_MS * 1000;
    while (ring.sleepingProducers() === 0) {
      if (clockMicros() > deadline) throw new Error(`the main thread did not sleep in reserveBlocking for sample ${i}`);
    }
    spinMicros(j.settleUs);
    // Plain store: published by the drain's consumer_pos stores and notify, which the main thread observes.
    f64[FLOOR_SEND_F64] = clockMicros();
    if (ring.drain(noop, 0) === 0) throw new Error(`sample ${i}: the drain found nothing to free`);
    // Floor sample: the raw wait/notify between the same two threads.
    deadline = clockMicros() + SAMPLE_TIMEOUT_MS * 1000;
    // Observes the main thread's "about to wait for sample i".
    while (Atomics.load(i32, FLOOR_READY_INDEX) !== i) {
      if (clockMicros() > deadline) throw new Error(`the main thread did not wait for floor sample ${i}`);
    }
    spinMicros(j.settleUs);
    // Plain store: published by the FLAG store below.
    f64[FLOOR_SEND_F64] = clockMicros();
    // Publishes the flag (and SEND); pairs with the main thread's Atomics.wait on it.
    Atomics.store(i32, FLOOR_FLAG_INDEX, 1);
    // Ends the main thread's wait.
    Atomics.notify(i32, FLOOR_FLAG_INDEX);
  }
  toMain.postMessage({ type: 'waker-done' });
}

if (job.role === 'drainer') await drainer();
else waker(job);
