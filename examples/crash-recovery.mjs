// Crash recovery: a producer thread dies between reserve and submit, so its record stays BUSY and
// the consumer, which stops at the first BUSY record (libbpf's rule), is stuck behind it: every
// later record, from live producers too, waits. Once the thread is known dead (its 'exit' event),
// recoverProducer(deadId) frees the lock if the dead thread held it and discards its BUSY records,
// as its own discard() would have; the consumer then moves on and nothing committed is lost.
// Run: node examples/crash-recovery.mjs
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { RingBuffer, MAX_PRODUCER_ID } from '@ringbuf/core';
import { Consumer } from '@ringbuf/consumer';

if (isMainThread) {
  const ring = RingBuffer.create({ size: 1 << 16 });
  const values = [];
  const consumer = new Consumer(RingBuffer.attach(ring.share()), (data, offset) => {
    values.push(ring.view.getUint32(offset, true));
  });
  const exited = (w) => new Promise((resolve) => w.once('exit', resolve));

  // Producer 1 commits 3 records, reserves a 4th and dies before submitting it.
  const code = await exited(
    new Worker(new URL(import.meta.url), { workerData: { share: ring.share(), producerId: 1, role: 'dies' } }),
  );
  // Producer 2, alive, commits 5 records after it: they sit behind the dead producer's BUSY record.
  await exited(
    new Worker(new URL(import.meta.url), { workerData: { share: ring.share(), producerId: 2, role: 'lives' } }),
  );
  consumer.poll(0);
  console.log(
    `producer 1 exited with code ${code}; the consumer got ${values.length} records and is stuck behind its BUSY ` +
      `record`,
  );

  // Recovery, from a handle with an id no producer has. Only for a producer known to be dead: ids are
  // never reused, so nothing else can ever commit that record.
  const recoverer = RingBuffer.attach(ring.share(), { producerId: MAX_PRODUCER_ID });
  const { lockRecovered, recordsDiscarded } = recoverer.recoverProducer(1);
  consumer.poll(0);
  consumer.close();
  console.log(
    `recoverProducer(1): lock recovered ${lockRecovered}, records discarded ${recordsDiscarded}; ` +
      `the consumer now has ${values.length} records: ${values.join(', ')}`,
  );
  process.exitCode = values.length === 8 && recordsDiscarded === 1 ? 0 : 1;
} else {
  const rb = RingBuffer.attach(workerData.share, { producerId: workerData.producerId });
  const base = workerData.producerId * 100;
  const count = workerData.role === 'dies' ? 3 : 5;
  for (let i = 0; i < count; i++) {
    const off = rb.reserve(4);
    rb.view.setUint32(off, base + i, true);
    rb.submit(off);
  }
  if (workerData.role === 'dies') {
    const off = rb.reserve(64);
    rb.view.setUint32(off, 0xdead, true); // half-written...
    process.exit(1); // ...and the thread is gone (terminate(), an uncaught exception: the same)
  }
}
