/**
 * The consumer runtime handler the `load`, `order` and `latency` commands install. It samples the
 * end-to-end latency of one record in `sampleEvery` into the live latency block (live-layout.ts), so
 * the main thread can print a "p99 so far" once a second and, from the block's per-second deltas,
 * the timeline's p50/p99 of each second. The runtime's own verifier and HdrHistogram latency
 * recorder see every record before this handler runs.
 *
 * With `user` (`ringbuf load --handler <module>`) it also runs the user's handler module: it
 * imports it in init(), awaits its `init(userOptions)`, calls its `handle(data, offset, size)` (or
 * default export) for each record with the whole record (the instrumented header first), and
 * awaits its `close()` in close(). Latency is then measured when the user's handler returns (so it
 * includes the handler's time), for the live block and for a perf_hooks histogram of every record
 * whose percentiles close() returns. A user handler that throws is counted by the runtime
 * (onHandlerError 'count'); one that never returns is ended by the runtime's stop deadline.
 *
 * Hot path: per record a countdown (or the user's call); per sample a clock read, a DataView read,
 * two plain stores (and a histogram record with a user handler). Nothing allocated (one DataView per
 * distinct data array: the ring's, or an overwrite walk's private copy), nothing logged. Thread: the
 * consumer worker (loaded by ConsumerRuntime).
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { INSTRUMENTED_HEADER_BYTES, RECORD_SEND_TIME, clockMicros } from '@ringbuf/instrument';
import { LIVE_BUCKET_FIRST, LIVE_MAX_NS, LIVE_SAMPLES_INDEX, liveBucketOf } from './live-layout.js';

/** What `handlerOptions` carries (cloneable). */
export interface LiveHandlerOptions {
  /** The live latency block (LIVE_BLOCK_BYTES). */
  live: SharedArrayBuffer;
  /** Sample one record in this many (>= 1; with `user`, every record is timed). */
  sampleEvery: number;
  /** The user's handler module (a file URL) and what its `init` gets. */
  user?: { module: string; options: unknown };
}

/** What close() returns with a user handler: the user's close() result and the latency. */
export interface LiveHandlerClose {
  /** What the user's close() returned (undefined without one). */
  userClose: unknown;
  /** The user's close() threw: its message. */
  userCloseError?: string;
  /** Latency of every instrumented record, to the user's handler's return, in µs. */
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number; count: number };
}

type UserHandle = (data: Uint8Array, offset: number, size: number) => unknown;

/** The live block; empty until init() (a record before it is then counted nowhere). */
let words: Uint32Array = new Uint32Array(new SharedArrayBuffer(0));
let every = 1;
let countdown = 1;
let samples = 0;
let lastData: Uint8Array | undefined;
let view: DataView = new DataView(new ArrayBuffer(0));
let user: UserHandle | undefined;
let userClose: (() => unknown) | undefined;
let histogram: RecordableHistogram | undefined;

/**
 * Called once by the runtime before the worker reports ready.
 * @throws Error when the user's module exports no handler function, or its init throws (the
 *   runtime then fails to start with ERR_RUNTIME_HANDLER_MODULE).
 */
export async function init(options: LiveHandlerOptions): Promise<void> {
  words = new Uint32Array(options.live);
  every = Math.max(1, Math.floor(options.sampleEvery));
  countdown = 1;
  if (options.user === undefined) return;
  const mod = (await import(options.user.module)) as { handle?: unknown; default?: unknown; init?: unknown; close?: unknown };
  const handle = typeof mod.handle === 'function' ? mod.handle : mod.default;
  if (typeof handle !== 'function') throw new Error(`handler module ${options.user.module} exports no 'handle' or default function`);
  if (typeof mod.init === 'function') await (mod.init as (o: unknown) => unknown)(options.user.options);
  user = handle as UserHandle;
  userClose = typeof mod.close === 'function' ? (mod.close as () => unknown) : undefined;
  histogram = createHistogram();
  every = 1;
}

/** Latency of the record at `offset` now, in ns, into the live block (and the histogram). */
function sample(data: Uint8Array, offset: number): void {
  if (data !== lastData) {
    lastData = data;
    view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  let ns = Math.round((clockMicros() - view.getFloat64(offset + RECORD_SEND_TIME, true)) * 1000);
  if (!(ns >= 1)) ns = 1; // an open-loop send time a hair in the future, or a record without one
  histogram?.record(ns);
  if (ns > LIVE_MAX_NS) ns = LIVE_MAX_NS;
  const b = LIVE_BUCKET_FIRST + liveBucketOf(ns);
  // Plain stores by the only writer; the main thread's Atomics.load reads them (a lagging estimate).
  words[b] = (words[b] ?? 0) + 1;
  words[LIVE_SAMPLES_INDEX] = ++samples;
}

/** Called for each record (zero-copy: the payload is `data[offset, offset + size)`). */
export function handle(data: Uint8Array, offset: number, size: number): unknown {
  if (user !== undefined) {
    // A throw goes to the runtime, which counts it; the record is then not timed.
    const result = user(data, offset, size);
    if (size >= INSTRUMENTED_HEADER_BYTES) sample(data, offset);
    return result;
  }
  if (--countdown !== 0) return;
  countdown = every;
  if (size < INSTRUMENTED_HEADER_BYTES) return;
  sample(data, offset);
}

/** Called by the runtime at exit: the user's close() result and the latency (with a user handler). */
export async function close(): Promise<LiveHandlerClose | undefined> {
  if (user === undefined || histogram === undefined) return undefined;
  const h = histogram;
  const us = (p: number): number => (h.count === 0 ? 0 : h.percentile(p) / 1000);
  const result: LiveHandlerClose = {
    userClose: undefined,
    latencyUs: { p50: us(50), p90: us(90), p99: us(99), p999: us(99.9), max: h.count === 0 ? 0 : h.max / 1000, count: h.count },
  };
  if (userClose !== undefined) {
    try {
      result.userClose = await userClose();
    } catch (err) {
      result.userCloseError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
  }
  return result;
}
