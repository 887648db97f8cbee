// A producer in a Web Worker: instrumented records (producer id, sequence number, send time) into
// the ring until the page raises the stop word; then it posts how many records it committed.
//
// Module workers do not see the page's import map (Chromium applies it to the document only), and
// the packages' dist/ files import each other by name (@ringbuf/instrument imports @ringbuf/core):
// main.js starts this module through es-module-shims with the page's import map (startWorker), so
// the packages load here unchanged, by name, as on the page. It says `ready` once loaded; the page
// then posts its job.
import { RingBuffer, RESERVE_FAILED } from '@ringbuf/core';
import { EventKind, clockMicros, writeInstrumented } from '@ringbuf/instrument';

const idle = new Int32Array(new SharedArrayBuffer(4));

self.onmessage = ({ data: job }) => {
  const { share, producerId, size, stop, full } = job;
  const rb = RingBuffer.attach(share, { producerId });
  let seq = 0;
  // Observes the page's store of the stop word.
  while (Atomics.load(stop, 0) === 0) {
    const off = rb.reserve(size);
    if (off === RESERVE_FAILED) {
      // Counts refused reservations for the page's "ring full/s".
      Atomics.add(full, 0, 1);
      // The ring is full: back off ~50 us on a private word (a worker may block).
      Atomics.wait(idle, 0, 0, 0.05);
      continue;
    }
    writeInstrumented(rb.view, off, producerId, seq++, clockMicros(), 0, EventKind.Load);
    rb.submit(off);
  }
  self.postMessage({ producerId, committed: seq });
};
self.postMessage({ ready: true });
