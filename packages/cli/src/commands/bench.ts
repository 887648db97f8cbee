/**
 * `ringbuf bench`: the benchmark lab (`@ringbuf/bench`) from the command line. Parses the options,
 * shows one progress line per step (k of n, elapsed, ETA) on stderr, prints the table on stdout (or
 * one JSON object with `--json`) and writes report.json, report.md and SVG charts in `--out`
 * (default `<repo>/reports/<timestamp>`). Ctrl-C stops after the step in progress and prints and
 * writes the partial report, marked interrupted; a second Ctrl-C exits at once with status 130.
 */
import path from 'node:path';
import {
  GROUPS,
  clock,
  defaultOutDir,
  defaultTiming,
  renderText,
  runBench,
  writeReport,
  type Group,
  type Timing,
} from '@ringbuf/bench';
import { LOG_LEVELS, childLogger, threadLogger, type LogLevel } from '@ringbuf/instrument/log';
import { UsageError, oneOf, parseOptions } from '../cli-errors.js';
import { integer, logLevel } from '../options.js';
import { ProgressLine } from '../run/progress.js';
import { interrupts } from '../run/signals.js';

export const usage = `Usage: ringbuf bench [options]

Runs the scenarios of the kernel's bench_ringbufs (parallel, back-to-back, sampled wakeups,
reserve vs output, batch count, producer sweep), record sizes against memcpy, the peers
(postMessage, ringbuf.js, one SPSC ring per producer), latency with the raw wait/notify floor,
and micro-operations.

Options:
  --quick              tiny parameters (seconds in total; numbers and goals not meaningful)
  --scenario <group>   run only this group (repeatable): ${GROUPS.join(', ')}
  --windows <n>        measurement windows per scenario (default 5, quick 2)
  --window-ms <n>      window length in ms (default 200, quick 25)
  --warmup-ms <n>      warm-up before the windows in ms (default 300, quick 25; the latency
                       scenarios at least 1000)
  --json               print exactly one JSON object on stdout instead of the table
  --out <dir>          where report.json, report.md and the SVG charts go
                       (default <repo>/reports/<timestamp>)
  --quiet              no progress lines
  --log-level <level>  ${LOG_LEVELS.join(', ')} (default: RINGBUF_LOG_LEVEL or warn)
  -h, --help           this text

Ctrl-C (or SIGTERM) stops after the step in progress, then prints and writes the partial report
(marked interrupted); a second Ctrl-C exits at once (status 130).
Exit status: 0, 1 when a scenario failed, 2 bad options.
`;

/** The checked options of one `ringbuf bench`. */
interface BenchOptions {
  groups: Set<Group>;
  quick: boolean;
  timing: Timing;
  level: LogLevel;
  json: boolean;
  quiet: boolean;
  outDir: string;
}

/**
 * Parses and checks the command line (in the order the options are documented); undefined after
 * printing `--help`.
 * @throws UsageError for bad options.
 */
function benchOptions(argv: string[]): BenchOptions | undefined {
  const { values } = parseOptions(argv, {
    quick: { type: 'boolean', default: false },
    scenario: { type: 'string', multiple: true },
    windows: { type: 'string' },
    'window-ms': { type: 'string' },
    'warmup-ms': { type: 'string' },
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    'log-level': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(usage);
    return undefined;
  }
  const quick = values.quick;
  const defaults = defaultTiming(quick);
  const timing: Timing = {
    windows: integer('--windows', values.windows, defaults.windows, 1, 1000),
    windowMs: integer('--window-ms', values['window-ms'], defaults.windowMs, 1, 60_000),
    warmupMs: integer('--warmup-ms', values['warmup-ms'], defaults.warmupMs, 0, 60_000),
  };
  const level = logLevel(values['log-level']);
  const groups = new Set<Group>((values.scenario ?? [...GROUPS]).map((g) => oneOf('--scenario', g, GROUPS)));
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out needs a directory path');
  const outDir = values.out === undefined ? defaultOutDir() : path.resolve(values.out);
  return { groups, quick, timing, level, json: values.json, quiet: values.quiet, outDir };
}

/**
 * Runs the command. Returns the exit code: 0, 1 when a scenario failed, 2 for bad options.
 * Thread: main.
 * @throws UsageError for bad options (the dispatcher prints it and exits 2).
 */
export async function run(argv: string[]): Promise<number> {
  const o = benchOptions(argv);
  if (o === undefined) return 0;
  threadLogger(o.level);
  const log = childLogger({ component: 'cli', command: 'bench' });
  const progress = new ProgressLine(process.stderr, !o.quiet);
  let current = { index: 0, total: 0, name: '' };
  const signal = interrupts.begin({
    stopping: 'stopping after the step in progress, then writing the partial report',
    notDrained: () =>
      `the report (step ${current.index} of ${current.total}, ${current.name}, was running; ` +
      `${current.total - current.index} more not run)`,
    say: (line) => progress.message(line),
  });
  try {
    const report = await runBench({
      groups: o.groups,
      quick: o.quick,
      timing: o.timing,
      logLevel: o.level,
      log,
      signal,
      onStep: (s) => {
        current = s;
        progress.update(
          `bench ${s.index}/${s.total}  ${s.name}  elapsed ${clock(s.elapsedMs / 1000)}  ETA ${clock(s.etaMs / 1000)}`,
        );
      },
    });
    progress.end();
    await writeReport(report, o.outDir);
    if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
    else process.stdout.write(renderText(report));
    if (report.interrupted) progress.message(`ringbuf bench: interrupted; partial report in ${o.outDir}`);
    const failed = report.scenarios.filter((s) => s.error);
    if (failed.length > 0) {
      log.error({ failed: failed.map((s) => s.name) }, 'some scenarios failed');
      return 1;
    }
    return 0;
  } finally {
    progress.end();
    interrupts.end();
  }
}
