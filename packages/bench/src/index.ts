/**
 * `@ringbuf/bench`: the benchmark lab. The kernel's `bench_ringbufs` scenarios as threaded runs
 * (harness/, workers/), the JavaScript peers side by side (peers/), memcpy and micro-operations,
 * the raw Atomics wait/notify wake floor, and the reports (report/: terminal table, Markdown, JSON,
 * SVG charts). The `ringbuf` command (`@ringbuf/cli`) drives it; nothing here parses a command line
 * or prints. Layer: on top of `@ringbuf/core`, `@ringbuf/instrument` and `@ringbuf/consumer`.
 */
export { BenchError, BenchRangeError, type BenchErrorCode } from './errors.js';
export { runBench, writeReport, defaultTiming, defaultOutDir, repoRoot, TIMING_LIMITS } from './run.js';
export type { BenchOptions, BenchStep } from './run.js';
export { GROUPS, threadedScenarios } from './scenarios/descriptors.js';
export type { Group } from './scenarios/descriptors.js';
export type {
  MemcpyResult,
  MicroResult,
  ScenarioParams,
  ScenarioResult,
  Impl,
  ThreadedScenario,
  Timing,
} from './scenarios/types.js';
export {
  FLOOR_SETTLE_US,
  MAX_WAKE_ROUNDS,
  MAX_WAKE_SAMPLES,
  measureWake,
  measureWakeFloor,
  measureWakeFloorCorrected,
  measureConsumerWake,
} from './harness/wake-floor.js';
export type { HiccupSummary, WakeResult } from './harness/wake-floor.js';
export {
  HICCUP_INTERVAL_US,
  HICCUP_STALL_GAP_US,
  MAX_HICCUP_MS,
  MAX_HICCUP_THREADS,
  measureHiccups,
} from './harness/hiccups.js';
export type { HiccupResult } from './harness/hiccups.js';
export { meanStd } from './harness/stats.js';
export { machineInfo } from './machine.js';
export type { MachineInfo } from './machine.js';
export { renderText, QUICK_GOAL } from './report/table.js';
export { renderMarkdown } from './report/markdown.js';
export { renderCharts, renderSvg, latencyDistributionSpec, latencySeries, summaryPoints } from './report/charts.js';
export type { Chart, LatencySeries } from './report/charts.js';
export {
  CHART_CONFIG,
  MAX_PERCENTILE_X,
  PERCENTILE_LABEL_EXPR,
  VEGA_LITE_SCHEMA,
  chartSpec,
  chartTitle,
  logDomain,
  logTicks,
  percentileTicks,
  percentileX,
} from './report/chart-style.js';
export { MICROS, bytes, clock, micros, rate, textTable } from './report/format.js';
export type { BenchReport, Goal, Ratio } from './report/types.js';
