// The README's library example, made to terminate: one producer worker writes records with reserve +
// submit and with output; the main thread consumes them with the libbpf-style Consumer.
// Run: node examples/library.mjs
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { RingBuffer, BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP } from '@ringbuf/core';
import { Consumer } from '@ringbuf/consumer';

const RECORDS = 1000; // records the producer writes with each API

if (isMainThread) {
  // main thread: create the ring and post its share to the workers (workerData or postMessage)
  const ring = RingBuffer.create({ size: 1 << 20 });
  const producer = new Worker(new URL(import.meta.url), { workerData: ring.share() });

  // the consumer: data[offset, offset + size) is the record, zero-copy, valid during the call
  let reserved = 0;
  let output = 0;
  const consumer = new Consumer(RingBuffer.attach(ring.share()), (data, offset, size) => {
    if (size === 16) reserved++;
    else output++;
  });
  // poll sleeps until a producer's wake decision; the timeout only bounds the wait, as epoll's.
  while (reserved + output < 2 * RECORDS) consumer.poll(1000);
  consumer.close();
  await new Promise((resolve) => producer.once('exit', resolve));
  console.log(`consumed ${reserved} reserved records and ${output} output records`);
} else {
  // any producer thread
  const rb = RingBuffer.attach(workerData, { producerId: 7 });
  for (let i = 0; i < RECORDS;) {
    const off = rb.reserve(16); // payload offset, or -1 when the ring is full
    if (off < 0) continue; // a 1 MiB ring does not fill here; see backoff.mjs for what to do when it does
    rb.view.setUint32(off, 42, true); // write the payload in place
    rb.submit(off); // or rb.discard(off)
    i++;
  }
  // reserve + copy + submit; flags as the kernel's. NO_WAKEUP on all but the last, which forces one
  // wakeup (flags 0 would wake a sleeping consumer only if it had caught up to exactly that record).
  const bytes = new Uint8Array([1, 2, 3]);
  for (let i = 0; i < RECORDS;) if (rb.output(bytes, i === RECORDS - 1 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP)) i++;
}
