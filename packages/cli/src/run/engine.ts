/**
 * One measured run, as `load`, `order` and `latency` all need it:
 *
 *   RingBuffer.create (one ring, or one per producer sharing a WakeGroup: the perf-buffer design)
 *   -> ConsumerRuntime.start (ordering verifier on, latency histograms on, the live-latency handler)
 *   -> ProducerPool.run (the scenario; stopped by its duration / record count, or by the caller's
 *      AbortSignal: Ctrl-C)
 *   -> ConsumerRuntime.stop({ drain: true }) -> accounting.ts.
 *
 * While it runs, a progress line once a second (records/s, drops/s, backlog, p99 so far). Nothing
 * here runs per record: the record paths are the producers', the consumer worker's and the handler's.
 * Thread: main.
 */
import { RingBuffer, WakeGroup, BPF_RB_AVAIL_DATA, HEARTBEAT_STALL_MS } from '@ringbuf/core';
import {
  ConsumerRuntime,
  RuntimeError,
  countLeftBehind,
  type LatencySummary,
  type RuntimeReport,
  type WaitPolicy,
} from '@ringbuf/consumer';
import { ProducerModuleError, ProducerPool, type PoolResult, type Scenario } from '@ringbuf/producer-pool';
import { bytes, micros, rate } from '@ringbuf/bench';
import type { LogLevel, Logger } from '@ringbuf/instrument/log';
import { account, type Accounting } from './accounting.js';
import { LiveWindow, liveSamples, newLiveBlock, livePercentileUs } from './live-latency.js';
import { USER_MODULE_ERROR, type LiveHandlerClose, type LiveHandlerOptions } from './live-handler.js';
import { codePoints, type ProgressLine } from './progress.js';
import { StageMonitor, type StageResult } from './stage-monitor.js';
import type { TimelineRow } from './timeline.js';
import { TimelineSampler } from './timeline-sampler.js';
import { modulePath, type StageSpec } from '../options.js';
import { UserModuleError } from '../cli-errors.js';
import { ProducerWatchdog, STUCK_AFTER_MS } from './watchdog.js';
import { StallWatch, describeStall, type ConsumerStall } from './consumer-stall.js';

/** What one run does. */
export interface RunConfig {
  /** Prefix of the progress line (e.g. 'load', 'order ring', 'latency force'). */
  label: string;
  producers: number;
  scenario: Scenario;
  /** Bytes of each ring. */
  ringSize: number;
  /** Overwrite mode (BPF_F_RB_OVERWRITE). @default false */
  overwrite?: boolean;
  /** One ring per producer, drained ring by ring by one consumer (the perf-buffer design). @default false */
  perProducerRings?: boolean;
  /** How the consumer worker waits when nothing is ready. @default 'sleep' */
  wait?: WaitPolicy;
  /**
   * The consumer's poll timeout (ms, ConsumerRuntime's `pollTimeoutMs`): what a consumer needs when
   * producers commit with BPF_RB_NO_WAKEUP (the kernel's epoll timeout). 0: none.
   * @default 0
   */
  pollTimeoutMs?: number;
  /** Fault injection: kill a random producer this often (ms). */
  killEveryMs?: number;
  seed: number;
  logLevel: LogLevel;
  log: Logger;
  progress: ProgressLine;
  /** Ctrl-C: stop the producers, then drain. */
  signal?: AbortSignal;
  /** How long the final drain may take. @default 10000 */
  drainTimeoutMs?: number;
  /** A consumer heartbeat older than this (ms) while data waits is reported as a stall. @default HEARTBEAT_STALL_MS */
  stallAfterMs?: number;
  /** Live p99: sample one record in this many. @default 8 */
  sampleEvery?: number;
  /** Violation examples to keep. @default 16 */
  maxExamples?: number;
  /**
   * The user's handler module (a file URL) and its init options: run by the consumer (through
   * live-handler.ts), its throws counted, latency measured to its return.
   */
  handler?: { module: string; options: unknown };
  /** The scenario's stages (the pool's `scenario.stages`), to measure each one's achieved rate. */
  stages?: readonly StageSpec[];
  /**
   * Records sent in each producer's first this many ms are delivered and verified but left out of
   * the latency distributions (the runtime's latencyWarmupUs): JIT compilation and thread start-up
   * are not the ring's latency. The caller lengthens the scenario to match. @default 0
   */
  latencyWarmupMs?: number;
}

/** Latency percentiles in µs (the runtime's HdrHistograms, every instrumented record). */
export interface LatencyPercentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

/** What one run reports. */
export interface RunOutcome extends Accounting {
  label: string;
  producers: number;
  seed: number;
  /** Wall time from the producers' start to the end of the drain. */
  elapsedSec: number;
  /** Whether the run was cut short by Ctrl-C / SIGTERM. */
  interrupted: boolean;
  throughput: { recordsPerSec: number; bytesPerSec: number };
  latencyUs: LatencyPercentiles;
  /** Commit -> handler (records whose commit the producer stamped: open-loop runs). */
  ringLatencyUs: LatencyPercentiles;
  /** Records left out of the latency distributions as sent during the warm-up (latencyWarmupMs). */
  latencyWarmupSkipped: number;
  /** Intended send time -> commit (same records): what the producer and the machine cost. */
  sendLagUs: LatencyPercentiles;
  drain: { reason: RuntimeReport['reason']; leftBehind: number; leftBehindCommitted: number; leftBehindBusy: number };
  /** Open loop: the slowest producer's achieved rate and whether every producer met its target. */
  rate: PoolResult['rate'];
  /** Consumer wakeups (sleeps ended by a notification) and sleeps. */
  consumer: { sleeps: number; wakeups: number; polls: number; maxBacklogBytes: number };
  /** One row per second (see timeline.ts). */
  timeline: TimelineRow[];
  /** With stages: each stage's target and achieved rate. */
  stages: StageResult[];
  /** Handler throws counted by the runtime (a user handler's). */
  handlerErrors: number;
  /** The first throw: where and what. */
  firstHandlerError: { ring: number; position: number; size: number; name: string; message: string } | undefined;
  /** With a user handler: its close() result (undefined: none, or the consumer never got to it). */
  handlerClose: LiveHandlerClose | undefined;
  /** Where the latency figures come from. */
  latencySource: 'runtime' | 'handler-return' | 'live-estimate';
  /** Producer deaths not injected: the first one's error (e.g. a producer module that threw). */
  firstCrash: string | undefined;
  /** Producers the watchdog terminated: who, and the record each was stuck on (watchdog.ts). */
  stuckProducers: string[];
  /** The longest consumer stall seen (a heartbeat too old while data waited), if any. */
  consumerStall: ConsumerStall | undefined;
}

/** Test-only environment variable: milliseconds to wait between the producers' end and the drain. */
export const HOLD_ENV = 'RINGBUF_TEST_HOLD_BEFORE_DRAIN_MS';

/** The run in progress, for the second Ctrl-C's "not drained" line. */
let active: { rings: readonly RingBuffer[]; runtime: ConsumerRuntime } | undefined;

/**
 * What exiting now would leave behind in the active run: committed and BUSY records and bytes
 * (AVAIL_DATA) in its rings. Walks the rings' headers (read only). Thread: main.
 */
export function describeNotDrained(): string {
  if (active === undefined) return 'nothing (no run in progress)';
  let committed = 0;
  let busy = 0;
  let avail = 0;
  for (const ring of active.rings) {
    const left = countLeftBehind(ring);
    committed += left.committed;
    busy += left.busy;
    avail += ring.query(BPF_RB_AVAIL_DATA);
  }
  const delivered = active.runtime.stats().records;
  return (
    `${committed} committed records (${busy} still reserved), ${bytes(avail)} of ring data (AVAIL_DATA); ` +
    `${delivered} records had been delivered`
  );
}

/** A latency summary (µs fields) as the percentiles the reports print; zeros for none. */
export function percentiles(s: LatencySummary | undefined): LatencyPercentiles {
  if (s === undefined) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, count: 0 };
  return { p50: s.p50Us, p90: s.p90Us, p99: s.p99Us, p999: s.p999Us, max: s.maxUs, count: s.count };
}

/** The run's rings, live-latency block and producer pool, made before anything starts. */
interface RunParts {
  rings: RingBuffer[];
  live: SharedArrayBuffer;
  pool: ProducerPool;
  drainTimeoutMs: number;
  /** ConsumerRuntime.start's options. */
  consumer: Parameters<typeof ConsumerRuntime.start>[0];
}

/** Creates the rings (one, or one per producer sharing a WakeGroup), the pool, and the consumer's options. */
function createParts(cfg: RunConfig): RunParts {
  const { producers, ringSize, overwrite = false, perProducerRings = false } = cfg;
  const group = perProducerRings ? WakeGroup.create() : undefined;
  const rings = Array.from({ length: perProducerRings ? producers : 1 }, () =>
    RingBuffer.create({ size: ringSize, overwrite, ...(group === undefined ? {} : { wakeGroup: group }) }),
  );
  const live = newLiveBlock();
  const drainTimeoutMs = cfg.drainTimeoutMs ?? 10_000;
  const handlerOptions: LiveHandlerOptions = {
    live,
    sampleEvery: cfg.sampleEvery ?? 8,
    ...(cfg.handler === undefined ? {} : { user: cfg.handler, closeTimeoutMs: drainTimeoutMs }),
  };
  const pool = new ProducerPool({
    ring: rings.map((r) => r.share()),
    producers,
    scenario: cfg.scenario,
    seed: cfg.seed,
    logLevel: cfg.logLevel,
    ...(cfg.killEveryMs === undefined ? {} : { killEveryMs: cfg.killEveryMs }),
  });
  const consumer: RunParts['consumer'] = {
    rings,
    handler: new URL('./live-handler.js', import.meta.url),
    handlerOptions,
    verify: { allowGaps: overwrite, maxExamples: cfg.maxExamples ?? 16 },
    latency: true,
    ...(cfg.latencyWarmupMs ? { latencyWarmupUs: cfg.latencyWarmupMs * 1000 } : {}),
    wait: cfg.wait ?? 'sleep',
    pollTimeoutMs: cfg.pollTimeoutMs ?? 0,
    logLevel: cfg.logLevel,
    // A user handler's throws are counted and reported; the run goes on.
    onHandlerError: cfg.handler === undefined ? 'stop' : 'count',
  };
  return { rings, live, pool, drainTimeoutMs, consumer };
}

/** What stops the pool: Ctrl-C, or the consumer failing (nothing would drain the ring any more). */
interface PoolStop {
  /** The pool's stop signal. */
  signal: AbortSignal;
  /** The consumer's failure, if it failed. */
  readonly consumerFailed: Error | undefined;
  /** Stops listening to the caller's signal. */
  detach(): void;
}

/** Wires the caller's signal and the consumer's failure to the pool's stop signal (and the watchdog). */
function poolStop(signal: AbortSignal | undefined, runtime: ConsumerRuntime, watchdog: ProducerWatchdog): PoolStop {
  const stopPool = new AbortController();
  const onAbort = (): void => stopPool.abort();
  if (signal?.aborted) stopPool.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const stop = {
    signal: stopPool.signal,
    consumerFailed: undefined as Error | undefined,
    detach: (): void => signal?.removeEventListener('abort', onAbort),
  };
  runtime.done.catch((err: unknown) => {
    // `done` rejects with the runtime's errors (RuntimeError and its kin); anything else is wrapped.
    stop.consumerFailed = err instanceof Error ? err : new Error(String(err));
    stopPool.abort();
  });
  stopPool.signal.addEventListener('abort', () => watchdog.stopRequested(), { once: true });
  return stop;
}

/** What the progress line shows besides the row: the live p99, the totals, the stop and a stall. */
interface ProgressState {
  live: SharedArrayBuffer;
  sampler: TimelineSampler;
  stopping: AbortSignal;
  stalls: StallWatch;
}

/** Updates the progress line with one timeline row. */
function showProgress(cfg: RunConfig, row: TimelineRow, st: ProgressState): void {
  const { progress } = cfg;
  const fields: Array<[string, string, number]> = [
    [cfg.label, `${row.tSec.toFixed(0)}s`, 4],
    ['records', rate(row.recordsPerSec), 9],
    ['drops', rate(row.dropsPerSec), 9],
    ['backlog', bytes(row.backlogBytes), 9],
    ['p99', micros(livePercentileUs(st.live, 99)), 8],
  ];
  if (cfg.handler !== undefined) fields.push(['errors', String(st.sampler.handlerErrors), 0]);
  if (cfg.killEveryMs !== undefined) fields.push(['killed', String(st.sampler.killed), 0]);
  if (st.stopping.aborted) fields.push(['(stopping)', '', 0]);
  // First after the label: the line is cut to the terminal's width, and this matters most.
  if (st.stalls.current >= 0) fields.splice(1, 0, [describeStall(st.stalls.current), '', 0]);
  // Aligned columns when they fit the terminal, else tight ones (the line is cut, never wrapped).
  const aligned = fields.map(([name, value, width]) => `${name} ${value.padStart(width)}`.trimEnd()).join('  ');
  progress.update(
    codePoints(aligned).length < progress.columns
      ? aligned
      : fields.map(([name, value]) => `${name} ${value}`.trimEnd()).join(' '),
  );
}

/** The pool's result and the consumer's final report. */
interface Ran {
  pool: PoolResult;
  report: RuntimeReport;
}

/**
 * Runs the producers to the end (their scenario, or the stop signal), then drains the consumer.
 * A failed pool stops the consumer without a drain; a producer module that cannot be used becomes
 * a UserModuleError naming --producer.
 */
async function produceAndDrain(
  cfg: RunConfig,
  parts: RunParts,
  runtime: ConsumerRuntime,
  watchdog: ProducerWatchdog,
  monitor: StageMonitor | undefined,
  stop: AbortSignal,
): Promise<Ran> {
  let pool: PoolResult;
  try {
    watchdog.start();
    pool = await parts.pool.run({ signal: stop });
  } catch (err) {
    await runtime.stop({ drain: false }).catch(() => undefined);
    throw err instanceof ProducerModuleError
      ? new UserModuleError('--producer', modulePath(err.module), err.reason)
      : err;
  } finally {
    watchdog.stop();
    monitor?.stop();
  }
  cfg.log.info(
    { label: cfg.label, elapsedMs: pool.elapsedMs, totals: pool.totals, deaths: pool.deaths.length },
    'producers finished; draining',
  );
  // Test hook: keeps the window between "producers stopped" and "drained" open, so a test can
  // deliver a second Ctrl-C in it deterministically. Unset in normal use.
  const holdMs = Number(process.env[HOLD_ENV] ?? 0);
  if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
  // Bounded: a handler that never returns is terminated after the deadline plus the stop grace
  // (plus, with a user handler, the time its close() may take: the drain timeout again).
  const report = await runtime.stop({
    drain: true,
    timeoutMs: parts.drainTimeoutMs,
    stopGraceMs: 1000 + (cfg.handler === undefined ? 0 : parts.drainTimeoutMs),
  });
  return { pool, report };
}

/**
 * Runs one configuration to the end and accounts for every record.
 * @throws PoolError / RuntimeError / RingBufError when a component refuses its options or fails
 *   (the producers are stopped and the consumer stopped before the error propagates).
 */
export async function runOnce(cfg: RunConfig): Promise<RunOutcome> {
  const parts = createParts(cfg);
  const { rings, live, pool } = parts;
  const runtime = await startConsumer(cfg, parts.consumer);
  const watchdog = new ProducerWatchdog(
    pool,
    scheduledMs(cfg.scenario),
    Math.min(STUCK_AFTER_MS, parts.drainTimeoutMs),
  );
  active = { rings, runtime };
  const stop = poolStop(cfg.signal, runtime, watchdog);
  const startedAt = performance.now();
  const stalls = new StallWatch(rings, cfg.stallAfterMs ?? HEARTBEAT_STALL_MS, startedAt);
  stalls.start();
  const sampler = new TimelineSampler(
    {
      consumer: () => runtime.stats(),
      producers: () => pool.stats(),
      deaths: () => pool.deathsSoFar(),
      window: new LiveWindow(live),
      backlog: () => rings.reduce((sum, r) => sum + r.query(BPF_RB_AVAIL_DATA), 0),
    },
    startedAt,
    cfg.stages,
  );
  const monitor = cfg.stages === undefined ? undefined : new StageMonitor(cfg.stages, () => pool.stats());
  monitor?.start();
  const shown: ProgressState = { live, sampler, stopping: stop.signal, stalls };
  const ticker = setInterval(() => showProgress(cfg, sampler.sample(performance.now()), shown), 1000);
  let ran: Ran;
  try {
    ran = await produceAndDrain(cfg, parts, runtime, watchdog, monitor, stop.signal);
  } finally {
    clearInterval(ticker);
    stalls.stop();
    // The last partial second (so the rows account for every record delivered).
    sampler.finish(performance.now());
    stop.detach();
    active = undefined;
    cfg.progress.end();
  }
  if (stop.consumerFailed !== undefined) throw stop.consumerFailed;
  const elapsedSec = (performance.now() - startedAt) / 1000;
  return outcome(cfg, ran, {
    elapsedSec,
    live,
    timeline: sampler.rows,
    stages: monitor?.results() ?? [],
    consumerStall: stalls.longest,
  });
}

/** What the run measured besides the pool's result and the consumer's report. */
interface Measured {
  elapsedSec: number;
  live: SharedArrayBuffer;
  timeline: TimelineRow[];
  stages: StageResult[];
  consumerStall: ConsumerStall | undefined;
}

/**
 * The latency figures and where they come from: the runtime's histograms; with a user handler, to
 * its return (its own histogram); if the consumer never got to its close() (a handler that hung:
 * terminated), the live buckets' estimate.
 */
function latencyFigures(
  cfg: RunConfig,
  report: RuntimeReport,
  live: SharedArrayBuffer,
): Pick<RunOutcome, 'latencySource' | 'latencyUs' | 'handlerClose'> {
  const handlerClose = cfg.handler === undefined ? undefined : (report.handlerClose as LiveHandlerClose | undefined);
  const latencySource: RunOutcome['latencySource'] =
    cfg.handler === undefined ? 'runtime' : handlerClose !== undefined ? 'handler-return' : 'live-estimate';
  const latencyUs: LatencyPercentiles =
    latencySource === 'runtime'
      ? percentiles(report.latency?.total)
      : latencySource === 'handler-return' && handlerClose !== undefined
        ? handlerClose.latencyUs
        : liveEstimate(live);
  return { latencySource, latencyUs, handlerClose };
}

/** The first producer that died on its own, where it was and why (undefined: none). */
function describeCrash(deaths: PoolResult['deaths']): string | undefined {
  const crash = deaths.find((d) => d.cause === 'crashed');
  if (crash === undefined) return undefined;
  const where =
    crash.inHand === 'none'
      ? `between records (after seq ${crash.lastCommittedSeq})`
      : `on record seq ${crash.lastCommittedSeq + 1}`;
  return `producer ${crash.producerId} (slot ${crash.slot}), ${where}: ${crash.error}`;
}

/** The consumer's side of the outcome: its drain, counters and handler errors. */
function consumerFigures(
  report: RuntimeReport,
  timeline: readonly TimelineRow[],
  handlerClose: LiveHandlerClose | undefined,
): Pick<RunOutcome, 'drain' | 'consumer' | 'handlerErrors' | 'firstHandlerError'> {
  const stats = report.stats;
  const first = report.firstHandlerError;
  return {
    drain: {
      reason: report.reason,
      leftBehind: report.leftBehind,
      leftBehindCommitted: report.leftBehindCommitted,
      leftBehindBusy: report.leftBehindBusy,
    },
    // The timeline's backlog is read here, live even while the consumer is stuck in a handler.
    consumer: {
      sleeps: stats.sleeps,
      wakeups: stats.wakeups,
      polls: stats.polls,
      maxBacklogBytes: Math.max(stats.maxBacklog, ...timeline.map((r) => r.backlogBytes)),
    },
    // Rejections the handler dropped are its errors too (`--threshold errors==0` fails on them).
    handlerErrors: stats.handlerErrors + (handlerClose?.unhandledRejections?.count ?? 0),
    firstHandlerError:
      first === undefined
        ? undefined
        : { ring: first.ring, position: first.position, size: first.size, name: first.name, message: first.message },
  };
}

/** Accounts the run and assembles its outcome. */
function outcome(cfg: RunConfig, ran: Ran, m: Measured): RunOutcome {
  const { pool, report } = ran;
  const acc = account(pool.producers, pool.deaths, report, cfg.overwrite ?? false);
  const latency = latencyFigures(cfg, report, m.live);
  const consumer = consumerFigures(report, m.timeline, latency.handlerClose);
  cfg.log.info(
    { label: cfg.label, reason: report.reason, delivered: report.delivered, lost: acc.lost },
    'run accounted',
  );
  return {
    label: cfg.label,
    producers: cfg.producers,
    seed: pool.seed,
    elapsedSec: m.elapsedSec,
    interrupted: cfg.signal?.aborted === true,
    ...acc,
    throughput: { recordsPerSec: acc.records.consumed / m.elapsedSec, bytesPerSec: acc.consumedBytes / m.elapsedSec },
    latencyUs: latency.latencyUs,
    ringLatencyUs: percentiles(report.latency?.ring),
    sendLagUs: percentiles(report.latency?.sendLag),
    latencyWarmupSkipped: report.latency?.warmupSkipped ?? 0,
    drain: consumer.drain,
    rate: pool.rate,
    consumer: consumer.consumer,
    timeline: m.timeline,
    stages: m.stages,
    handlerErrors: consumer.handlerErrors,
    firstHandlerError: consumer.firstHandlerError,
    handlerClose: latency.handlerClose,
    latencySource: latency.latencySource,
    firstCrash: describeCrash(pool.deaths),
    stuckProducers: pool.deaths
      .filter((d) => d.cause === 'watchdog')
      .map((d) => `producer ${d.producerId} (slot ${d.slot}) ${d.error}`),
    consumerStall: m.consumerStall,
  };
}

/** How long each producer runs by the scenario (ms): its duration or its stages' total; Infinity for records alone. */
function scheduledMs(sc: Scenario): number {
  const stagesMs = sc.stages === undefined ? Infinity : sc.stages.reduce((sum, st) => sum + st.durationMs, 0);
  return Math.min(sc.durationMs ?? Infinity, stagesMs);
}

/**
 * ConsumerRuntime.start; a user handler module that cannot be used (live-handler.ts names its errors
 * USER_MODULE_ERROR) becomes a UserModuleError naming --handler and the file.
 */
async function startConsumer(
  cfg: RunConfig,
  options: Parameters<typeof ConsumerRuntime.start>[0],
): Promise<ConsumerRuntime> {
  try {
    return await ConsumerRuntime.start(options);
  } catch (err) {
    const cause =
      err instanceof RuntimeError ? (err.cause as { name?: unknown; message?: unknown } | undefined) : undefined;
    if (cfg.handler === undefined || cause?.name !== USER_MODULE_ERROR) throw err;
    throw new UserModuleError('--handler', modulePath(cfg.handler.module), String(cause.message));
  }
}

/** Percentiles from the live buckets (12.5 % resolution): when no exact histogram came back. */
function liveEstimate(live: SharedArrayBuffer): LatencyPercentiles {
  const at = (p: number): number => {
    const v = livePercentileUs(live, p);
    return Number.isNaN(v) ? 0 : v;
  };
  return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: at(100), count: liveSamples(live) };
}
