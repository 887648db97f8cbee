// A producer in a Web Worker: instrumented records (producer id, sequence number, send time) into
// the ring until the page raises the stop word; then it posts how many records it committed.
//
// Module workers do not see the page's import map (Chromium applies it to the document only), so
// this file imports the two packages by URL: their dist/ files use relative imports only.
// (@ringbuf/consumer's dist/ imports @ringbuf/core by name: a worker that consumes needs an
// import-map shim such as es-module-shims, or a bundler.)
import { RingBuffer, RESERVE_FAILED } from '/@ringbuf/core/dist/src/index.js';
import { EventKind, clockMicros, writeInstrumented } from '/@ringbuf/instrument/dist/src/index.js';

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
