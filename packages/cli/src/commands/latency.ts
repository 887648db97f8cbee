/**
 * `ringbuf latency`: open-loop fixed-rate load, end-to-end latency percentiles per wake policy side
 * by side (self-paced, sampled, force, busy-polling consumer), with the raw Atomics.wait/notify
 * one-way wake latency between two workers measured in the same run as the floor.
 */
import os from 'node:os';
import { createHistogram } from 'node:perf_hooks';
import { summarize, type WaitPolicy } from '@ringbuf/consumer';
import { SPIN_BEFORE_SEND_US, type WakeupPolicy } from '@ringbuf/producer-pool';
import {
  FLOOR_SETTLE_US,
  HICCUP_STALL_GAP_US,
  MAX_HICCUP_THREADS,
  measureHiccups,
  measureWakeFloorCorrected,
  micros,
  rate,
  textTable,
  type HiccupResult,
} from '@ringbuf/bench';
import { LOG_LEVELS, childLogger, threadLogger } from '@ringbuf/instrument/log';
import { oneOf, parseOptions } from '../cli-errors.js';
import {
  checkFits,
  integer,
  largestPayload,
  logLevel,
  nonNegativeNumber,
  payloadSize,
  positiveNumber,
  ringSize,
  COMMON_OPTIONS,
} from '../options.js';
import { EXIT_FAILED, EXIT_OK, runPassed } from '../report/load-report.js';
import { runOnce, describeNotDrained, percentiles, type LatencyPercentiles, type RunOutcome } from '../run/engine.js';
import { ProgressLine } from '../run/progress.js';
import { interrupts } from '../run/signals.js';

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

interface Policy {
  name: string;
  wakeup: WakeupPolicy;
  wait: WaitPolicy;
  what: string;
}

function policies(selected: ReadonlySet<PolicyName>, sampled: number): Policy[] {
  const all: Array<[PolicyName, Policy]> = [
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

/**
 * Runs the command. Returns the exit code. Thread: main.
 * @throws UsageError for bad options (the dispatcher prints it and exits 2).
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
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
  });
  if (values.help) {
    process.stdout.write(usage);
    return EXIT_OK;
  }
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
  threadLogger(level);
  const log = childLogger({ component: 'cli', command: 'latency' });
  const progress = new ProgressLine(process.stderr, !values.quiet);
  const signal = interrupts.begin({
    stopping: 'stopping the producers and draining the consumer',
    notDrained: describeNotDrained,
    say: (line) => progress.message(line),
  });
  try {
    const floor = createHistogram();
    const floorCorrected = createHistogram();
    const intervals: number[] = [];
    const measureFloor = async (samples: number): Promise<void> => {
      const m = await measureWakeFloorCorrected(samples);
      floor.add(m.raw);
      floorCorrected.add(m.corrected);
      intervals.push(m.intervalUs);
    };
    const hiccupRuns: HiccupResult[] = [];
    const hiccupMs = Math.max(1, Math.round(Math.min(durationSec, HICCUP_MAX_SEC) * 1000));
    const hiccupIntervalUs = Math.max(1, Math.round(1e6 / ratePerProducer));
    const half = Math.ceil(floorSamples / 2);
    progress.update(`latency: raw Atomics.wait/notify floor, ${half} samples`);
    await measureFloor(half);
    const runs: Array<{ policy: Policy; outcome: RunOutcome }> = [];
    for (const policy of policies(selected, sampled)) {
      if (signal.aborted) break;
      progress.update(
        `latency: machine hiccups before ${policy.name}, ${Math.min(producers + 1, MAX_HICCUP_THREADS)} threads, ${hiccupMs} ms`,
      );
      hiccupRuns.push(await measureHiccups(hiccupMs, Math.min(producers + 1, MAX_HICCUP_THREADS), hiccupIntervalUs));
      if (signal.aborted) break;
      const outcome = await runOnce({
        label: `latency ${policy.name}`,
        producers,
        scenario: {
          durationMs: (durationSec + warmupSec) * 1000,
          ratePerProducer,
          payload: size,
          wakeup: policy.wakeup,
        },
        latencyWarmupMs: warmupSec * 1000,
        ringSize: ring,
        wait: policy.wait,
        seed,
        logLevel: level,
        log,
        progress,
        signal,
      });
      runs.push({ policy, outcome });
    }
    if (!signal.aborted) {
      progress.update(`latency: raw Atomics.wait/notify floor, ${floorSamples - half} more samples`);
      await measureFloor(floorSamples - half);
      progress.end();
    }
    const floorUs = percentiles(summarize(floor));
    // The floor is closed-loop (one notify at a time): corrected for coordinated omission at its own
    // mean sample interval it weighs the machine's stalls as the paced policies feel them.
    const floorCorrectedUs = percentiles(summarize(floorCorrected));
    const correctedIntervalUs = intervals.reduce((a, b) => a + b, 0) / Math.max(1, intervals.length);
    const hiccups = mergeHiccups(hiccupRuns);
    // Producers spin the last SPIN_BEFORE_SEND_US before each send time (all of it at short
    // intervals); with the consumer counted busy, more busy threads than cores and the tails are the
    // scheduler's time slices.
    const cores = os.availableParallelism();
    const spinShare = Math.min(1, SPIN_BEFORE_SEND_US / hiccupIntervalUs);
    const busyThreads = producers * spinShare + 1;
    const oversubscribed = busyThreads > cores;
    const ok = runs.every((r) => runPassed(r.outcome));
    if (values.json) {
      process.stdout.write(
        JSON.stringify({
          producers,
          ratePerProducer,
          durationSec,
          warmupSec,
          cores,
          oversubscribed,
          size,
          ringSize: ring,
          seed,
          interrupted: signal.aborted,
          floor: {
            what: 'raw Atomics.notify -> Atomics.wait one-way, two workers',
            settleUs: FLOOR_SETTLE_US,
            latencyUs: floorUs,
            correctedLatencyUs: floorCorrectedUs,
            correctedIntervalUs,
          },
          hiccups: {
            what: "threads keeping the producers' schedule with no ring (a hiccup meter), before each policy",
            threads: hiccupRuns[0]?.threads ?? 0,
            intervalUs: hiccupIntervalUs,
            msPerPolicy: hiccupMs,
            latencyUs: hiccups.latencyUs,
            stalledFraction: hiccups.stalledFraction,
            stallGapUs: HICCUP_STALL_GAP_US,
          },
          policies: runs.map(({ policy, outcome: o }) => ({
            name: policy.name,
            wakeup: typeof policy.wakeup === 'string' ? policy.wakeup : `sampled:${policy.wakeup.sampled}`,
            wait: policy.wait,
            latencyUs: o.latencyUs,
            ringLatencyUs: o.ringLatencyUs,
            sendLagUs: o.sendLagUs,
            floorMultiple: {
              latency: multiples(o.latencyUs, floorUs),
              ring: multiples(o.ringLatencyUs, floorUs),
              ringCorrected: multiples(o.ringLatencyUs, floorCorrectedUs),
            },
            hiccupMultiple: {
              latencyP99: ratioOf(o.latencyUs.p99, hiccups.latencyUs.p99),
              ringP99: ratioOf(o.ringLatencyUs.p99, hiccups.latencyUs.p99),
            },
            samples: o.latencyUs.count,
            warmupSkipped: o.latencyWarmupSkipped,
            records: o.records,
            lost: o.lost,
            duplicates: o.duplicates,
            orderViolations: o.orderViolations,
            consumer: o.consumer,
            rate: o.rate ?? null,
          })),
          ok,
        }) + '\n',
      );
    } else {
      const cells = (l: LatencyPercentiles): string[] => [
        micros(l.p50),
        micros(l.p90),
        micros(l.p99),
        micros(l.p999),
        micros(l.max),
      ];
      const times = (l: LatencyPercentiles): string => {
        const m = multiples(l, floorUs);
        return `${m.p50.toFixed(1)}× / ${m.p99.toFixed(1)}×`;
      };
      const distribution = (
        title: string,
        pick: (o: RunOutcome) => LatencyPercentiles,
        withFloor: boolean,
      ): string[] => {
        const rows = runs.map(({ policy, outcome: o }) => [
          policy.name,
          ...cells(pick(o)),
          withFloor ? times(pick(o)) : '',
        ]);
        if (withFloor) {
          rows.push(['raw wait/notify', ...cells(floorUs), '1.0× / 1.0×']);
          rows.push(['floor, CO-corrected', ...cells(floorCorrectedUs), times(floorCorrectedUs)]);
          if (hiccupRuns.length > 0)
            rows.push(['machine, no ring', ...cells(hiccups.latencyUs), times(hiccups.latencyUs)]);
        }
        return [
          title,
          textTable(['policy', 'p50', 'p90', 'p99', 'p99.9', 'max', withFloor ? 'p50 / p99 × floor' : ''], rows),
          '',
        ];
      };
      const summaryRows = runs.map(({ policy, outcome: o }) => [
        policy.name,
        String(o.consumer.wakeups),
        String(o.records.consumed),
        `${o.lost}/${o.duplicates}/${o.orderViolations}`,
        o.rate === undefined ? '' : `${rate(o.rate.slowestAchieved)}${o.rate.met ? '' : ' (missed)'}`,
        policy.what,
      ]);
      const lines = [
        `ringbuf latency — ${producers} producers × ${rate(ratePerProducer)} open loop, ${durationSec} s per policy after ${warmupSec} s of warm-up, ${typeof size === 'number' ? size : `${largestPayload(size)} max`} B records, ring ${ring} B, seed ${seed}`,
        '',
        ...distribution(
          'Latency: intended send time -> handler (end to end, µs clock shared by the threads)',
          (o) => o.latencyUs,
          true,
        ),
        ...distribution(
          'Ring latency: commit -> handler (what the ring and its wakeup cost)',
          (o) => o.ringLatencyUs,
          true,
        ),
        ...distribution(
          'Send lag: intended send time -> commit (what the producer and the machine cost)',
          (o) => o.sendLagUs,
          false,
        ),
        textTable(['policy', 'wakeups', 'records', 'lost/dup/order', 'rate/producer', 'what'], summaryRows),
        '',
        `The floor: raw Atomics.notify -> Atomics.wait one-way between two workers, no ring, ${floorUs.count} samples. It sends one`,
        `notify at a time, so a stall of the machine costs it one sample; "CO-corrected" adds what a sender on a fixed`,
        `schedule would have seen behind each late sample (HdrHistogram's correction at its ${correctedIntervalUs.toFixed(1)} µs sample interval).`,
        ...(hiccupRuns.length > 0
          ? [
              `"machine, no ring": ${hiccupRuns[0]?.threads ?? 0} threads keeping a ${hiccupIntervalUs} µs schedule and doing nothing else, ${hiccupMs} ms before each`,
              `policy; they lost ${(hiccups.stalledFraction * 100).toFixed(2)} % of their time in gaps over ${HICCUP_STALL_GAP_US} µs. That is the machine's own tail for a paced stream.`,
            ]
          : []),
        ...(oversubscribed
          ? [
              `Oversubscribed: ${producers} producers spinning ${Math.round(spinShare * 100)} % of the time and the consumer are ${busyThreads.toFixed(1)} busy threads on ${cores} cores,`,
              `so the tails are the scheduler's time slices (compare "machine, no ring"). For the ring's own figures: fewer --producers or a lower --rate.`,
            ]
          : []),
        ok
          ? 'OK: every run delivered every committed record once, in order.'
          : 'FAILED: records were lost, duplicated or reordered.',
      ];
      process.stdout.write(lines.join('\n') + '\n');
    }
    return ok ? EXIT_OK : EXIT_FAILED;
  } catch (err) {
    progress.end();
    log.error({ err }, 'latency run failed');
    process.stderr.write(`ringbuf latency: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    interrupts.end();
  }
}

/** Longest hiccup measurement before each policy (s). */
const HICCUP_MAX_SEC = 1;

/** The hiccup runs merged: percentiles weighted by their ticks, the stalled share averaged. */
function mergeHiccups(runs: readonly HiccupResult[]): { latencyUs: LatencyPercentiles; stalledFraction: number } {
  const h = createHistogram();
  let stalled = 0;
  for (const r of runs) {
    h.add(r.histogram);
    stalled += r.stalledFraction;
  }
  return {
    latencyUs: percentiles(summarize(h)),
    stalledFraction: runs.length > 0 ? stalled / runs.length : 0,
  };
}

/** a / b, or 0 when b is 0. */
function ratioOf(a: number, b: number): number {
  return b > 0 ? a / b : 0;
}

/** A distribution's p50 and p99 as multiples of the floor's (0 when the floor has no samples). */
function multiples(l: LatencyPercentiles, floor: LatencyPercentiles): { p50: number; p99: number } {
  return { p50: floor.p50 > 0 ? l.p50 / floor.p50 : 0, p99: floor.p99 > 0 ? l.p99 / floor.p99 : 0 };
}
