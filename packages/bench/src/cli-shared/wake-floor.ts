/**
 * The floor under every wake policy: the one-way latency of a raw `Atomics.wait` / `Atomics.notify`
 * between two worker threads (notifier's clock before the notify, waiter's clock on waking), with no
 * ring at all. Measured by `ringbuf latency` in the same process and run as the policies, so both see
 * the same machine state. Thread: main (starts two workers).
 */
import { Worker } from 'node:worker_threads';
import type { RecordableHistogram } from 'node:perf_hooks';
import { FLOOR_BYTES } from './layout.js';
import type { FloorJob } from './wake-floor-worker.js';

/** Spin before each notify so that the waiter is asleep in the kernel, not on its way there. */
export const FLOOR_SETTLE_US = 30;

function start<T>(job: FloorJob): Promise<T> {
  const worker = new Worker(new URL('./wake-floor-worker.js', import.meta.url), { workerData: job });
  return new Promise<T>((resolve, reject) => {
    worker.once('message', (m: T) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`wake-floor worker exited with code ${code} before reporting`)));
  });
}

/**
 * Measures `samples` raw wake-ups; resolves with their one-way latencies (HdrHistogram, ns).
 * @throws Error when a worker fails.
 */
export async function measureWakeFloor(samples: number): Promise<RecordableHistogram> {
  const sab = new SharedArrayBuffer(FLOOR_BYTES);
  const [h] = await Promise.all([
    start<RecordableHistogram>({ role: 'waiter', sab, samples, settleUs: FLOOR_SETTLE_US }),
    start<null>({ role: 'notifier', sab, samples, settleUs: FLOOR_SETTLE_US }),
  ]);
  return h;
}
