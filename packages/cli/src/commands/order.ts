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
import { LOG_LEVELS, childLogger, threadLogger } from '@ringbuf/instrument/log';
import { UsageError, parseOptions } from '../cli-errors.js';
import { integer, logLevel, ringSize, wakeup, wakeupName, COMMON_OPTIONS } from '../options.js';
import { EXIT_FAILED, EXIT_OK, describeViolation } from '../report/load-report.js';
import type { OrderCapture, OrderCaptureOptions } from '../report/order-capture.js';
import { CAPTURE_TOKENS, ORDER_TIMELINE_FILE, writeOrderTimeline } from '../report/order-timeline.js';
import { runOnce, describeNotDrained, type RunOutcome } from '../run/engine.js';
import { ProgressLine } from '../run/progress.js';
import { interrupts } from '../run/signals.js';

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

/**
 * Runs the command. Returns the exit code. Thread: main.
 * @throws UsageError for bad options (the dispatcher prints it and exits 2).
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    producers: { type: 'string' },
    events: { type: 'string' },
    'ring-size': { type: 'string' },
    wakeup: { type: 'string' },
    examples: { type: 'string' },
    out: { type: 'string' },
    ...COMMON_OPTIONS,
  });
  if (values.help) {
    process.stdout.write(usage);
    return EXIT_OK;
  }
  const level = logLevel(values['log-level']);
  const producers = integer('--producers', values.producers, 3, 2, 64);
  const events = integer('--events', values.events, 30_000, producers, 100_000_000);
  const ring = ringSize('--ring-size', values['ring-size'], 1024 * 1024);
  const wake = wakeup('--wakeup', values.wakeup, 'self');
  const exampleCount = integer('--examples', values.examples, 5, 0, 16);
  const seed = integer('--seed', values.seed, Date.now() & 0x7fffffff, 0, 0x7fffffff);
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out needs a directory path');
  const outDir = values.out === undefined ? undefined : path.resolve(values.out);
  threadLogger(level);
  const log = childLogger({ component: 'cli', command: 'order' });
  // The causal scenario counts records per producer slot; the chain is producers x that long.
  const perProducer = Math.ceil(events / producers);
  const progress = new ProgressLine(process.stderr, !values.quiet);
  const signal = interrupts.begin({
    stopping: 'stopping the producers and draining the consumer',
    notDrained: describeNotDrained,
    say: (line) => progress.message(line),
  });
  try {
    const common = {
      producers,
      scenario: { records: perProducer, causal: true, payload: 64, wakeup: wake },
      ringSize: ring,
      pollTimeoutMs: wake === 'none' ? 1 : 0,
      seed,
      logLevel: level,
      log,
      progress,
      signal,
      maxExamples: 16,
      // With --out: the consumer also notes where each of the first tokens arrived (order-capture.ts).
      ...(outDir === undefined
        ? {}
        : {
            handler: {
              module: new URL('../report/order-capture.js', import.meta.url).href,
              options: { tokens: CAPTURE_TOKENS } satisfies OrderCaptureOptions,
            },
          }),
    };
    const shared = await runOnce({ ...common, label: 'order: one shared ring' });
    const perRing = signal.aborted
      ? undefined
      : await runOnce({ ...common, label: 'order: per-producer rings', perProducerRings: true });
    const ok =
      shared.causalViolations === 0 &&
      shared.lost === 0 &&
      shared.duplicates === 0 &&
      shared.orderViolations === 0 &&
      (perRing === undefined ||
        (perRing.lost === 0 && perRing.duplicates === 0 && perRing.orderViolations === perRing.causalViolations));
    let timeline: string | null = null;
    if (outDir !== undefined) {
      const capture = (r: RunOutcome | undefined): OrderCapture | undefined =>
        r?.handlerClose?.userClose as OrderCapture | undefined;
      const sharedCapture = capture(shared);
      if (sharedCapture === undefined) {
        progress.message(
          `ringbuf order: no timeline (the consumer did not report the delivery order${signal.aborted ? ': interrupted' : ''})`,
        );
      } else {
        const perCapture = capture(perRing);
        timeline = await writeOrderTimeline(outDir, {
          producers,
          shared: { capture: sharedCapture, violations: shared.causalViolations },
          perRing:
            perRing === undefined || perCapture === undefined
              ? undefined
              : { capture: perCapture, violations: perRing.causalViolations },
        });
      }
    }
    if (values.json) {
      process.stdout.write(
        JSON.stringify({
          ring: side(shared),
          perProducerRings: perRing === undefined ? null : side(perRing),
          producers,
          wakeup: wakeupName(wake),
          ringSize: ring,
          seed,
          interrupted: signal.aborted,
          files: timeline === null ? [] : [ORDER_TIMELINE_FILE],
          outDir: timeline === null ? null : outDir,
          ok,
        }) + '\n',
      );
    } else {
      const row = (name: string, r: RunOutcome | undefined): string[] =>
        r === undefined
          ? [name, 'not run (interrupted)', '', '', '']
          : [
              name,
              String(r.tokenEvents),
              String(r.causalViolations),
              `${r.lost} / ${r.duplicates}`,
              `${r.elapsedSec.toFixed(2)} s`,
            ];
      const lines = [
        `ringbuf order — ${producers} producers ("CPUs"), ${perProducer * producers} events, ring ${ring} B, wakeup ${wakeupName(wake)}, seed ${seed}`,
        '',
        textTable(
          ['design', 'events', 'causal violations', 'lost / duplicates', 'time'],
          [
            row('one shared MPSC ring (BPF ringbuf)', shared),
            row('per-producer rings, drained in turn (perf buffer)', perRing),
          ],
        ),
        '',
      ];
      const examples = perRing?.examples.filter((v) => v.kind === 'causal').slice(0, exampleCount) ?? [];
      if (examples.length > 0) {
        lines.push('Per-producer rings, first violations (delivery index: event delivered after a later one):');
        for (const v of examples) lines.push(`  ${describeViolation(v, producers)}`);
        lines.push('');
      }
      const sharedExamples = shared.examples.slice(0, exampleCount);
      if (sharedExamples.length > 0) {
        lines.push('Shared ring, violations (there must be none):');
        for (const v of sharedExamples) lines.push(`  ${describeViolation(v, producers)}`);
        lines.push('');
      }
      if (timeline !== null) lines.push(`Timeline of the first violated tasks: ${timeline}`, '');
      lines.push(
        ok
          ? 'OK: the shared ring delivered every event in causal order.'
          : 'FAILED: the shared ring reordered, lost or duplicated events (see above).',
      );
      process.stdout.write(lines.join('\n') + '\n');
    }
    return ok ? EXIT_OK : EXIT_FAILED;
  } catch (err) {
    progress.end();
    log.error({ err }, 'order run failed');
    process.stderr.write(`ringbuf order: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    interrupts.end();
  }
}
