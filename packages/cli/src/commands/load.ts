/**
 * `ringbuf load`: N producer workers into one ring, one consumer worker with the ordering verifier
 * and latency histograms on; a progress line a second on stderr, then a table (or one JSON object
 * with `--json`) on stdout. Exit 1 when anything was lost, duplicated or reordered.
 */
import type { PayloadSize, Scenario } from '@ringbuf/producer-pool';
import { HEARTBEAT_STALL_MS } from '@ringbuf/core';
import { INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';
import { LOG_LEVELS, type LogLevel } from '@ringbuf/instrument/log';
import { UsageError, UserModuleError, oneOf, parseOptions } from '../cli-errors.js';
import {
  checkFits,
  integer,
  jsonValue,
  logLevel,
  moduleFile,
  modulePath,
  outDirectory,
  payloadSize,
  positiveNumber,
  ratio,
  ringSize,
  stages as parseStages,
  wakeup,
  wakeupName,
  COMMON_OPTIONS,
  type StageSpec,
} from '../options.js';
import { EXIT_FAILED, EXIT_OK, loadFailures, loadJson, renderLoad, type LoadExtras } from '../report/load-report.js';
import { printedHelp, runCommand, type CommandContext } from '../run/command.js';
import { runOnce, type RunConfig, type RunOutcome } from '../run/engine.js';
import { evaluateThresholds, parseThreshold, type Threshold } from '../run/thresholds.js';
import { writeTimeline, type StageSpan } from '../run/timeline.js';

export const usage = `Usage: ringbuf load [options]

N producer worker threads (standing in for CPUs) write instrumented records into one ring; one
consumer worker drains it, checking that every committed record arrives exactly once, in each
producer's order, and timing each one end to end. One progress line a second on stderr; a table
(or one JSON object) on stdout at the end.

Options:
  --producers <n>          producer workers (default 2)
  --duration <sec>         how long the producers run (default 5; not with --records alone)
  --records <n>            records each producer attempts, instead of a duration
                           (with --duration too: whichever ends first)
  --size <bytes|min-max>   payload size, fixed or uniform in a range, at least \
${INSTRUMENTED_HEADER_BYTES} (the instrumented header) (default 64)
  --ring-size <bytes>      ring data size: a power of two from 4096 to 1G, e.g. 65536, 1M (default 1M)
  --mode <reserve|output>  reserve + write in place + submit, or copy with bpf_ringbuf_output (default reserve)
  --discard-ratio <r>      fraction of reservations discarded instead of submitted, 0 to 1 (reserve mode)
  --wakeup <policy>        self (flags 0: the kernel's self-pacing), none (BPF_RB_NO_WAKEUP; the consumer
                           is then woken by a 1 ms poll timer), force (BPF_RB_FORCE_WAKEUP), sampled:N
                           (FORCE once N records are pending, else NO_WAKEUP) (default self)
  --rate <n>               open loop: records per second per producer on a fixed schedule (latency
                           measured from the intended send time); default closed loop (as fast as possible)
  --overwrite              overwrite mode (BPF_F_RB_OVERWRITE): producers never fail, the oldest
                           records are overwritten. Overwritten records are reported as 'overwritten'
                           and NOT counted as lost; lost still counts any committed record that was
                           neither delivered nor overwritten.
  --kill-producer-every <ms>  fault injection: kill a random producer this often (a replacement starts);
                           the ring is recovered (lock, reserved records) and nothing committed is lost
  --stages <list>          a load profile like k6's: DURATION:RATE,... e.g. 5s:1000,10s:50k,5s:0 (RATE in
                           records/s per producer, ramped linearly from the previous stage's, 0 before the
                           first; open loop, latency from the intended send time). Replaces --rate/--duration
  --handler <module>       run your handler module on the consumer: handle(data, offset, size) (or a default
                           export) gets each whole record, the \
${INSTRUMENTED_HEADER_BYTES}-byte instrumented header first, your bytes
                           after it; optional init(options) and close() (its result is in the report).
                           Latency then runs to the handler's return; its throws are counted (exit 1).
                           handle must be synchronous: an async function is refused at start (exit 2),
                           a returned promise counts as an error
  --handler-options <json> passed to the handler's init()
  --producer <module>      fill each record with your producer module: write(payload, seq, producerId) gets
                           the bytes after the instrumented header, in place (record size - \
${INSTRUMENTED_HEADER_BYTES} bytes);
                           optional init(options, { producerId, slot })
  --producer-options <json> passed to the producer's init()
  --threshold <expr>       pass/fail check on the final figures, repeatable: lost==0, p99<500us, p999<2ms,
                           throughput>1M, drops<1%, errors==0, left==0, backlog<512K (exit 1 when one fails)
  --out <dir>              write timeline.csv, timeline.json (one row a second: records/s, drops/s, backlog,
                           p50/p99 of that second, wakeups, kills), timeline.svg and report.json there
  --drain-timeout <sec>    how long the final drain may take before the consumer is stopped (and, with a
                           handler that never returns, terminated 1 s later); also how long a handler's
                           close() may take (default 10)
  --stall-after <sec>      report the consumer as stalled when its heartbeat is older than this while
                           the ring holds unread data (a hint: a dead or stuck consumer) (default 2)
  --seed <n>               seed of every random choice (sizes, discards, kills); printed in the report
  --quiet                  no progress line
  --json                   print exactly one JSON object on stdout instead of the table
  --log-level <level>      ${LOG_LEVELS.join(', ')} (default: RINGBUF_LOG_LEVEL or warn); logs go to stderr
  -h, --help               this text

The run always ends and reports: a producer that makes no progress for 1 s (or --drain-timeout if
shorter) after the end of its run or a stop request (a --producer write() that never returns) is
terminated by the watchdog and named in the report with the record it was stuck on. Ctrl-C (or
SIGTERM) stops the producers, drains the consumer and prints the final report with the loss count,
within the same bounds; a second Ctrl-C exits at once (status 130) and says what was not drained.
Exit status: 0 all delivered once and in order (and every threshold held), 1 something lost,
duplicated, reordered or left undelivered, a handler error, a stuck or crashed producer, a failed
threshold, --out files not written; 2 bad options, or a --handler / --producer module that fails to
import or init() (or an async handle()).
`;

const MODES = ['reserve', 'output'] as const;

/** Exit status for bad options and unusable user modules (what the dispatcher returns for a UsageError). */
const EXIT_USAGE = 2;

/** The command line, parsed by `util.parseArgs`. */
function parseArgv(argv: string[]) {
  return parseOptions(argv, {
    producers: { type: 'string' },
    duration: { type: 'string' },
    records: { type: 'string' },
    size: { type: 'string' },
    'ring-size': { type: 'string' },
    mode: { type: 'string' },
    'discard-ratio': { type: 'string' },
    wakeup: { type: 'string' },
    rate: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    'kill-producer-every': { type: 'string' },
    stages: { type: 'string' },
    handler: { type: 'string' },
    'handler-options': { type: 'string' },
    producer: { type: 'string' },
    'producer-options': { type: 'string' },
    threshold: { type: 'string', multiple: true },
    out: { type: 'string' },
    'drain-timeout': { type: 'string' },
    'stall-after': { type: 'string' },
    ...COMMON_OPTIONS,
  }).values;
}

type Values = ReturnType<typeof parseArgv>;

/** The checked options: what the run, the report and the JSON object need. */
interface LoadOptions extends Shown, LoadModules {
  level: LogLevel;
  quiet: boolean;
  json: boolean;
  mode: (typeof MODES)[number];
  stageList: StageSpec[] | undefined;
  seed: number;
  thresholds: Threshold[];
  outDir: string | undefined;
  drainTimeoutSec: number;
  stallAfterSec: number;
}

/** --handler, --producer and their options. */
interface LoadModules {
  handler: string | undefined;
  handlerOptions: unknown;
  producer: string | undefined;
  producerOptions: unknown;
}

/**
 * Checks every option (before anything starts).
 * @throws UsageError naming the first bad option.
 */
function checkOptions(values: Values): LoadOptions {
  const level = logLevel(values['log-level']);
  const producers = integer('--producers', values.producers, 2, 1, 256);
  const records =
    values.records === undefined ? undefined : integer('--records', values.records, 0, 1, Number.MAX_SAFE_INTEGER);
  const durationSec =
    values.duration === undefined && (records !== undefined || values.stages !== undefined)
      ? undefined
      : positiveNumber('--duration', values.duration, 5, 86_400);
  const size = payloadSize('--size', values.size, 64);
  const ring = ringSize('--ring-size', values['ring-size'], 1024 * 1024);
  checkFits(size, values.size, ring);
  const mode = values.mode === undefined ? 'reserve' : oneOf('--mode', values.mode, MODES);
  const discardRatio = ratio('--discard-ratio', values['discard-ratio'], 0);
  if (mode === 'output' && discardRatio > 0) {
    throw new UsageError(`--discard-ratio: bpf_ringbuf_output cannot discard; accepted with --mode reserve only`);
  }
  const wake = wakeup('--wakeup', values.wakeup, 'self');
  const ratePerProducer = values.rate === undefined ? undefined : positiveNumber('--rate', values.rate, 0, 1e9);
  const killEveryMs =
    values['kill-producer-every'] === undefined
      ? undefined
      : integer('--kill-producer-every', values['kill-producer-every'], 0, 1, 3_600_000);
  const seed = integer('--seed', values.seed, Date.now() & 0x7fffffff, 0, 0x7fffffff);
  const stageList = checkStages(values);
  const modules = checkModules(values);
  const thresholds = (values.threshold ?? []).map(parseThreshold);
  // Checked now: a run is never wasted on a directory that cannot be written.
  const outDir = values.out === undefined ? undefined : outDirectory('--out', values.out);
  const drainTimeoutSec = positiveNumber('--drain-timeout', values['drain-timeout'], 10, 3600);
  const stallAfterSec = positiveNumber('--stall-after', values['stall-after'], HEARTBEAT_STALL_MS / 1000, 3600);
  const { quiet, json, overwrite, stages } = values;
  return {
    level,
    quiet,
    json,
    producers,
    durationSec,
    records,
    size,
    ring,
    mode,
    discardRatio,
    wake,
    ratePerProducer,
    overwrite,
    killEveryMs,
    seed,
    stages,
    stageList,
    ...modules,
    thresholds,
    outDir,
    drainTimeoutSec,
    stallAfterSec,
  };
}

/** --stages, refused with --rate or --duration (the stages set both). */
function checkStages(values: Values): StageSpec[] | undefined {
  const stageList = values.stages === undefined ? undefined : parseStages('--stages', values.stages);
  if (stageList !== undefined && values.rate !== undefined)
    throw new UsageError('--stages: sets the rate stage by stage; not with --rate');
  if (stageList !== undefined && values.duration !== undefined)
    throw new UsageError('--stages: the stages set the duration; not with --duration');
  return stageList;
}

/** --handler and --producer modules and their JSON options (the options need their module). */
function checkModules(values: Values): LoadModules {
  const handler = values.handler === undefined ? undefined : moduleFile('--handler', values.handler);
  const handlerOptions = jsonValue('--handler-options', values['handler-options']);
  if (handler === undefined && values['handler-options'] !== undefined)
    throw new UsageError('--handler-options: needs --handler <module>');
  const producer = values.producer === undefined ? undefined : moduleFile('--producer', values.producer);
  const producerOptions = jsonValue('--producer-options', values['producer-options']);
  if (producer === undefined && values['producer-options'] !== undefined)
    throw new UsageError('--producer-options: needs --producer <module>');
  return { handler, handlerOptions, producer, producerOptions };
}

/**
 * Runs the command. Returns the exit code. Thread: main.
 * @throws UsageError for bad options (the dispatcher prints it and exits 2).
 */
export async function run(argv: string[]): Promise<number> {
  const values = parseArgv(argv);
  if (printedHelp(values.help, usage)) return EXIT_OK;
  const o = checkOptions(values);
  const frame = { name: 'load', level: o.level, quiet: o.quiet, onError: userModuleExit };
  return runCommand(frame, async (context) => {
    const shown = shownOptions(o);
    context.log.info({ options: shown, seed: o.seed }, 'load starting');
    const outcome = await runOnce(runConfig(o, context));
    const options = optionsJson(o);
    const extras: LoadExtras = {
      ...(o.handler === undefined ? {} : { handler: modulePath(o.handler) }),
      ...(o.producer === undefined ? {} : { producer: modulePath(o.producer) }),
      thresholds: evaluateThresholds(o.thresholds, thresholdFigures(outcome)),
    };
    if (o.outDir !== undefined)
      await writeOut(o.outDir, outcome, o.stageList, shown, extras, (x) => loadJson(outcome, options, x));
    if (o.json) process.stdout.write(JSON.stringify(loadJson(outcome, options, extras)) + '\n');
    else process.stdout.write(renderLoad(outcome, shown, o.overwrite, extras));
    const failures = loadFailures(outcome, extras);
    if (failures.length > 0) context.log.error({ failures }, 'load run failed its checks');
    return failures.length === 0 ? EXIT_OK : EXIT_FAILED;
  });
}

/** A --handler / --producer module that fails to import or init(): one line, no stack, exit 2. */
function userModuleExit(err: unknown): number | undefined {
  if (!(err instanceof UserModuleError)) return undefined;
  process.stderr.write(`ringbuf load: ${err.message}\n`);
  return EXIT_USAGE;
}

/** The producers' scenario. */
function scenarioOf(o: LoadOptions): Scenario {
  return {
    payload: o.size,
    api: o.mode,
    discardRatio: o.discardRatio,
    wakeup: o.wake,
    ...(o.records === undefined ? {} : { records: o.records }),
    ...(o.durationSec === undefined ? {} : { durationMs: o.durationSec * 1000 }),
    ...(o.ratePerProducer === undefined ? {} : { ratePerProducer: o.ratePerProducer }),
    ...(o.stageList === undefined
      ? {}
      : { stages: o.stageList.map((st) => ({ durationMs: st.durationSec * 1000, target: st.targetRate })) }),
    ...(o.producer === undefined ? {} : { producerModule: o.producer, producerOptions: o.producerOptions }),
  };
}

/** The run's configuration. */
function runConfig(o: LoadOptions, context: CommandContext): RunConfig {
  return {
    label: 'load',
    producers: o.producers,
    scenario: scenarioOf(o),
    ringSize: o.ring,
    overwrite: o.overwrite,
    pollTimeoutMs: o.wake === 'none' ? 1 : 0,
    ...(o.killEveryMs === undefined ? {} : { killEveryMs: o.killEveryMs }),
    ...(o.handler === undefined ? {} : { handler: { module: o.handler, options: o.handlerOptions } }),
    ...(o.stageList === undefined ? {} : { stages: o.stageList }),
    drainTimeoutMs: o.drainTimeoutSec * 1000,
    stallAfterMs: o.stallAfterSec * 1000,
    seed: o.seed,
    logLevel: o.level,
    ...context,
  };
}

/** The options as the JSON object (and report.json) show them. */
function optionsJson(o: LoadOptions): Record<string, unknown> {
  return {
    producers: o.producers,
    durationSec: o.durationSec ?? null,
    recordsPerProducer: o.records ?? null,
    size: o.size,
    ringSize: o.ring,
    mode: o.mode,
    discardRatio: o.discardRatio,
    wakeup: wakeupName(o.wake),
    ratePerProducer: o.ratePerProducer ?? null,
    overwrite: o.overwrite,
    killProducerEveryMs: o.killEveryMs ?? null,
    stages: o.stageList ?? null,
    handler: o.handler ?? null,
    handlerOptions: o.handlerOptions ?? null,
    producer: o.producer ?? null,
    producerOptions: o.producerOptions ?? null,
    thresholds: o.thresholds.map((t) => t.expr),
    out: o.outDir ?? null,
    drainTimeoutSec: o.drainTimeoutSec,
    stallAfterSec: o.stallAfterSec,
  };
}

/** What the options line of the report shows. */
interface Shown {
  producers: number;
  durationSec: number | undefined;
  records: number | undefined;
  size: PayloadSize;
  ring: number;
  mode: string;
  wake: Parameters<typeof wakeupName>[0];
  stages: string | undefined;
  ratePerProducer: number | undefined;
  handler: string | undefined;
  producer: string | undefined;
  discardRatio: number;
  overwrite: boolean;
  killEveryMs: number | undefined;
}

/** The options as the report's first line (and the SVG title) show them. */
function shownOptions(o: Shown): Record<string, string> {
  return {
    producers: String(o.producers),
    ...(o.durationSec === undefined ? {} : { duration: `${o.durationSec} s` }),
    ...(o.records === undefined ? {} : { records: `${o.records} per producer` }),
    size: typeof o.size === 'number' ? `${o.size} B` : 'min' in o.size ? `${o.size.min}-${o.size.max} B` : 'weighted',
    ring: `${o.ring} B`,
    mode: o.mode,
    wakeup: wakeupName(o.wake),
    ...(o.stages !== undefined
      ? { stages: o.stages }
      : o.ratePerProducer === undefined
        ? { loop: 'closed' }
        : { rate: `${o.ratePerProducer}/s per producer` }),
    ...(o.handler === undefined ? {} : { handler: modulePath(o.handler) }),
    ...(o.producer === undefined ? {} : { producer: modulePath(o.producer) }),
    ...(o.discardRatio > 0 ? { discard: String(o.discardRatio) } : {}),
    ...(o.overwrite ? { overwrite: 'on' } : {}),
    ...(o.killEveryMs === undefined ? {} : { 'kill every': `${o.killEveryMs} ms` }),
  };
}

/** The final figures --threshold checks. */
function thresholdFigures(outcome: RunOutcome): Parameters<typeof evaluateThresholds>[1] {
  return {
    latencyUs: outcome.latencyUs,
    throughputPerSec: outcome.throughput.recordsPerSec,
    attempted: outcome.records.attempted,
    dropped: outcome.records.dropped,
    lost: outcome.lost,
    duplicates: outcome.duplicates,
    orderViolations: outcome.orderViolations,
    malformed: outcome.malformed,
    handlerErrors: outcome.handlerErrors,
    crashed: outcome.crashed,
    leftBehind: outcome.leftBehind,
    maxBacklogBytes: outcome.consumer.maxBacklogBytes,
  };
}

/**
 * --out: the timeline files and report.json. Sets `extras.files` to what was written; when writing
 * fails (the directory was checked before the run, but may have changed since), sets
 * `extras.outError` instead: the report is printed anyway and the run fails.
 */
async function writeOut(
  outDir: string,
  outcome: RunOutcome,
  stageList: readonly { durationSec: number; targetRate: number }[] | undefined,
  shown: Record<string, string>,
  extras: LoadExtras,
  json: (x: LoadExtras) => unknown,
): Promise<void> {
  const names = ['timeline.csv', 'timeline.json', 'timeline.svg', 'report.json'];
  extras.files = names.map((n) => `${outDir.replace(/\/+$/, '')}/${n}`);
  let at = 0;
  const spans: StageSpan[] = (stageList ?? []).map((st) => ({
    startSec: at,
    endSec: (at += st.durationSec),
    targetRate: st.targetRate,
  }));
  const title = `ringbuf load — ${Object.entries(shown)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`;
  try {
    extras.files = await writeTimeline(
      outDir,
      outcome.timeline,
      spans,
      title.length > 110 ? `${title.slice(0, 109)}…` : title,
      json(extras),
    );
  } catch (err) {
    extras.files = [];
    extras.outError = `${outDir}: ${(err as Error).message}`;
  }
}
