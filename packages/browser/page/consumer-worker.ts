/**
 * A consumer in a Web Worker: one `Consumer` over the rings it is given, blocking in `poll` (a
 * worker may block), every record through the ordering verifier (sequence, owner word, filler).
 * Stops once the page says every producer finished and a last pass found nothing.
 */
import { RingBuffer, BPF_RINGBUF_HDR_SZ } from '@ringbuf/core';
import { Consumer, OrderingVerifier } from '@ringbuf/consumer';
import { checkFiller, serveOneJob, type ConsumerJob, type ConsumerResult, type WorkerScope } from './protocol.js';

function consume(job: ConsumerJob): ConsumerResult {
  const rings = job.shares.map((share) => RingBuffer.attach(share));
  const verifier = new OrderingVerifier({ allowGaps: job.allowGaps, filler: checkFiller });
  const views = new Map<ArrayBufferLike, DataView>();
  const callbackFor = (index: number) => {
    const ring = rings[index];
    let lastData: Uint8Array | undefined;
    let view: DataView | undefined;
    return (data: Uint8Array, offset: number, size: number): void => {
      if (data !== lastData) {
        lastData = data;
        view = views.get(data.buffer) ?? new DataView(data.buffer, data.byteOffset, data.byteLength);
        views.set(data.buffer, view);
      }
      // Overwrite mode hands over a private copy (offset 0): the owner word is only in the ring.
      const owner = job.allowGaps ? undefined : ring.headerOwnerAt(offset - BPF_RINGBUF_HDR_SZ);
      verifier.check(view as DataView, offset, size, index, owner);
    };
  };
  const consumer = new Consumer(rings[0], callbackFor(0));
  for (let i = 1; i < rings.length; i++) consumer.add(rings[i], callbackFor(i));
  const start = performance.now();
  const deadline = start + job.timeoutMs;
  let timedOut = false;
  for (;;) {
    // Observes the page's store of `done` (made after every producer posted its result).
    const done = Atomics.load(job.done, 0) === 1;
    consumer.poll(job.pollMs);
    if (done) {
      // Every record was committed before `done`: drain what is left.
      while (consumer.consume() > 0);
      break;
    }
    if (performance.now() > deadline) {
      timedOut = true;
      break;
    }
  }
  const result: ConsumerResult = {
    report: verifier.report(),
    rings: rings.map((_, i) => ({
      ...(consumer.ringCounters(i) as NonNullable<ReturnType<Consumer['ringCounters']>>),
    })),
    counters: { ...consumer.counters },
    ms: performance.now() - start,
    timedOut,
  };
  consumer.close();
  return result;
}

serveOneJob(self as unknown as WorkerScope, consume);
