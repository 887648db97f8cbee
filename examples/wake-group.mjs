// One consumer over two rings (libbpf's ring_buffer__add): the rings are created with one WakeGroup,
// so the consumer sleeps in one wait that a commit on either ring can end. One producer worker per
// ring; a single poll loop on the main thread drains both.
// Run: node examples/wake-group.mjs
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { RingBuffer, WakeGroup } from '@ringbuf/core';
import { Consumer } from '@ringbuf/consumer';

const RECORDS = 10_000; // per ring
const idle = new Int32Array(new SharedArrayBuffer(4));

if (isMainThread) {
  const group = WakeGroup.create();
  const alerts = RingBuffer.create({ size: 1 << 16, wakeGroup: group });
  const metrics = RingBuffer.create({ size: 1 << 16, wakeGroup: group });
  // share() carries the group's buffer too; attach() refuses a grouped ring without its group
  const producers = [alerts, metrics].map(
    (ring, i) => new Worker(new URL(import.meta.url), { workerData: { share: ring.share(), producerId: i + 1 } }),
  );
  const counts = [0, 0];
  const consumer = new Consumer(RingBuffer.attach(alerts.share()), () => {
    counts[0]++;
  });
  consumer.add(RingBuffer.attach(metrics.share()), () => {
    counts[1]++;
  }); // a ring of another wake word would be refused (ERR_RINGBUF_WAKE_GROUP)
  const deadline = Date.now() + 10_000;
  while (counts[0] + counts[1] < 2 * RECORDS && Date.now() < deadline) consumer.poll(100);
  console.log(
    `one consumer, two rings: ${counts[0]} records from ring 0, ${counts[1]} from ring 1, ` +
      `${consumer.counters.sleeps} sleeps on the shared wake word`,
  );
  consumer.close();
  await Promise.all(producers.map((w) => new Promise((resolve) => w.once('exit', resolve))));
  process.exitCode = counts[0] === RECORDS && counts[1] === RECORDS ? 0 : 1;
} else {
  const rb = RingBuffer.attach(workerData.share, { producerId: workerData.producerId });
  for (let i = 0; i < RECORDS;) {
    const off = rb.reserve(16);
    if (off < 0) {
      Atomics.wait(idle, 0, 0, 0.1);
      continue;
    }
    rb.view.setUint32(off, i++, true);
    rb.submit(off);
  }
}
