// What to do when reserve returns -1 (the ring is full: the kernel's NULL from bpf_ringbuf_reserve).
// Retrying at once spins a core while the consumer, which needs that core, catches up. Back off
// instead: sleep a short, growing time (Atomics.wait on a private word with a timeout: the thread
// really sleeps), retry, and give up after a deadline. Two producer workers write the same load
// into a small ring, first retrying at once, then with the back-off; the retry counts show the
// difference.
// Run: node examples/backoff.mjs
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { RingBuffer, RESERVE_FAILED } from '@ringbuf/core';
import { Consumer } from '@ringbuf/consumer';

const PRODUCERS = 2;
const RECORDS = 50_000; // per producer: 100,000 records a run

/**
 * reserve(size), sleeping 20 us, 40 us, 80 us ... (at most 1 ms) between attempts while the ring is
 * full. Returns the offset, or RESERVE_FAILED after `giveUpMs` (the consumer may be gone).
 */
const idle = new Int32Array(new SharedArrayBuffer(4)); // never notified: every wait is a timed sleep
let retries = 0;
function reserveWithBackoff(rb, size, giveUpMs = 1000) {
  let off = rb.reserve(size);
  if (off !== RESERVE_FAILED) return off;
  const deadline = performance.now() + giveUpMs;
  for (let attempt = 0; performance.now() < deadline; attempt++) {
    Atomics.wait(idle, 0, 0, Math.min(0.02 * 2 ** attempt, 1)); // timeout in ms: 0.02 = 20 us
    retries++;
    off = rb.reserve(size);
    if (off !== RESERVE_FAILED) return off;
  }
  return RESERVE_FAILED;
}

/** The naive loop, for comparison: retry at once. */
function reserveSpinning(rb, size) {
  let off;
  while ((off = rb.reserve(size)) === RESERVE_FAILED) retries++;
  return off;
}

async function run(mode) {
  const ring = RingBuffer.create({ size: 1 << 14 }); // 16 KiB: 1024 records of 16 bytes
  const done = new Int32Array(new SharedArrayBuffer(4)); // set once every producer has finished
  const consumerDone = new Promise((resolve) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { role: 'consumer', share: ring.share(), done } });
    w.once('message', resolve);
  });
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const producers = Array.from({ length: PRODUCERS }, (_, i) => {
    const w = new Worker(new URL(import.meta.url), {
      workerData: { role: 'producer', mode, share: ring.share(), producerId: i + 1 },
    });
    return new Promise((resolve) => w.once('message', resolve));
  });
  const results = await Promise.all(producers);
  Atomics.store(done, 0, 1); // tells the consumer to drain what is left and finish
  const received = await consumerDone;
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const sum = (k) => results.reduce((a, r) => a + r[k], 0);
  return { retries: sum('retries'), failed: sum('failed'), received, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

if (isMainThread) {
  for (const mode of ['retry at once', 'back-off']) {
    const r = await run(mode);
    console.log(
      `${mode.padEnd(13)}: ${r.received} records delivered, ${r.retries} retries ` +
        `(${((1000 * r.retries) / (PRODUCERS * RECORDS)).toFixed(1)} per 1000 records), ${r.failed} given up, ` +
        `CPU ${r.cpuMs.toFixed(0)} ms in ${r.ms.toFixed(0)} ms`,
    );
    if (r.received !== PRODUCERS * RECORDS) process.exitCode = 1;
  }
} else if (workerData.role === 'producer') {
  const rb = RingBuffer.attach(workerData.share, { producerId: workerData.producerId });
  const reserve = workerData.mode === 'back-off' ? reserveWithBackoff : reserveSpinning;
  let failed = 0;
  for (let i = 0; i < RECORDS; i++) {
    const off = reserve(rb, 8);
    if (off === RESERVE_FAILED) {
      failed++;
      continue;
    }
    rb.view.setUint32(off, i, true);
    rb.submit(off);
  }
  parentPort.postMessage({ retries, failed });
} else {
  let received = 0;
  const consumer = new Consumer(RingBuffer.attach(workerData.share), () => {
    received++;
  });
  // Sleeps while the ring is empty; checks the done flag at least every 100 ms.
  while (Atomics.load(workerData.done, 0) === 0) consumer.poll(100);
  consumer.consume(); // what was committed before the flag
  consumer.close();
  parentPort.postMessage(received);
}
