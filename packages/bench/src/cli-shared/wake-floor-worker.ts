/**
 * The two threads of the wake floor (wake-floor.ts). Not meant to be imported.
 *
 * waiter:   for each sample, publish READY = i, sleep in Atomics.wait on FLAG, take clockMicros() on
 *           waking and record now - SEND; re-arm FLAG.
 * notifier: for each sample, spin until READY = i, spin SETTLE_US more so that the waiter is really
 *           asleep in the futex (not on its way to it), write SEND = clockMicros(), store FLAG = 1
 *           and notify.
 * The same method as packages/consumer/src/runtime/measure-wake.ts, whose functions are not exported.
 * Thread: two worker threads.
 */
import { createHistogram } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { clockMicros } from '@ringbuf/instrument';
import { FLOOR_FLAG_INDEX, FLOOR_READY_INDEX, FLOOR_SEND_F64 } from './layout.js';

/** What each of the two workers receives. */
export interface FloorJob {
  role: 'waiter' | 'notifier';
  sab: SharedArrayBuffer;
  samples: number;
  settleUs: number;
}

const job = workerData as FloorJob;
const i32 = new Int32Array(job.sab);
const f64 = new Float64Array(job.sab);

if (job.role === 'waiter') {
  const h = createHistogram();
  for (let i = 1; i <= job.samples; i++) {
    // Publishes "about to wait for sample i"; pairs with the notifier's spin on READY.
    Atomics.store(i32, FLOOR_READY_INDEX, i);
    // Sleeps until the notifier's FLAG store + notify (returns at once if it already stored).
    Atomics.wait(i32, FLOOR_FLAG_INDEX, 0);
    const now = clockMicros();
    // Plain read: SEND was written before the FLAG store that ended our wait.
    h.record(Math.max(1, Math.round((now - f64[FLOOR_SEND_F64]!) * 1000)));
    // Re-arms the flag; the notifier does not touch it before it sees READY = i + 1.
    Atomics.store(i32, FLOOR_FLAG_INDEX, 0);
  }
  parentPort!.postMessage(h);
} else {
  for (let i = 1; i <= job.samples; i++) {
    // Observes the waiter's announcement for sample i; pairs with its READY store.
    while (Atomics.load(i32, FLOOR_READY_INDEX) !== i);
    const settleEnd = clockMicros() + job.settleUs;
    while (clockMicros() < settleEnd);
    f64[FLOOR_SEND_F64] = clockMicros();
    // Publishes SEND and the flag; pairs with the waiter's Atomics.wait on FLAG.
    Atomics.store(i32, FLOOR_FLAG_INDEX, 1);
    // Wakes the waiter (it announced READY, so it sleeps or is about to).
    Atomics.notify(i32, FLOOR_FLAG_INDEX, 1);
  }
  parentPort!.postMessage(null);
}
