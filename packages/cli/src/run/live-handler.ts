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
 * The user's code cannot lose the report or an error:
 * - `handle` must be synchronous: an async function is refused in init() (the consumer loop is
 *   synchronous and cannot await it; its rejections would be dropped). A call that still returns a
 *   thenable counts as a handler error (thrown from here, so the runtime counts and names it), and
 *   the thenable's own rejection is observed, never left unhandled;
 * - a rejection nobody handled in this thread (a promise the handler dropped) is counted and
 *   reported by close() instead of ending the worker;
 * - the user's close() is bounded by `closeTimeoutMs`, and a result that cannot be structured-cloned
 *   (posted to the main thread) is replaced by a note;
 * - a module that fails to import or initialise fails init() with a {@link USER_MODULE_ERROR} saying
 *   what failed, which `ringbuf load` prints as one line naming --handler and the file (exit 2).
 *
 * Hot path: per record a countdown (or the user's call); per sample a clock read, a DataView read,
 * two plain stores (and a histogram record with a user handler). Nothing allocated (one DataView per
 * distinct data array: the ring's, or an overwrite walk's private copy), nothing logged. Thread: the
 * consumer worker (loaded by ConsumerRuntime).
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { types } from 'node:util';
import { describeThrown as describeError } from '@ringbuf/core';
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
  /** How long the user's close() may take before the report goes without it (ms). @default 10000 */
  closeTimeoutMs?: number;
}

/** The name of the error init() throws when the user's module cannot be used (see the module doc). */
export const USER_MODULE_ERROR = 'UserModuleError';

/** What close() returns with a user handler: the user's close() result and the latency. */
export interface LiveHandlerClose {
  /** What the user's close() returned (undefined without one). */
  userClose: unknown;
  /** The user's close() threw or did not settle in time: what happened. */
  userCloseError?: string;
  /** The user's close() result could not be structured-cloned: what was reported instead of it. */
  userCloseNote?: string;
  /** Rejections nobody handled in the consumer thread (promises the handler dropped): the count and the first. */
  unhandledRejections?: { count: number; first: string };
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
let closeTimeoutMs = 10_000;
let unhandled: { count: number; first: string } | undefined;

/** An Error with the USER_MODULE_ERROR name: what init() throws for a module that cannot be used. */
function moduleError(message: string): Error {
  const err = new Error(message);
  err.name = USER_MODULE_ERROR;
  return err;
}

/**
 * Called once by the runtime before the worker reports ready.
 * @throws Error named USER_MODULE_ERROR when the user's module fails to import, exports no handler
 *   function or an async one, or its init throws (the runtime then fails to start with
 *   ERR_RUNTIME_HANDLER_MODULE).
 */
export async function init(options: LiveHandlerOptions): Promise<void> {
  words = new Uint32Array(options.live);
  every = Math.max(1, Math.floor(options.sampleEvery));
  countdown = 1;
  if (options.user === undefined) return;
  closeTimeoutMs = options.closeTimeoutMs ?? closeTimeoutMs;
  const mod = await importUser(options.user.module);
  const handle = typeof mod.handle === 'function' ? mod.handle : mod.default;
  if (typeof handle !== 'function') throw moduleError("exports no 'handle' or default function");
  if (types.isAsyncFunction(handle)) {
    throw moduleError(
      'handle is an async function: the consumer calls it synchronously for each record and cannot await it ' +
        '(its errors would be lost); make it synchronous',
    );
  }
  if (typeof mod.init === 'function') {
    try {
      await (mod.init as (o: unknown) => unknown)(options.user.options);
    } catch (err) {
      throw moduleError(`init() threw ${describeError(err)}`);
    }
  }
  user = handle as UserHandle;
  userClose = typeof mod.close === 'function' ? (mod.close as () => unknown) : undefined;
  histogram = createHistogram();
  every = 1;
  // A rejection the handler left unhandled would end this thread (and lose the report): count it.
  process.on('unhandledRejection', (reason) => {
    if (unhandled === undefined) unhandled = { count: 0, first: describeError(reason) };
    unhandled.count++;
  });
}

type UserModule = { handle?: unknown; default?: unknown; init?: unknown; close?: unknown };

/** Imports the user's module; its failure named as such. */
async function importUser(url: string): Promise<UserModule> {
  try {
    return (await import(url)) as UserModule;
  } catch (err) {
    throw moduleError(`import failed: ${describeError(err)}`);
  }
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
    if (result !== null && typeof result === 'object') refuseThenable(result);
    return result;
  }
  if (--countdown !== 0) return;
  countdown = every;
  if (size < INSTRUMENTED_HEADER_BYTES) return;
  sample(data, offset);
}

/**
 * A handler call returned an object: if it is a thenable (an async handler in disguise), observe its
 * rejection (never unhandled) and throw, so the runtime counts this record's call as an error.
 */
function refuseThenable(result: object): void {
  const then = (result as { then?: unknown }).then;
  if (typeof then !== 'function') return;
  (then as (ok: unknown, fail: (e: unknown) => void) => unknown).call(result, undefined, () => undefined);
  throw new TypeError(
    'handle() returned a promise: the consumer does not await it, so its outcome is unknown ' +
      '(counted as an error); make handle synchronous',
  );
}

/** Called by the runtime at exit: the user's close() result and the latency (with a user handler). */
export async function close(): Promise<LiveHandlerClose | undefined> {
  if (user === undefined || histogram === undefined) return undefined;
  const h = histogram;
  const us = (p: number): number => (h.count === 0 ? 0 : h.percentile(p) / 1000);
  const result: LiveHandlerClose = {
    userClose: undefined,
    latencyUs: {
      p50: us(50),
      p90: us(90),
      p99: us(99),
      p999: us(99.9),
      max: h.count === 0 ? 0 : h.max / 1000,
      count: h.count,
    },
  };
  if (userClose !== undefined) await closeUser(userClose, result);
  // Rejections the handler dropped surface once this thread's queues run (the loop never yields).
  await new Promise((resolve) => setImmediate(resolve));
  if (unhandled !== undefined) result.unhandledRejections = { ...unhandled };
  return result;
}

/** What the close() race resolves to when the user's close() did not settle in time. */
const LATE = Symbol('late');

/** The user's close(), bounded by closeTimeoutMs; its result kept only if it can be posted. */
async function closeUser(fn: () => unknown, result: LiveHandlerClose): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => (timer = setTimeout(() => resolve(LATE), closeTimeoutMs)));
  let value: unknown;
  try {
    value = await Promise.race([Promise.resolve().then(fn), late]);
  } catch (err) {
    result.userCloseError = describeError(err);
    return;
  } finally {
    clearTimeout(timer);
  }
  if (value === LATE) {
    result.userCloseError = `close() did not settle within ${closeTimeoutMs} ms (the drain timeout)`;
    return;
  }
  try {
    // The report is posted to the main thread: a value that cannot make the trip would lose it all.
    structuredClone(value);
    result.userClose = value;
  } catch (err) {
    result.userCloseNote =
      `close() returned a value that cannot be structured-cloned, not shown ` + `(${describeError(err)})`;
  }
}
