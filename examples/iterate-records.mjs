// `for await` over iterateRecords on the main thread: records as an async iterator (each one a copy),
// while the event loop keeps running. A producer worker writes numbered records; the loop stops
// with `break` after the last one, which leaves nothing behind in the ring.
// Run: node examples/iterate-records.mjs
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { RingBuffer } from '@ringbuf/core';
import { iterateRecords } from '@ringbuf/consumer';

const RECORDS = 10_000;
const idle = new Int32Array(new SharedArrayBuffer(4));

if (isMainThread) {
  const ring = RingBuffer.create({ size: 1 << 16 });
  const producer = new Worker(new URL(import.meta.url), { workerData: ring.share() });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1); // proof that the event loop is not blocked
  let count = 0;
  let sum = 0;
  const signal = AbortSignal.timeout(10_000); // a bound, in case the producer never finishes
  // Each item is { ring, data }: the index of its ring in the rings given, and a copy of the payload
  // (it stays valid after the loop body).
  for await (const { data } of iterateRecords(RingBuffer.attach(ring.share()), { signal })) {
    sum += new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
    if (++count === RECORDS) break; // ends the iteration and frees the ring's consumer slot
  }
  clearInterval(timer);
  await new Promise((resolve) => producer.once('exit', resolve));
  console.log(
    `iterated ${count} records (sum of their numbers ${sum}); the event loop ran ` +
      `${ticks > 0 ? 'meanwhile' : 'not at all'}`,
  );
  process.exitCode = count === RECORDS && sum === (RECORDS * (RECORDS - 1)) / 2 ? 0 : 1;
} else {
  const rb = RingBuffer.attach(workerData);
  for (let i = 0; i < RECORDS;) {
    const off = rb.reserve(4);
    if (off < 0) {
      Atomics.wait(idle, 0, 0, 0.1); // ring full: let the consumer catch up
      continue;
    }
    rb.view.setUint32(off, i++, true);
    rb.submit(off);
  }
}
