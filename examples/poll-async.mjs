// Consumer.pollAsync: the libbpf-style poll, waiting with Atomics.waitAsync so the thread keeps its
// event loop (timers, I/O) while no record is ready. A producer worker writes in bursts with pauses
// between them; the main thread awaits pollAsync and a timer keeps ticking throughout.
// Run: node examples/poll-async.mjs
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { setTimeout as delay } from 'node:timers/promises';
import { RingBuffer } from '@ringbuf/core';
import { Consumer } from '@ringbuf/consumer';

const BURSTS = 5;
const PER_BURST = 1000;

if (isMainThread) {
  const ring = RingBuffer.create({ size: 1 << 20 });
  const producer = new Worker(new URL(import.meta.url), { workerData: ring.share() });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  let received = 0;
  let polls = 0;
  const consumer = new Consumer(RingBuffer.attach(ring.share()), () => {
    received++;
  });
  const deadline = Date.now() + 10_000;
  while (received < BURSTS * PER_BURST && Date.now() < deadline) {
    // Resolves with the records delivered, at once if some are ready, else after a producer's wake
    // decision or the timeout (here 100 ms); -1 would wait without a timeout.
    await consumer.pollAsync(100);
    polls++;
  }
  consumer.close();
  clearInterval(timer);
  await new Promise((resolve) => producer.once('exit', resolve));
  console.log(`received ${received} records in ${polls} pollAsync calls; the timer ticked ${ticks} times meanwhile`);
  process.exitCode = received === BURSTS * PER_BURST && ticks > 0 ? 0 : 1;
} else {
  const rb = RingBuffer.attach(workerData);
  const payload = new Uint8Array(32);
  for (let burst = 0; burst < BURSTS; burst++) {
    for (let i = 0; i < PER_BURST;) if (rb.output(payload)) i++;
    await delay(20); // idle between bursts: the consumer goes to sleep, the first commit after wakes it
  }
}
