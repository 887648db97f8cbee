// The ConsumerRuntime: one consumer worker running a handler module, with the ordering verifier
// on, fed by a ProducerPool of producer workers writing instrumented records. This file is also the
// handler module: the runtime's worker imports it and calls `init`, `handle` and `close`.
// Run: node examples/consumer-runtime.mjs
import { isMainThread } from 'node:worker_threads';
import { RingBuffer } from '@ringbuf/core';
import { ConsumerRuntime } from '@ringbuf/consumer';
import { ProducerPool } from '@ringbuf/producer-pool';

// --- the handler module (runs on the consumer worker) ---
let bytes = 0;
let largest = 0;
/** Awaited before the worker reports ready; gets `handlerOptions`. */
export function init(options) {
  largest = options.startLargest;
}
/** Called for every record, zero-copy: the payload is data[offset, offset + size). */
export function handle(data, offset, size) {
  bytes += size;
  if (size > largest) largest = size;
  // return a negative number to stop the runtime (reason 'handler-stop')
}
/** Awaited at exit; its (cloneable) result is report.handlerClose. */
export function close() {
  return { bytes, largest };
}

// --- the program (main thread) ---
if (isMainThread) {
  const ring = RingBuffer.create({ size: 1 << 20 });
  const rt = await ConsumerRuntime.start({
    rings: [ring.share()],
    handler: new URL(import.meta.url),
    handlerOptions: { startLargest: 0 },
    verify: true, // per-producer order and gaps of the instrumented records
    latency: true, // end-to-end latency histograms
  });
  const pool = new ProducerPool({
    ring: ring.share(),
    producers: 2,
    scenario: { records: 50_000, payload: { min: 32, max: 128 } }, // 32 bytes: the instrumented header
    seed: 1,
  });
  const result = await pool.run();
  const report = await rt.stop({ drain: true, timeoutMs: 5000 }); // every record committed before the stop
  console.log(
    `committed ${result.totals.committed}, delivered ${report.delivered}, left behind ${report.leftBehind}, ` +
      `order violations ${report.verifier.violations}, handler saw ${report.handlerClose.bytes} bytes ` +
      `(largest ${report.handlerClose.largest}), p99 latency ${report.latency.total.p99Us.toFixed(1)} us`,
  );
  process.exitCode = report.verifier.ok && report.delivered === result.totals.committed ? 0 : 1;
}
