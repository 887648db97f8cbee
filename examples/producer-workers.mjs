// N producer worker threads write into one ring; one consumer worker drains it with the raw
// libbpf-style Consumer and checks that every producer's records arrive once and in order.
// Run: node examples/producer-workers.mjs [producers]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { RingBuffer } from '@ringbuf/core';
import { Consumer } from '@ringbuf/consumer';

const PRODUCERS = Number(process.argv[2] ?? 3);
const RECORDS = 20_000; // per producer
const idle = new Int32Array(new SharedArrayBuffer(4)); // a private word to sleep on (a timed sleep)

if (isMainThread) {
  const ring = RingBuffer.create({ size: 1 << 16 }); // 64 KiB: small enough to fill now and then
  const share = ring.share();
  const consumer = new Worker(new URL(import.meta.url), {
    workerData: { role: 'consumer', share, producers: PRODUCERS },
  });
  const result = new Promise((resolve, reject) => consumer.once('message', resolve).once('error', reject));
  const producers = Array.from(
    { length: PRODUCERS },
    (_, i) => new Worker(new URL(import.meta.url), { workerData: { role: 'producer', share, producerId: i + 1 } }),
  );
  const full = await Promise.all(producers.map((w) => new Promise((resolve) => w.once('message', resolve))));
  const { received, outOfOrder } = await result;
  console.log(
    `${PRODUCERS} producers, ${received} records received, ${outOfOrder} out of order, ` +
      `${PRODUCERS * RECORDS - received} lost; the ring was full ${full.reduce((a, b) => a + b, 0)} times`,
  );
  process.exitCode = received === PRODUCERS * RECORDS && outOfOrder === 0 ? 0 : 1;
} else if (workerData.role === 'producer') {
  // Each producer has its own handle and id; the record is (producer id, sequence number).
  const rb = RingBuffer.attach(workerData.share, { producerId: workerData.producerId });
  let full = 0;
  for (let seq = 0; seq < RECORDS;) {
    const off = rb.reserve(8);
    if (off < 0) {
      full++;
      Atomics.wait(idle, 0, 0, 0.05); // ring full: sleep 50 us instead of spinning (see backoff.mjs)
      continue;
    }
    rb.view.setUint32(off, workerData.producerId, true);
    rb.view.setUint32(off + 4, seq, true);
    rb.submit(off);
    seq++;
  }
  parentPort.postMessage(full);
} else {
  // The one consumer: per-producer next expected sequence number.
  const next = new Array(workerData.producers + 1).fill(0);
  let received = 0;
  let outOfOrder = 0;
  const ring = RingBuffer.attach(workerData.share);
  const consumer = new Consumer(ring, (data, offset) => {
    const view = ring.view;
    const id = view.getUint32(offset, true);
    const seq = view.getUint32(offset + 4, true);
    if (seq !== next[id]) outOfOrder++;
    next[id] = seq + 1;
    received++;
  });
  const expected = workerData.producers * RECORDS;
  while (received < expected) consumer.poll(1000); // sleeps while the ring is empty
  consumer.close();
  parentPort.postMessage({ received, outOfOrder });
}
