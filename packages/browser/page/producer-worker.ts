/**
 * A producer in a Web Worker: commits `records` instrumented records (producer id, sequence number,
 * send time; the rest of the payload the filler rule's bytes) of seeded random sizes into one ring,
 * discarding a seeded fraction of reservations, retrying when the ring is full.
 */
import { RingBuffer, RESERVE_FAILED } from '@ringbuf/core';
import { EventKind, INSTRUMENTED_HEADER_BYTES, clockMicros, writeInstrumented } from '@ringbuf/instrument';
import { fillerByte, rng, serveOneJob, type ProducerJob, type ProducerResult, type WorkerScope } from './protocol.js';

/** A private word for the back-off sleep on a full ring (a worker may block). */
const idle = new Int32Array(new SharedArrayBuffer(4));

function produce(job: ProducerJob): ProducerResult {
  const rb = RingBuffer.attach(job.share, { producerId: job.producerId });
  const { data } = rb;
  const random = rng(job.seed);
  const span = job.maxSize - job.minSize + 1;
  // Wait (bounded) until every worker is ready; pairs with the page's store + notify of the gate.
  Atomics.wait(job.gate, 0, 0, job.timeoutMs);
  const start = performance.now();
  const deadline = start + job.timeoutMs;
  let seq = 0;
  let discarded = 0;
  let full = 0;
  let timedOut = false;
  while (seq < job.records) {
    if ((seq & 255) === 0 && performance.now() > deadline) {
      timedOut = true;
      break;
    }
    const size = job.minSize + Math.floor(random() * span);
    const off = rb.reserve(size);
    if (off === RESERVE_FAILED) {
      full++;
      // Back off ~50 us on a private word (nobody notifies it).
      Atomics.wait(idle, 0, 0, 0.05);
      if (performance.now() > deadline) {
        timedOut = true;
        break;
      }
      continue;
    }
    if (job.discardRatio > 0 && random() < job.discardRatio) {
      rb.discard(off, job.flags);
      discarded++;
      continue;
    }
    writeInstrumented(rb.view, off, job.producerId, seq, clockMicros(), 0, EventKind.Load);
    for (let i = INSTRUMENTED_HEADER_BYTES; i < size; i++) data[off + i] = fillerByte(job.producerId, seq, i);
    rb.submit(off, job.flags);
    seq++;
  }
  return { producerId: job.producerId, committed: seq, discarded, full, ms: performance.now() - start, timedOut };
}

serveOneJob(self as unknown as WorkerScope, produce);
