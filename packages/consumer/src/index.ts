export { Consumer } from './consumer.js';
export type { SampleCallback, ConsumerOptions, RingCounters, ConsumerCounters } from './consumer.js';
export { ConsumerRuntime } from './runtime/runtime.js';
export type { ConsumerRuntimeOptions, StopOptions, RuntimeState } from './runtime/runtime.js';
export type {
  RuntimeReport,
  RuntimeStats,
  RingReport,
  StopReason,
  WaitPolicy,
  RuntimeVerifierOptions,
  HandlerFailure,
  CorruptionFailure,
} from './runtime/protocol.js';
export { RuntimeError, RuntimeHandlerError, RuntimeCorruptionError } from './runtime/errors.js';
export type { RuntimeErrorCode } from './runtime/errors.js';
export { BUSY_HEAD_WAIT_MS } from './wait.js';
export { countLeftBehind } from './runtime/left-behind.js';
export type { LeftBehind } from './runtime/left-behind.js';
export { readStats } from './runtime/stats.js';
export { RecordIterator, iterateRecords } from './runtime/iterator.js';
export type { IteratedRecord, IterateOptions } from './runtime/iterator.js';
export { OrderingVerifier, formatVerifierReport } from './verifier.js';
export type {
  VerifierOptions,
  VerifierReport,
  Violation,
  ViolationKind,
  ProducerSummary,
  FillerCheck,
} from './verifier.js';
export {
  LatencyRecorder,
  MAX_PRODUCER_HISTOGRAMS,
  OTHER_PRODUCERS,
  summarize,
  mergeHistograms,
  mergeLatencyReports,
} from './latency.js';
export type { LatencySummary, LatencyReport } from './latency.js';
