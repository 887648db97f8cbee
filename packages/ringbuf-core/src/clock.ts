/**
 * A monotonic clock in milliseconds that allocates nothing per read on Node 20, for the waits of the
 * protocol (the lock's deadline, the consumer's timeouts).
 *
 * On Node 20 `performance.now()` is a native call that returns a freshly boxed double: 16 bytes of
 * garbage per read, and a thread that reads the clock in a loop runs scavenges every few
 * milliseconds. `process.hrtime()` writes into a typed array inside Node and builds its small
 * `[seconds, nanoseconds]` array in JavaScript, which V8 removes by escape analysis once the call is
 * inlined (measured: 3 scavenges in a second of 20 µs spins, against 150-280 with
 * `performance.now()`). It is reached through `globalThis.process`, so core keeps no `node:`
 * import; where there is no `process` (a browser) `performance.now()` serves.
 *
 * The origin is arbitrary (Node: the hrtime epoch, process-wide; a browser: the Unix epoch through
 * `performance.timeOrigin`): use differences only.
 */

type Hrtime = () => [number, number];

const hrtime: Hrtime | undefined = (globalThis as { process?: { hrtime?: Hrtime } }).process?.hrtime;

function hrtimeMs(): number {
  const t = (hrtime as Hrtime)();
  return t[0] * 1e3 + t[1] / 1e6;
}

function performanceMs(): number {
  // From the shared time origin, so that two workers' readings compare (each realm has its own).
  return performance.timeOrigin + performance.now();
}

/** Milliseconds on a monotonic clock with an arbitrary origin. */
export const monotonicMs: () => number = hrtime !== undefined ? hrtimeMs : performanceMs;

/**
 * A timeout for `Atomics.wait` in whole milliseconds, rounded up (Infinity stays Infinity): a
 * computed double passed to `Atomics.wait` is boxed on Node 20 (16 bytes per call), an integer is
 * not. Waits end at most 1 ms late, as `epoll_wait`'s integer milliseconds would.
 */
export function waitTimeoutMs(ms: number): number {
  return ms === Infinity ? Infinity : ms <= 0 ? 0 : Math.ceil(ms);
}
