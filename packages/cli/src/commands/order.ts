/**
 * `ringbuf order`: the seed's motivation, reproduced. A causal chain of events handed between
 * producer workers (fork, exec and exit of tasks on different "CPUs": the token of the pool's causal
 * scenario) is sent once through one shared MPSC ring and once through one ring per producer drained
 * ring by ring by one consumer (the per-CPU perf-buffer design BPF_MAP_TYPE_RINGBUF replaced).
 * Counts causal violations in each (a record with token k delivered after one with a token above k)
 * and prints examples. The shared ring must show none.
 */
import path from 'node:path';
import { textTable } from '@ringbuf/bench';
import type { Violation } from '@ringbuf/consumer';
import { LOG_LEVELS, type LogLevel } from '@ringbuf/instrument/log';
import type { WakeupPolicy } from '@ringbuf/producer-pool';
import { UsageError, parseOptions } from '../cli-errors.js';
import { integer, logLevel, ringSize, wakeup, wakeupName, COMMON_OPTIONS } from '../options.js';
import { EXIT_FAILED, EXIT_OK, describeViolation } from '../report/load-report.js';
import type { OrderCapture, OrderCaptureOptions } from '../report/order-capture.js';
import { CAPTURE_TOKENS, ORDER_TIMELINE_FILE, writeOrderTimeline } from '../report/order-timeline.js';
import { printedHelp, runCommand, type CommandContext } from '../run/command.js';
import { runOnce, type RunConfig, type RunOutcome } from '../run/engine.js';

export const usage = `Usage: ringbuf order [options]

Tasks fork on one CPU, exec on the next and exit on the next: producer workers (CPUs) hand a
causal token round, each emitting one event while it holds it (so event k is committed before
event k + 1 exists). The chain goes once through one shared MPSC ring, and once through one ring
per producer that one consumer drains ring by ring (the per-CPU perf-buffer design the kernel's
BPF ring buffer replaced). A causal violation is an event delivered after a later one.

Options:
  --producers <n>       producer workers, the "CPUs" (default 3: fork, exec and exit each on its own)
  --events <n>          events in the chain (default 30000)
  --ring-size <bytes>   bytes of each ring, a power of two from 4096 to 1G (default 1M)
  --wakeup <policy>     self, none, force, sampled:N, as in ringbuf load (default self)
  --examples <n>        violation examples to print (default 5)
  --out <dir>           write order-timeline.svg there: a few tasks' fork -> exec -> exit chains as
                        each design delivered them, violations marked
  --seed <n>            seed of the run's random choices
  --quiet               no progress line
  --json                print exactly one JSON object on stdout instead of the table
  --log-level <level>   ${LOG_LEVELS.join(', ')} (default: RINGBUF_LOG_LEVEL or warn)
  -h, --help            this text

Exit status: 0 when the shared ring shows no violation and nothing was lost or duplicated in either
run (the per-producer rings are expected to show violations), 1 otherwise, 2 bad options.
`;

function side(r: RunOutcome): Record<string, unknown> {
  return {
    events: r.tokenEvents,
    violations: r.causalViolations,
    lost: r.lost,
    duplicates: r.duplicates,
    reorders: r.orderViolations - r.causalViolations,
    elapsedSec: r.elapsedSec,
    examples: r.examples.filter((v) => v.kind === 'causal'),
  };
}

/** The command line, parsed by `util.parseArgs`. */
function parseArgv(argv: string[]) {
  return parseOptions(argv, {
    producers: { type: 'string' },
    events: { type: 'string' },
    'ring-size': { type: 'string' },
    wakeup: { type: 'string' },
    examples: { type: 'string' },
    out: { type: 'string' },
    ...COMMON_OPTIONS,
  }).values;
}

/** The checked options. */
interface OrderOptions {
  level: LogLevel;
  quiet: boolean;
  json: boolean;
  producers: number;
  /** Events per producer slot: the causal scenario counts records per slot. */
  perProducer: number;
  ring: number;
  wake: WakeupPolicy;
  exampleCount: number;
  seed: number;
  outDir: string | undefined;
}

/**
 * Checks every option (before anything starts).
 * @throws UsageError naming the first bad option.
 */
function checkOptions(values: ReturnType<typeof parseArgv>): OrderOptions {
  const level = logLevel(values['log-level']);
  const producers = integer('--producers', values.producers, 3, 2, 64);
  const events = integer('--events', values.events, 30_000, producers, 100_000_000);
  const ring = ringSize('--ring-size', values['ring-size'], 1024 * 1024);
  const wake = wakeup('--wakeup', values.wakeup, 'self');
  const exampleCount = integer('--examples', values.examples, 5, 0, 16);
  const seed = integer('--seed', values.seed, Date.now() & 0x7fffffff, 0, 0x7fffffff);
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out needs a directory path');
  const outDir = values.out === undefined ? undefined : path.resolve(values.out);
  // The causal scenario counts records per producer slot; the chain is producers x that long.
  const perProducer = Math.ceil(events / producers);
  const { quiet, json } = values;
  return { level, quiet, json, producers, perProducer, ring, wake, exampleCount, seed, outDir };
}

/** Both runs' outcomes (the second is missing when interrupted) and the verdict. */
interface OrderResult {
  shared: RunOutcome;
  perRing: RunOutcome | undefined;
  /** The timeline file written with --out, else null. */
  timeline: string | null;
  interrupted: boolean;
  ok: boolean;
}

/**
 * Runs the command. Returns the exit code. Thread: main.
 * @throws UsageError for bad options (the dispatcher prints it and exits 2).
 */
export async function run(argv: string[]): Promise<number> {
  const values = parseArgv(argv);
  if (printedHelp(values.help, usage)) return EXIT_OK;
  const o = checkOptions(values);
  return runCommand({ name: 'order', level: o.level, quiet: o.quiet }, async (context) => {
    const config = runConfig(o, context);
    const shared = await runOnce({ ...config, label: 'order: one shared ring' });
    const perRing = context.signal.aborted
      ? undefined
      : await runOnce({ ...config, label: 'order: per-producer rings', perProducerRings: true });
    const ok =
      shared.causalViolations === 0 &&
      shared.lost === 0 &&
      shared.duplicates === 0 &&
      shared.orderViolations === 0 &&
      (perRing === undefined ||
        (perRing.lost === 0 && perRing.duplicates === 0 && perRing.orderViolations === perRing.causalViolations));
    const timeline = await writeTimeline(o, shared, perRing, context);
    const result = { shared, perRing, timeline, interrupted: context.signal.aborted, ok };
    process.stdout.write(o.json ? JSON.stringify(orderJson(o, result)) + '\n' : renderOrder(o, result));
    return ok ? EXIT_OK : EXIT_FAILED;
  });
}

/** What both runs share. */
function runConfig(o: OrderOptions, context: CommandContext): Omit<RunConfig, 'label'> {
  return {
    producers: o.producers,
    scenario: { records: o.perProducer, causal: true, payload: 64, wakeup: o.wake },
    ringSize: o.ring,
    pollTimeoutMs: o.wake === 'none' ? 1 : 0,
    seed: o.seed,
    logLevel: o.level,
    ...context,
    maxExamples: 16,
    // With --out: the consumer also notes where each of the first tokens arrived (order-capture.ts).
    ...(o.outDir === undefined
      ? {}
      : {
          handler: {
            module: new URL('../report/order-capture.js', import.meta.url).href,
            options: { tokens: CAPTURE_TOKENS } satisfies OrderCaptureOptions,
          },
        }),
  };
}

/** --out: the timeline of the first tokens as each design delivered them; its file name, or null. */
async function writeTimeline(
  o: OrderOptions,
  shared: RunOutcome,
  perRing: RunOutcome | undefined,
  { progress, signal }: CommandContext,
): Promise<string | null> {
  if (o.outDir === undefined) return null;
  const capture = (r: RunOutcome | undefined): OrderCapture | undefined =>
    r?.handlerClose?.userClose as OrderCapture | undefined;
  const sharedCapture = capture(shared);
  if (sharedCapture === undefined) {
    progress.message(
      `ringbuf order: no timeline (the consumer did not report the delivery order` +
        `${signal.aborted ? ': interrupted' : ''})`,
    );
    return null;
  }
  const perCapture = capture(perRing);
  return writeOrderTimeline(o.outDir, {
    producers: o.producers,
    shared: { capture: sharedCapture, violations: shared.causalViolations },
    perRing:
      perRing === undefined || perCapture === undefined
        ? undefined
        : { capture: perCapture, violations: perRing.causalViolations },
  });
}

/** The one JSON object `--json` prints. */
function orderJson(o: OrderOptions, r: OrderResult): Record<string, unknown> {
  return {
    ring: side(r.shared),
    perProducerRings: r.perRing === undefined ? null : side(r.perRing),
    producers: o.producers,
    wakeup: wakeupName(o.wake),
    ringSize: o.ring,
    seed: o.seed,
    interrupted: r.interrupted,
    files: r.timeline === null ? [] : [ORDER_TIMELINE_FILE],
    outDir: r.timeline === null ? null : (o.outDir ?? null),
    ok: r.ok,
  };
}

/** The readable report: both designs side by side, then violation examples and the verdict. */
function renderOrder(o: OrderOptions, r: OrderResult): string {
  const row = (name: string, x: RunOutcome | undefined): string[] =>
    x === undefined
      ? [name, 'not run (interrupted)', '', '', '']
      : [
          name,
          String(x.tokenEvents),
          String(x.causalViolations),
          `${x.lost} / ${x.duplicates}`,
          `${x.elapsedSec.toFixed(2)} s`,
        ];
  const lines = [
    `ringbuf order — ${o.producers} producers ("CPUs"), ${o.perProducer * o.producers} events, ` +
      `ring ${o.ring} B, wakeup ${wakeupName(o.wake)}, seed ${o.seed}`,
    '',
    textTable(
      ['design', 'events', 'causal violations', 'lost / duplicates', 'time'],
      [
        row('one shared MPSC ring (BPF ringbuf)', r.shared),
        row('per-producer rings, drained in turn (perf buffer)', r.perRing),
      ],
    ),
    '',
  ];
  const examples = r.perRing?.examples.filter((v) => v.kind === 'causal').slice(0, o.exampleCount) ?? [];
  lines.push(
    ...exampleLines(
      'Per-producer rings, first violations (delivery index: event delivered after a later one):',
      examples,
      o.producers,
    ),
  );
  lines.push(
    ...exampleLines(
      'Shared ring, violations (there must be none):',
      r.shared.examples.slice(0, o.exampleCount),
      o.producers,
    ),
  );
  if (r.timeline !== null) lines.push(`Timeline of the first violated tasks: ${r.timeline}`, '');
  lines.push(
    r.ok
      ? 'OK: the shared ring delivered every event in causal order.'
      : 'FAILED: the shared ring reordered, lost or duplicated events (see above).',
  );
  return lines.join('\n') + '\n';
}

/** A titled list of violations and a blank line, or nothing when there are none. */
function exampleLines(title: string, examples: readonly Violation[], producers: number): string[] {
  if (examples.length === 0) return [];
  return [title, ...examples.map((v) => `  ${describeViolation(v, producers)}`), ''];
}
