/**
 * `@ringbuf/consumer` for browsers and Web Workers (the package's `"browser"` export condition):
 * the library half only, with no Node import anywhere below it.
 *
 * - `Consumer` (libbpf's `ring_buffer__*`): `poll`/`consume`/`consumeN`/`consumeRing` anywhere;
 *   on a browser's main thread, where `Atomics.wait` is forbidden, use `pollAsync` (it sleeps with
 *   `Atomics.waitAsync`) or `poll(0)`: a `poll` that would block throws `ERR_RINGBUF_CANNOT_BLOCK`.
 * - `iterateRecords` / `RecordIterator`: records as an async iterator (pollAsync underneath).
 * - `OrderingVerifier`: per-producer FIFO and causal order of instrumented records.
 * - `countLeftBehind`: what a stopped consumer left in a ring.
 *
 * Not here (Node only): `ConsumerRuntime` and its worker (node:worker_threads), `readStats` (the
 * runtime's shared stats), the latency histograms (node:perf_hooks).
 */
export { Consumer } from './consumer.js';
export type { SampleCallback, ConsumerOptions, RingCounters, ConsumerCounters } from './consumer.js';
export { BUSY_HEAD_WAIT_MS } from './wait.js';
export { RecordIterator, iterateRecords } from './runtime/iterator.js';
export type { IteratedRecord, IterateOptions } from './runtime/iterator.js';
export { RuntimeError } from './runtime/errors.js';
export type { RuntimeErrorCode } from './runtime/errors.js';
export { countLeftBehind } from './runtime/left-behind.js';
export type { LeftBehind } from './runtime/left-behind.js';
export { OrderingVerifier, formatVerifierReport } from './verifier.js';
export type {
  VerifierOptions,
  VerifierReport,
  Violation,
  ViolationKind,
  ProducerSummary,
  FillerCheck,
} from './verifier.js';
