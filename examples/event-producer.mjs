// A producer module for `ringbuf load --producer`: each producer worker calls write() for every
// record it commits, in place on the bytes after the instrumented header (the ring's own memory:
// no copy). Here each record carries a small JSON event, padded with spaces to the record's size.
// Used with examples/event-handler.mjs (see the README's "Load-test your own code").
// Run on its own, it writes three events into a buffer and prints them:
//   node examples/event-producer.mjs
import { isMainThread } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

const encoder = new TextEncoder();
const SPACE = 0x20;
let kinds = ['click', 'view', 'buy'];

/** Awaited once per producer before its first record; gets --producer-options. */
export function init(options, { producerId } = {}) {
  if (Array.isArray(options?.kinds) && options.kinds.length > 0) kinds = options.kinds.map(String);
  void producerId;
}

/**
 * Fills one record's payload: `payload` is record size - INSTRUMENTED_HEADER_BYTES bytes, valid
 * only during the call. `seq` is this producer's sequence number (0, 1, 2, ...), `producerId` its id.
 */
export function write(payload, seq, producerId) {
  const kind = kinds[(seq * 7 + producerId) % kinds.length];
  const text = `{"kind":"${kind}","producer":${producerId},"seq":${seq},"amount":${(seq % 100) + 1}}`;
  const { written } = encoder.encodeInto(text, payload);
  if (written < text.length)
    throw new RangeError(`event of ${text.length} bytes does not fit a ${payload.length}-byte payload: raise --size`);
  payload.fill(SPACE, written);
}

if (isMainThread && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const payload = new Uint8Array(72);
  const decoder = new TextDecoder();
  for (let seq = 0; seq < 3; seq++) {
    write(payload, seq, 1);
    console.log(decoder.decode(payload).trimEnd());
  }
  console.log(`wrote 3 events into a ${payload.length}-byte payload, padded with spaces`);
}
