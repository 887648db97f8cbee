/**
 * One bench run, step by step: the threaded scenarios of the selected groups (harness/threaded.ts),
 * memcpy right before the size sweep it is compared with, the wake floor beside the latency
 * scenario, the micro-operations last; then the goals, ratios and notes. An aborted `signal` stops
 * the run after the step in progress: the report then holds what ran and says so. Progress is
 * reported per step (k of n, elapsed, ETA) through `onStep`; nothing is printed here.
 * Thread: main.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOG_LEVELS, type LogLevel, type Logger } from '@ringbuf/instrument/log';
import { BenchError, describe, isRecord, needInteger, needRecord } from './errors.js';
import { measureMemcpy } from './harness/memcpy.js';
import { runMicro } from './harness/micro.js';
import { runThreaded, warmupOf } from './harness/threaded.js';
import { measureWake, type WakeResult } from './harness/wake-floor.js';
import { HICCUP_INTERVAL_US, measureHiccups } from './harness/hiccups.js';
import { machineInfo } from './machine.js';
import { renderCharts } from './report/charts.js';
import { goals, ratios } from './report/goals.js';
import { checkReport } from './report/check.js';
import { renderMarkdown } from './report/markdown.js';
import type { BenchReport } from './report/types.js';
import { RECORD_SIZES, checkGroups, threadedScenarios, type Group } from './scenarios/descriptors.js';
import type { MemcpyResult, MicroResult, ScenarioResult, ThreadedScenario, Timing } from './scenarios/types.js';

/**
 * The measurement windows of a run: the kernel bench's defaults, or tiny ones for `--quick`.
 * @throws BenchError `ERR_BENCH_OPTIONS` when `quick` is not a boolean.
 */
export function defaultTiming(quick: boolean): Timing {
  if (typeof quick !== 'boolean')
    throw new BenchError('ERR_BENCH_OPTIONS', `quick must be a boolean, got ${describe(quick)}`);
  return quick ? { windows: 2, windowMs: 25, warmupMs: 25 } : { windows: 5, windowMs: 200, warmupMs: 300 };
}

/** The bounds of a run's timing (the `ringbuf bench` options --windows, --window-ms, --warmup-ms). */
export const TIMING_LIMITS = { windows: [1, 1000], windowMs: [1, 60_000], warmupMs: [0, 60_000] } as const;

/** Every option of a run, checked before anything starts (the ringbuf command checks its own first). */
function checkOptions(options: unknown): BenchOptions {
  const o = needRecord('the bench options', options, 'ERR_BENCH_OPTIONS');
  checkGroups(o['groups'], false);
  if (typeof o['quick'] !== 'boolean')
    throw new BenchError('ERR_BENCH_OPTIONS', `quick must be a boolean, got ${describe(o['quick'])}`);
  const timing = needRecord('timing', o['timing'], 'ERR_BENCH_OPTIONS');
  for (const key of ['windows', 'windowMs', 'warmupMs'] as const) {
    const [min, max] = TIMING_LIMITS[key];
    needInteger(`timing.${key}`, timing[key], min, max, 'ERR_BENCH_OPTIONS');
  }
  if (!(LOG_LEVELS as readonly unknown[]).includes(o['logLevel'])) {
    throw new BenchError(
      'ERR_BENCH_OPTIONS',
      `logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${describe(o['logLevel'])}`,
    );
  }
  const log = o['log'];
  if (!isRecord(log) || !['info', 'warn', 'error', 'debug'].every((m) => typeof log[m] === 'function')) {
    throw new BenchError(
      'ERR_BENCH_OPTIONS',
      `log must be a pino Logger (info, warn, error, debug), got ${describe(log)}`,
    );
  }
  if (o['signal'] !== undefined && !(o['signal'] instanceof AbortSignal)) {
    throw new BenchError('ERR_BENCH_OPTIONS', `signal must be an AbortSignal, got ${describe(o['signal'])}`);
  }
  if (o['onStep'] !== undefined && typeof o['onStep'] !== 'function') {
    throw new BenchError('ERR_BENCH_OPTIONS', `onStep must be a function, got ${describe(o['onStep'])}`);
  }
  const cwd = o['cwd'];
  if (cwd !== undefined && (typeof cwd !== 'string' || cwd === '' || !isDirectory(cwd))) {
    throw new BenchError('ERR_BENCH_OPTIONS', `cwd must be the path of a directory, got ${describe(cwd)}`);
  }
  return options as BenchOptions;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** What one run does. */
export interface BenchOptions {
  groups: ReadonlySet<Group>;
  /** Tiny parameters: seconds in total, numbers not meaningful. */
  quick: boolean;
  timing: Timing;
  /** The workers' log level. */
  logLevel: LogLevel;
  log: Logger;
  /** Stops the run after the step in progress (Ctrl-C). */
  signal?: AbortSignal;
  /** Called when a step starts. */
  onStep?: (step: BenchStep) => void;
  /** Where the git revision of the report is read. @default the workspace root */
  cwd?: string;
}

/** A step starting, for a progress line. */
export interface BenchStep {
  /** 1-based index of the step, of `total`. */
  index: number;
  total: number;
  /** Scenario name, or 'memcpy', 'wake', 'micro'. */
  name: string;
  elapsedMs: number;
  /** Estimated time left, this step included (scaled by how long the steps so far really took). */
  etaMs: number;
}

type Step =
  | { kind: 'scenario'; name: string; scenario: ThreadedScenario; estimateMs: number }
  | { kind: 'memcpy' | 'wake' | 'micro'; name: string; estimateMs: number };

/** Thread start and stop around a threaded scenario's windows (measured: 100-300 ms on 2 cores). */
const SCENARIO_OVERHEAD_MS = 200;
/** Wake samples per round and rounds, full and quick. */
const WAKE_FULL = { samples: 4000, rounds: 3 };
const WAKE_QUICK = { samples: 200, rounds: 1 };
/** The hiccup meter after the wake rounds (ms). */
const HICCUP_MS = 1000;

function plan(groups: ReadonlySet<Group>, quick: boolean, timing: Timing): Step[] {
  const memcpyMs = quick ? 10 : 150;
  const microMs = quick ? 20 : 400;
  const wake = quick ? WAKE_QUICK : WAKE_FULL;
  const steps: Step[] = [];
  const memcpy: Step = { kind: 'memcpy', name: 'memcpy', estimateMs: 3 * memcpyMs * RECORD_SIZES.length };
  let memcpyPlanned = false;
  let wakePlanned = false;
  for (const scenario of threadedScenarios(groups)) {
    // memcpy is measured right before the size sweep it is compared with (load drifts over a run).
    if (scenario.group === 'sizes' && !memcpyPlanned) {
      steps.push(memcpy);
      memcpyPlanned = true;
    }
    steps.push({
      kind: 'scenario',
      name: scenario.name,
      scenario,
      estimateMs: warmupOf(scenario, timing) + timing.windows * timing.windowMs + SCENARIO_OVERHEAD_MS,
    });
    // The wake floor right after the first latency run, once: the latency goals compare with it.
    if (scenario.group === 'latency' && !wakePlanned) {
      steps.push({
        kind: 'wake',
        name: 'wake',
        estimateMs: wake.rounds * (2 * wake.samples * 0.15 + 150) + (quick ? 100 : HICCUP_MS) + 300,
      });
      wakePlanned = true;
    }
  }
  if (groups.has('memcpy') && !memcpyPlanned) steps.push(memcpy);
  if (groups.has('micro')) steps.push({ kind: 'micro', name: 'micro', estimateMs: 6 * 1.25 * microMs + 200 });
  return steps;
}

/** The workspace root (where pnpm-workspace.yaml is), else the current directory. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** Where a report goes by default: `<repo>/reports/<timestamp>`. */
export function defaultOutDir(): string {
  return path.join(repoRoot(), 'reports', new Date().toISOString().replace(/[:.]/g, '-'));
}

function notes(cores: number): string[] {
  return [
    `Producers are worker threads standing in for CPUs; this machine has ${cores} cores, ` +
      `so with the consumer thread, runs with ${cores} or more producers are oversubscribed.`,
    'Back-to-back: the consumer publishes a batch number, the single producer makes `batchCnt` records and ' +
      "publishes it back (spin, then Atomics.wait), and the consumer then polls; the kernel's consumer makes " +
      'the batch itself through a syscall. In this mode the consumer is never asleep when records are committed.',
    'Parallel: producers make batches until stopped, failing reservations count as drops; the ' +
      'consumer runs the libbpf-style `Consumer.poll(-1)` loop and sleeps when the ring is empty.',
    'Peers run right after the parallel group, in three rounds: each round runs ours (rb-peer-ref: reserve ' +
      '+ copy + submit, as rb-parallel, the copy one Uint8Array.set call; rb-peer-words: the same with the 16 ' +
      "bytes copied as four 32-bit word stores, as a producer writes a record's fields in place and as the " +
      "kernel bench's BPF program stores its sample; rb-peer-output: output() per record under the lock; " +
      'rb-peer-excl-output: one exclusive producer, output() per record; rb-peer-claim64 and rb-peer-claim64-pass, ' +
      'with -words twins), ringbuf.js and postMessage one after the other, and each ratio is the median of ' +
      'its three per-round ratios, so that it compares runs made seconds apart. postMessage runs twice per ' +
      'round: keeping at most 4096 records in flight (flow control through the hit count of the consumer; it ' +
      'has no backpressure of its own, nothing is dropped), and unbounded (fire and forget: the backlog grows ' +
      'in memory for the 1.5 s of the run, and its consumer slows); ringbuf.js counts a push that does not ' +
      'fit as a drop and its consumer busy-polls (it has no blocking wait). The per-producer SPSC rings are ' +
      '@ringbuf/core rings, one per producer, drained ring by ring by one Consumer (the perf-buffer analogue).',
    'Record sizes run back-to-back with batch 500: the producer copies each payload into the ring with ' +
      '`Uint8Array.set` (reserve, set, submit), then the consumer walks the batch without copying it ' +
      'out; production and consumption do not overlap. (In parallel mode with plain flags a consumer ' +
      'faster than its producer catches up, sleeps, and is woken at nearly every record it waits for: ' +
      'the sweep would then measure wakeups, not bandwidth.) memcpy is one thread copying the same block ' +
      'sizes into a SharedArrayBuffer. Rings hold at least 1024 records (4 KiB: 4 MiB; 64 KiB: 64 MiB).',
    'Latency: one record every 20 µs carrying its commit time (process-wide clock); in rb-latency the ' +
      "consumer sleeps in poll(-1) between records, so this is the wakeup path (plain flags: the kernel's " +
      'self-paced rule); in rb-latency-busy it polls with poll(0) and never sleeps. The latency scenarios ' +
      'warm up for at least 1 s (JIT compilation on 2 busy cores takes that long to settle; measured: ' +
      'self-paced p99 1.0-1.3 ms after 300 ms). The producer spins on the clock up to each send time, ' +
      'so records are committed on time; the clock is process.hrtime() (performance.now() boxes a ' +
      'double per call on Node 20, and a spinning thread would see scavenges every few milliseconds).',
    'Wake floor: the raw one-way latency of Atomics.notify -> Atomics.wait between two workers (no ' +
      'ring), and a sleeping ConsumerRuntime woken by a flags-0 commit to its handler under the same ' +
      'protocol (the sender waits until the other side sleeps, then spins 30 µs), in alternating rounds.',
    'User ring (BPF_MAP_TYPE_USER_RINGBUF): the main thread produces 16-byte commands to one worker, each ' +
      'stored in place as four 32-bit words, with reserve + submit (a full ring counts as a drop), with ' +
      "reserveBlocking + submit (it sleeps on the drainer's progress) and holding the ring exclusively " +
      "(claimExclusive: no lock round, as libbpf's single producer), against postMessage (4096 in flight) and " +
      'ringbuf.js (the worker busy-polls) from the main thread too, in three interleaved rounds; main measures its ' +
      "own windows (it cannot sample from its event loop while it produces), its GC counted with the worker's. " +
      'ur-blocked-wake: main fills a 4 KiB ring with one record, blocks in reserveBlocking, and a worker drains ' +
      'after it has slept 30 µs; alternately the raw Atomics.wait/notify between the same two threads (the floor ' +
      'of the goal).',
    'Kernel numbers are the published ones (2020, 28-core Xeon E5-2680 v4, native code), shown for shape only.',
  ];
}

/**
 * Runs the selected groups. Never throws for a failing scenario (its result carries `error`); the
 * report's `outDir` is null and `files` empty until {@link writeReport}. Thread: main.
 * @throws BenchError `ERR_BENCH_OPTIONS` or `ERR_BENCH_SCENARIO`, BenchRangeError
 *   `ERR_BENCH_OPTIONS` (timing out of {@link TIMING_LIMITS}): bad options, refused before
 *   anything starts. Error when memcpy, the micro-operations or the wake measurement fail.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  checkOptions(options);
  const { groups, quick, timing, log, logLevel, signal } = options;
  const machine = machineInfo(options.cwd ?? repoRoot());
  log.info({ machine, timing, groups: [...groups] }, 'bench starting');
  const steps = plan(groups, quick, timing);
  const scenarios: ScenarioResult[] = [];
  let memcpy: MemcpyResult[] = [];
  let micro: MicroResult[] = [];
  let wake: WakeResult | null = null;
  const notRun: string[] = [];
  const startedAt = performance.now();
  let estimatedDone = 0;
  for (const [i, step] of steps.entries()) {
    if (signal?.aborted) {
      notRun.push(...steps.slice(i).map((s) => s.name));
      break;
    }
    const elapsedMs = performance.now() - startedAt;
    const left = steps.slice(i).reduce((a, s) => a + s.estimateMs, 0);
    // Scale the estimate by how the steps so far compared with theirs (loaded machines run slow).
    const scale = estimatedDone > 0 ? Math.min(10, Math.max(0.5, elapsedMs / estimatedDone)) : 1;
    options.onStep?.({ index: i + 1, total: steps.length, name: step.name, elapsedMs, etaMs: left * scale });
    if (step.kind === 'scenario') scenarios.push(await runThreaded(step.scenario, timing, log, logLevel));
    else if (step.kind === 'memcpy') memcpy = measureMemcpy(RECORD_SIZES, quick ? 10 : 150);
    else if (step.kind === 'micro') micro = await runMicro(quick ? 20 : 400);
    else {
      const w = quick ? WAKE_QUICK : WAKE_FULL;
      wake = await measureWake(w.samples, w.rounds);
      // The machine's own tail, right after: two threads keep the latency runs' schedule, no ring.
      const { histogram: _h, ...machineTail } = await measureHiccups(quick ? 100 : HICCUP_MS, 2, HICCUP_INTERVAL_US);
      wake.machine = machineTail;
    }
    estimatedDone += step.estimateMs;
  }
  const interrupted = notRun.length > 0;
  if (interrupted) log.warn({ notRun: notRun.length }, 'bench interrupted');
  return {
    tool: 'ringbuf bench',
    schemaVersion: 2,
    machine,
    interrupted,
    notRun,
    options: { quick, ...timing, groups: [...groups] },
    scenarios,
    memcpy,
    micro,
    wake,
    ratios: ratios(scenarios),
    goals: goals(scenarios, memcpy, wake),
    notes: notes(machine.cores),
    files: [],
    outDir: null,
  };
}

/**
 * Writes report.json, report.md and the SVG charts into `outDir` (created if needed), and records
 * them in `report.files` and `report.outDir`. Thread: main.
 * @throws BenchError `ERR_BENCH_REPORT` (not a bench report) or `ERR_BENCH_OUT_DIR` (not a path, a
 *   file, under a file, or not writable), refused before anything is rendered or written, the
 *   report unchanged. Error when a file cannot be written.
 */
export async function writeReport(report: BenchReport, outDir: string): Promise<BenchReport> {
  checkReport(report);
  checkOutDir(outDir);
  const charts = await renderCharts(report.scenarios, report.memcpy, report.machine.cores, report.wake);
  mkdirSync(outDir, { recursive: true });
  report.outDir = outDir;
  report.files = [];
  for (const c of charts) {
    writeFileSync(path.join(outDir, c.file), c.svg);
    report.files.push(c.file);
  }
  report.files.push('report.md', 'report.json');
  writeFileSync(path.join(outDir, 'report.md'), renderMarkdown(report, charts));
  writeFileSync(path.join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** An output directory that can be made: a path whose nearest existing ancestor is a writable directory. */
function checkOutDir(outDir: unknown): void {
  const bad = (why: string): never => {
    throw new BenchError('ERR_BENCH_OUT_DIR', `the report directory ${describe(outDir)} ${why}`);
  };
  if (typeof outDir !== 'string' || outDir.trim() === '') bad('is not a path');
  const dir = path.resolve(outDir as string);
  if ((outDir as string).includes('\0')) bad('has a NUL byte');
  for (let p = dir; ; p = path.dirname(p)) {
    if (existsSync(p)) {
      if (!isDirectory(p)) bad(p === dir ? 'is a file' : `is under ${p}, which is not a directory`);
      try {
        accessSync(p, constants.W_OK);
      } catch {
        bad(p === dir ? 'is not writable' : `cannot be made: ${p} is not writable`);
      }
      return;
    }
    if (path.dirname(p) === p) return;
  }
}
