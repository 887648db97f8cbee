/**
 * `ringbuf latency`: open-loop fixed-rate load, end-to-end latency percentiles per wake policy side
 * by side (self-paced, sampled, force, busy-polling consumer), with the raw Atomics.wait/notify
 * one-way wake latency between two workers measured in the same run as the floor.
 */
import { createHistogram } from 'node:perf_hooks';
import { MAX_HICCUP_THREADS, measureHiccups, measureWakeFloorCorrected } from '@ringbuf/bench';
import { LOG_LEVELS, type LogLevel } from '@ringbuf/instrument/log';
import { oneOf, parseOptions } from '../cli-errors.js';
import {
  checkFits,
  integer,
  logLevel,
  nonNegativeNumber,
  payloadSize,
  positiveNumber,
  ringSize,
  COMMON_OPTIONS,
} from '../options.js';
import { EXIT_FAILED, EXIT_OK } from '../report/load-report.js';
import {
  latencyJson,
  latencyReport,
  renderLatency,
  type LatencyMeasurement,
  type LatencyPolicy,
  type LatencySettings,
} from '../report/latency-report.js';
import { printedHelp, runCommand, type CommandContext } from '../run/command.js';
import { runOnce, type RunOutcome } from '../run/engine.js';

const POLICY_NAMES = ['self', 'sampled', 'force', 'busy'] as const;
type PolicyName = (typeof POLICY_NAMES)[number];

export const usage = `Usage: ringbuf latency [options]

Producers send records on a fixed schedule (open loop: latency is measured from each record's
intended send time, so a stalled producer cannot hide its delay); one consumer worker timestamps
each record as its handler sees it. One run per wake policy:
  self      producers commit with flags 0 (the kernel's self-pacing rule), the consumer sleeps
  sampled   BPF_RB_FORCE_WAKEUP once N records are pending, else NO_WAKEUP (the kernel bench's
            --rb-sampled); the consumer sleeps, so records wait for the batch
  force     every commit BPF_RB_FORCE_WAKEUP, the consumer sleeps
  busy      the consumer never sleeps (it polls in a loop, one core busy); producers flags 0
The floor is the raw one-way latency of Atomics.notify -> Atomics.wait between two worker threads
(no ring), measured in the same run, before and after the policies; it is also shown corrected for
coordinated omission (it sends one notify at a time, where the policies send on a schedule).
The machine's own tail is measured before each policy too: as many threads as the run has
(producers and consumer) keep the producers' schedule and do nothing else, no ring (a hiccup
meter): the machine's own tail for a paced stream.

Three distributions per policy, from the stamps in each record:
  latency   intended send time -> handler (coordinated-omission free)
  ring      commit -> handler: what the ring and its wakeup cost
  send lag  intended send time -> commit: what the producer and the machine cost
Producers sleep until 200 µs before each send time and spin the rest, so they send on time.
Each policy runs --warmup seconds first: those records are delivered and checked but left out of
the distributions (JIT compilation and thread start-up are not the ring's latency).

Options:
  --producers <n>       producer workers (default 2)
  --rate <n>            records per second per producer (default 20000)
  --duration <sec>      seconds per policy, measured (default 3)
  --warmup <sec>        seconds per policy before the measured ones, 0 for none (default 1)
  --size <bytes|min-max>  payload size, at least the instrumented header's 32 (default 64)
  --ring-size <bytes>   ring data size, power of two from 4096 to 1G (default 1M)
  --sampled <n>         N of the sampled policy (default 64)
  --policy <name>       run only this policy (repeatable): ${POLICY_NAMES.join(', ')}
  --floor-samples <n>   raw wake samples, half before and half after the policies (default 2000)
  --seed <n>            seed of the run's random choices
  --quiet               no progress line
  --json                print exactly one JSON object on stdout instead of the table
  --log-level <level>   ${LOG_LEVELS.join(', ')} (default: RINGBUF_LOG_LEVEL or warn)
  -h, --help            this text

Exit status: 0 when every run delivered every record once and in order, 1 otherwise, 2 bad options.
`;

function policies(selected: ReadonlySet<PolicyName>, sampled: number): LatencyPolicy[] {
  const all: Array<[PolicyName, LatencyPolicy]> = [
    ['self', { name: 'self-paced', wakeup: 'self', wait: 'sleep', what: 'flags 0, sleeping consumer' }],
    [
      'sampled',
      {
        name: `sampled:${sampled}`,
        wakeup: { sampled },
        wait: 'sleep',
        what: `FORCE at ${sampled} pending, else NO_WAKEUP`,
      },
    ],
    ['force', { name: 'force', wakeup: 'force', wait: 'sleep', what: 'FORCE_WAKEUP on every commit' }],
    ['busy', { name: 'busy-poll', wakeup: 'self', wait: 'busy', what: 'consumer never sleeps' }],
  ];
  return all.filter(([k]) => selected.has(k)).map(([, p]) => p);
}

/** The command line, parsed by `util.parseArgs`. */
function parseArgv(argv: string[]) {
  return parseOptions(argv, {
    producers: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    size: { type: 'string' },
    'ring-size': { type: 'string' },
    sampled: { type: 'string' },
    policy: { type: 'string', multiple: true },
    'floor-samples': { type: 'string' },
    ...COMMON_OPTIONS,
  }).values;
}

/** The checked options. */
interface LatencyOptions extends LatencySettings {
  level: LogLevel;
  quiet: boolean;
  json: boolean;
  sampled: number;
  selected: ReadonlySet<PolicyName>;
  floorSamples: number;
}

/**
 * Checks every option (before anything starts).
 * @throws UsageError naming the first bad option.
 */
function checkOptions(values: ReturnType<typeof parseArgv>): LatencyOptions {
  const level = logLevel(values['log-level']);
  const producers = integer('--producers', values.producers, 2, 1, 256);
  const ratePerProducer = positiveNumber('--rate', values.rate, 20_000, 1e9);
  const durationSec = positiveNumber('--duration', values.duration, 3, 3600);
  const warmupSec = nonNegativeNumber('--warmup', values.warmup, 1, 3600);
  const size = payloadSize('--size', values.size, 64);
  const ring = ringSize('--ring-size', values['ring-size'], 1024 * 1024);
  checkFits(size, values.size, ring);
  const sampled = integer('--sampled', values.sampled, 64, 1, 1_000_000);
  const selected = new Set<PolicyName>(
    (values.policy ?? [...POLICY_NAMES]).map((p) => oneOf('--policy', p, POLICY_NAMES)),
  );
  const floorSamples = integer('--floor-samples', values['floor-samples'], 2000, 2, 1_000_000);
  const seed = integer('--seed', values.seed, Date.now() & 0x7fffffff, 0, 0x7fffffff);
  const { quiet, json } = values;
  return {
    level,
    quiet,
    json,
    producers,
    ratePerProducer,
    durationSec,
    warmupSec,
    size,
    ring,
    sampled,
    selected,
    floorSamples,
    seed,
  };
}

/**
 * Runs the command. Returns the exit code. Thread: main.
 * @throws UsageError for bad options (the dispatcher prints it and exits 2).
 */
export async function run(argv: string[]): Promise<number> {
  const values = parseArgv(argv);
  if (printedHelp(values.help, usage)) return EXIT_OK;
  const o = checkOptions(values);
  return runCommand({ name: 'latency', level: o.level, quiet: o.quiet }, async (context) => {
    const report = latencyReport(o, await measure(o, context));
    process.stdout.write(o.json ? JSON.stringify(latencyJson(report)) + '\n' : renderLatency(report));
    return report.ok ? EXIT_OK : EXIT_FAILED;
  });
}

/** Longest hiccup measurement before each policy (s). */
const HICCUP_MAX_SEC = 1;

/**
 * The measurement: half the floor samples, then per policy the machine's hiccups and the run, then
 * the other half of the floor (stops early on Ctrl-C).
 */
async function measure(o: LatencyOptions, context: CommandContext): Promise<LatencyMeasurement> {
  const { progress, signal } = context;
  // A function, not the property: it changes during the awaits.
  const stopped = (): boolean => signal.aborted;
  const m: LatencyMeasurement = {
    floor: createHistogram(),
    floorCorrected: createHistogram(),
    intervals: [],
    hiccupRuns: [],
    hiccupMs: Math.max(1, Math.round(Math.min(o.durationSec, HICCUP_MAX_SEC) * 1000)),
    hiccupIntervalUs: Math.max(1, Math.round(1e6 / o.ratePerProducer)),
    runs: [],
    interrupted: false,
  };
  const half = Math.ceil(o.floorSamples / 2);
  progress.update(`latency: raw Atomics.wait/notify floor, ${half} samples`);
  await measureFloor(m, half);
  for (const policy of policies(o.selected, o.sampled)) {
    if (stopped()) break;
    const threads = Math.min(o.producers + 1, MAX_HICCUP_THREADS);
    progress.update(`latency: machine hiccups before ${policy.name}, ${threads} threads, ${m.hiccupMs} ms`);
    m.hiccupRuns.push(await measureHiccups(m.hiccupMs, threads, m.hiccupIntervalUs));
    if (stopped()) break;
    m.runs.push({ policy, outcome: await runPolicy(o, policy, context) });
  }
  if (!stopped()) {
    progress.update(`latency: raw Atomics.wait/notify floor, ${o.floorSamples - half} more samples`);
    await measureFloor(m, o.floorSamples - half);
    progress.end();
  }
  m.interrupted = stopped();
  return m;
}

/** Adds `samples` raw wake samples to the floor histograms. */
async function measureFloor(m: LatencyMeasurement, samples: number): Promise<void> {
  const r = await measureWakeFloorCorrected(samples);
  m.floor.add(r.raw);
  m.floorCorrected.add(r.corrected);
  m.intervals.push(r.intervalUs);
}

/** One policy's run: warm-up plus the measured seconds, open loop at the producers' rate. */
function runPolicy(o: LatencyOptions, policy: LatencyPolicy, context: CommandContext): Promise<RunOutcome> {
  return runOnce({
    label: `latency ${policy.name}`,
    producers: o.producers,
    scenario: {
      durationMs: (o.durationSec + o.warmupSec) * 1000,
      ratePerProducer: o.ratePerProducer,
      payload: o.size,
      wakeup: policy.wakeup,
    },
    latencyWarmupMs: o.warmupSec * 1000,
    ringSize: o.ring,
    wait: policy.wait,
    seed: o.seed,
    logLevel: o.level,
    ...context,
  });
}
