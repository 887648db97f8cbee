/**
 * The consumer runtime handler the `load`, `order` and `latency` commands install: it samples the
 * end-to-end latency of one record in `sampleEvery` into the live latency block (live-layout.ts), so the
 * main thread can print a "p99 so far" once a second. The runtime's own verifier and HdrHistogram
 * latency recorder see every record; this is only the progress line's estimate.
 *
 * Hot path: per record a countdown; per sample a clock read, a DataView read and two plain stores.
 * Nothing allocated (one DataView per distinct data array: the ring's, or an overwrite walk's
 * private copy), nothing logged. Thread: the consumer worker (loaded by ConsumerRuntime).
 */
import { INSTRUMENTED_HEADER_BYTES, RECORD_SEND_TIME, clockMicros } from '@ringbuf/instrument';
import { LIVE_BUCKET_FIRST, LIVE_MAX_NS, LIVE_SAMPLES_INDEX, liveBucketOf } from './live-layout.js';

/** What `handlerOptions` carries (cloneable). */
export interface LiveHandlerOptions {
  /** The live latency block (LIVE_BLOCK_BYTES). */
  live: SharedArrayBuffer;
  /** Sample one record in this many (>= 1). */
  sampleEvery: number;
}

/** The live block; empty until init() (a record before it is then counted nowhere). */
let words: Uint32Array = new Uint32Array(new SharedArrayBuffer(0));
let every = 1;
let countdown = 1;
let samples = 0;
let lastData: Uint8Array | undefined;
let view: DataView = new DataView(new ArrayBuffer(0));

/** Called once by the runtime before the worker reports ready. */
export function init(options: LiveHandlerOptions): void {
  words = new Uint32Array(options.live);
  every = Math.max(1, Math.floor(options.sampleEvery));
  countdown = 1;
}

/** Called for each record (zero-copy: the payload is `data[offset, offset + size)`). */
export function handle(data: Uint8Array, offset: number, size: number): void {
  if (--countdown !== 0) return;
  countdown = every;
  if (size < INSTRUMENTED_HEADER_BYTES) return;
  if (data !== lastData) {
    lastData = data;
    view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  let ns = Math.round((clockMicros() - view.getFloat64(offset + RECORD_SEND_TIME, true)) * 1000);
  if (!(ns >= 0)) ns = 0; // an open-loop send time a hair in the future, or a record without one
  if (ns > LIVE_MAX_NS) ns = LIVE_MAX_NS;
  const b = LIVE_BUCKET_FIRST + liveBucketOf(ns);
  // Plain stores by the only writer; the main thread's Atomics.load reads them (a lagging estimate).
  words[b] = (words[b] ?? 0) + 1;
  words[LIVE_SAMPLES_INDEX] = ++samples;
}
