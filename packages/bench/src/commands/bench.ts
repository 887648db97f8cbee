/**
 * `ringbuf bench`: the kernel's bench_ringbufs scenarios, the JavaScript peers side by side,
 * memcpy and micro-operations, reported as a table on stdout (or one JSON object with `--json`)
 * and as report.json, report.md and SVG charts in `--out` (default `<repo>/reports/<timestamp>`).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runThreaded, type Timing } from '../bench/harness.js';
import { measureMemcpy } from '../bench/memcpy.js';
import { runMicro } from '../bench/micro.js';
import { GROUPS, RECORD_SIZES, threadedScenarios, type Group } from '../bench/scenarios.js';
import type { MemcpyResult, MicroResult, ScenarioResult } from '../bench/types.js';
import { UsageError, intOption, oneOf, parseOptions } from '../cli-errors.js';
import { LOG_LEVELS, childLogger, setLogLevel, type LogLevel } from '../log.js';
import { machineInfo } from '../machine.js';
import { renderCharts } from '../report/charts.js';
import { goals, ratios } from '../report/goals.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderText } from '../report/table.js';
import type { BenchReport } from '../report/types.js';

/** One line for `ringbuf --help`. */
export const description = 'benchmarks modelled on the kernel\'s bench_ringbufs, with the JS peers side by side';

export const usage = `Usage: ringbuf bench [options]

Runs the scenarios of the kernel's bench_ringbufs (parallel, back-to-back, sampled wakeups,
reserve vs output, batch count, producer sweep), record sizes against memcpy, the peers
(postMessage, ringbuf.js, one SPSC ring per producer), latency and micro-operations.

Options:
  --quick              tiny parameters (seconds in total; numbers not meaningful)
  --scenario <group>   run only this group (repeatable): ${GROUPS.join(', ')}
  --windows <n>        measurement windows per scenario (default 5, quick 2)
  --window-ms <n>      window length in ms (default 200, quick 25)
  --warmup-ms <n>      warm-up before the windows in ms (default 300, quick 25)
  --json               print exactly one JSON object on stdout instead of the table
  --out <dir>          where report.json, report.md and the SVG charts go
                       (default <repo>/reports/<timestamp>)
  --log-level <level>  ${LOG_LEVELS.join(', ')} (default: RINGBUF_LOG_LEVEL or warn)
  -h, --help           this text
`;

/** The workspace root (where pnpm-workspace.yaml is), else the current directory. */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/**
 * Runs the command. Returns the exit code: 0, 1 when a scenario failed, 2 for bad options.
 * Thread: main.
 * @throws UsageError for bad options (the dispatcher prints it and exits 2).
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      windows: { type: 'string' },
      'window-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const quick = values.quick === true;
  const timing: Timing = {
    windows: intOption('--windows', values.windows, quick ? 2 : 5, 1, 1000),
    windowMs: intOption('--window-ms', values['window-ms'], quick ? 25 : 200, 1, 60_000),
    warmupMs: intOption('--warmup-ms', values['warmup-ms'], quick ? 25 : 300, 0, 60_000),
  };
  const logLevel: LogLevel = values['log-level'] === undefined ? ((process.env['RINGBUF_LOG_LEVEL'] as LogLevel) ?? 'warn') : oneOf('--log-level', values['log-level'], LOG_LEVELS);
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new UsageError(`RINGBUF_LOG_LEVEL: '${logLevel}' is not one of ${LOG_LEVELS.join(', ')}`);
  setLogLevel(logLevel);
  const selected = new Set<Group>((values.scenario ?? [...GROUPS]).map((g) => oneOf('--scenario', g, GROUPS)));
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out needs a directory path');
  const outDir = path.resolve(values.out ?? path.join(repoRoot(), 'reports', new Date().toISOString().replace(/[:.]/g, '-')));
  const log = childLogger({ component: 'bench' });
  const machine = machineInfo(repoRoot());
  log.info({ machine, timing, groups: [...selected] }, 'bench starting');

  const scenarios: ScenarioResult[] = [];
  let memcpy: MemcpyResult[] = [];
  const wantMemcpy = selected.has('memcpy') || selected.has('sizes');
  for (const s of threadedScenarios(selected)) {
    // memcpy is measured right before the size sweep it is compared with (load drifts over a run).
    if (s.group === 'sizes' && memcpy.length === 0) memcpy = measureMemcpy(RECORD_SIZES, quick ? 10 : 150);
    if (!values.json) process.stderr.write(`  ${s.name} ...\n`);
    scenarios.push(await runThreaded(s, timing, log, logLevel));
  }
  if (wantMemcpy && memcpy.length === 0) memcpy = measureMemcpy(RECORD_SIZES, quick ? 10 : 150);
  let micro: MicroResult[] = [];
  if (selected.has('micro')) micro = await runMicro(quick ? 20 : 400);

  const notes = [
    `Producers are worker threads standing in for CPUs; this machine has ${machine.cores} cores, so with the consumer thread, runs with ${machine.cores} or more producers are oversubscribed.`,
    'Back-to-back: the consumer publishes a batch number, the single producer makes `batchCnt` records and publishes it back (spin, then Atomics.wait), and the consumer then polls; the kernel\'s consumer makes the batch itself through a syscall. In this mode the consumer is never asleep when records are committed.',
    'Parallel: producers make batches until stopped, failing reservations count as drops; the consumer runs the libbpf-style `Consumer.poll(-1)` loop and sleeps when the ring is empty.',
    'Peers run right after the parallel group, between two reference runs of ours (rb-peer-ref, rb-peer-ref-2, the same as rb-parallel); the peer ratios and goals use the mean of those two, so that they compare runs made close in time. postMessage keeps at most 4096 records in flight (it has no backpressure; nothing is dropped); ringbuf.js counts a push that does not fit as a drop and its consumer busy-polls (it has no blocking wait). The per-producer SPSC rings are @ringbuf/core rings, one per producer, drained ring by ring by one Consumer (the perf-buffer analogue).',
    'Record sizes run back-to-back with batch 500: the producer copies each payload into the ring with `Uint8Array.set` (reserve, set, submit), then the consumer walks the batch without copying it out; production and consumption do not overlap. (In parallel mode with plain flags a consumer faster than its producer catches up, sleeps, and is woken at nearly every record it waits for: the sweep would then measure wakeups, not bandwidth.) memcpy is one thread copying the same block sizes into a SharedArrayBuffer. Rings hold at least 1024 records (4 KiB: 4 MiB; 64 KiB: 64 MiB).',
    'Latency: one record every 20 µs carrying its commit time (process-wide clock); the consumer sleeps in poll(-1) between records, so this is the wakeup path (plain flags: the kernel\'s self-paced rule). Its producer paces itself by spinning on the clock, and performance.now() allocates 16 bytes per call on Node 20: its GC events come from that pacing, and the run is left out of the zero-GC goal.',
    'Kernel numbers are the published ones (2020, 28-core Xeon E5-2680 v4, native code), shown for shape only.',
  ];
  const report: BenchReport = {
    tool: 'ringbuf bench',
    schemaVersion: 1,
    machine,
    options: { quick, ...timing, groups: [...selected] },
    scenarios,
    memcpy,
    micro,
    ratios: ratios(scenarios),
    goals: goals(scenarios, memcpy),
    notes,
    files: [],
    outDir,
  };
  const charts = await renderCharts(scenarios, memcpy, machine.cores);
  mkdirSync(outDir, { recursive: true });
  for (const c of charts) {
    writeFileSync(path.join(outDir, c.file), c.svg);
    report.files.push(c.file);
  }
  report.files.push('report.md', 'report.json');
  writeFileSync(path.join(outDir, 'report.md'), renderMarkdown(report, charts));
  writeFileSync(path.join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
  else process.stdout.write(renderText(report));
  const failed = scenarios.filter((s) => s.error);
  if (failed.length > 0) {
    log.error({ failed: failed.map((s) => s.name) }, 'some scenarios failed');
    return 1;
  }
  return 0;
}
