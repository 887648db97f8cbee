/**
 * The `latency` command's report: the figures it derives from its runs (floor multiples, the machine's
 * hiccups, oversubscription), its JSON shape and its readable tables on stdout. Thread: main.
 */
import os from 'node:os';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { summarize, type WaitPolicy } from '@ringbuf/consumer';
import { SPIN_BEFORE_SEND_US, type PayloadSize, type WakeupPolicy } from '@ringbuf/producer-pool';
import { FLOOR_SETTLE_US, HICCUP_STALL_GAP_US, micros, rate, textTable, type HiccupResult } from '@ringbuf/bench';
import { largestPayload } from '../options.js';
import { percentiles, type LatencyPercentiles, type RunOutcome } from '../run/engine.js';
import { runPassed } from './load-report.js';

/** One wake policy the command compares. */
export interface LatencyPolicy {
  name: string;
  wakeup: WakeupPolicy;
  wait: WaitPolicy;
  what: string;
}

/** The run's settings, as the report shows them. */
export interface LatencySettings {
  producers: number;
  ratePerProducer: number;
  durationSec: number;
  warmupSec: number;
  size: PayloadSize;
  ring: number;
  seed: number;
}

/** What the command measured. */
export interface LatencyMeasurement {
  /** Raw one-way wait/notify samples (measureWakeFloorCorrected's `raw`). */
  floor: RecordableHistogram;
  /** The same, corrected for coordinated omission at each batch's own sample interval. */
  floorCorrected: RecordableHistogram;
  /** Mean sample interval of each floor batch (µs). */
  intervals: number[];
  /** The hiccup meter's runs, one before each policy. */
  hiccupRuns: HiccupResult[];
  /** How long each hiccup run lasted (ms). */
  hiccupMs: number;
  /** The hiccup meter's schedule (µs between ticks): the producers' own. */
  hiccupIntervalUs: number;
  /** One run per policy, in order (fewer when interrupted). */
  runs: Array<{ policy: LatencyPolicy; outcome: RunOutcome }>;
  /** Interrupted (Ctrl-C). */
  interrupted: boolean;
}

/** The figures the report shows, derived once. */
interface Derived {
  floorUs: LatencyPercentiles;
  floorCorrectedUs: LatencyPercentiles;
  correctedIntervalUs: number;
  hiccups: { latencyUs: LatencyPercentiles; stalledFraction: number };
  cores: number;
  spinShare: number;
  busyThreads: number;
  oversubscribed: boolean;
  ok: boolean;
}

/** A report: settings, measurement and what follows from them. */
export type LatencyReport = LatencySettings & LatencyMeasurement & Derived;

/** Derives the report's figures from the settings and the measurement. */
export function latencyReport(s: LatencySettings, m: LatencyMeasurement): LatencyReport {
  // Producers spin the last SPIN_BEFORE_SEND_US before each send time (all of it at short
  // intervals); with the consumer counted busy, more busy threads than cores and the tails are the
  // scheduler's time slices.
  const cores = os.availableParallelism();
  const spinShare = Math.min(1, SPIN_BEFORE_SEND_US / m.hiccupIntervalUs);
  const busyThreads = s.producers * spinShare + 1;
  return {
    ...s,
    ...m,
    floorUs: percentiles(summarize(m.floor)),
    // The floor is closed-loop (one notify at a time): corrected for coordinated omission at its own
    // mean sample interval it weighs the machine's stalls as the paced policies feel them.
    floorCorrectedUs: percentiles(summarize(m.floorCorrected)),
    correctedIntervalUs: m.intervals.reduce((a, b) => a + b, 0) / Math.max(1, m.intervals.length),
    hiccups: mergeHiccups(m.hiccupRuns),
    cores,
    spinShare,
    busyThreads,
    oversubscribed: busyThreads > cores,
    ok: m.runs.every((r) => runPassed(r.outcome)),
  };
}

/** The report as the one JSON object `--json` prints. */
export function latencyJson(r: LatencyReport): Record<string, unknown> {
  return {
    producers: r.producers,
    ratePerProducer: r.ratePerProducer,
    durationSec: r.durationSec,
    warmupSec: r.warmupSec,
    cores: r.cores,
    oversubscribed: r.oversubscribed,
    size: r.size,
    ringSize: r.ring,
    seed: r.seed,
    interrupted: r.interrupted,
    floor: {
      what: 'raw Atomics.notify -> Atomics.wait one-way, two workers',
      settleUs: FLOOR_SETTLE_US,
      latencyUs: r.floorUs,
      correctedLatencyUs: r.floorCorrectedUs,
      correctedIntervalUs: r.correctedIntervalUs,
    },
    hiccups: {
      what: "threads keeping the producers' schedule with no ring (a hiccup meter), before each policy",
      threads: r.hiccupRuns[0]?.threads ?? 0,
      intervalUs: r.hiccupIntervalUs,
      msPerPolicy: r.hiccupMs,
      latencyUs: r.hiccups.latencyUs,
      stalledFraction: r.hiccups.stalledFraction,
      stallGapUs: HICCUP_STALL_GAP_US,
    },
    policies: r.runs.map(({ policy, outcome }) => policyJson(r, policy, outcome)),
    ok: r.ok,
  };
}

/** One policy's entry of the JSON object. */
function policyJson(r: LatencyReport, policy: LatencyPolicy, o: RunOutcome): Record<string, unknown> {
  return {
    name: policy.name,
    wakeup: typeof policy.wakeup === 'string' ? policy.wakeup : `sampled:${policy.wakeup.sampled}`,
    wait: policy.wait,
    latencyUs: o.latencyUs,
    ringLatencyUs: o.ringLatencyUs,
    sendLagUs: o.sendLagUs,
    floorMultiple: {
      latency: multiples(o.latencyUs, r.floorUs),
      ring: multiples(o.ringLatencyUs, r.floorUs),
      ringCorrected: multiples(o.ringLatencyUs, r.floorCorrectedUs),
    },
    hiccupMultiple: {
      latencyP99: ratioOf(o.latencyUs.p99, r.hiccups.latencyUs.p99),
      ringP99: ratioOf(o.ringLatencyUs.p99, r.hiccups.latencyUs.p99),
    },
    samples: o.latencyUs.count,
    warmupSkipped: o.latencyWarmupSkipped,
    records: o.records,
    lost: o.lost,
    duplicates: o.duplicates,
    orderViolations: o.orderViolations,
    consumer: o.consumer,
    rate: o.rate ?? null,
  };
}

/** The report as the readable text on stdout. */
export function renderLatency(r: LatencyReport): string {
  const lines = [
    `ringbuf latency — ${r.producers} producers × ${rate(r.ratePerProducer)} open loop, ` +
      `${r.durationSec} s per policy after ${r.warmupSec} s of warm-up, ` +
      `${typeof r.size === 'number' ? r.size : `${largestPayload(r.size)} max`} B records, ` +
      `ring ${r.ring} B, seed ${r.seed}`,
    '',
    ...distribution(
      r,
      'Latency: intended send time -> handler (end to end, µs clock shared by the threads)',
      (o) => o.latencyUs,
      true,
    ),
    ...distribution(
      r,
      'Ring latency: commit -> handler (what the ring and its wakeup cost)',
      (o) => o.ringLatencyUs,
      true,
    ),
    ...distribution(
      r,
      'Send lag: intended send time -> commit (what the producer and the machine cost)',
      (o) => o.sendLagUs,
      false,
    ),
    summaryTable(r),
    '',
    ...notes(r),
    r.ok
      ? 'OK: every run delivered every committed record once, in order.'
      : 'FAILED: records were lost, duplicated or reordered.',
  ];
  return lines.join('\n') + '\n';
}

/** The five percentile cells of a row. */
function cells(l: LatencyPercentiles): string[] {
  return [micros(l.p50), micros(l.p90), micros(l.p99), micros(l.p999), micros(l.max)];
}

/** A distribution's p50 and p99 as "n× / m×" the floor's. */
function times(l: LatencyPercentiles, floorUs: LatencyPercentiles): string {
  const m = multiples(l, floorUs);
  return `${m.p50.toFixed(1)}× / ${m.p99.toFixed(1)}×`;
}

/** One distribution's table, a row per policy (and, `withFloor`, the floor and the machine's rows). */
function distribution(
  r: LatencyReport,
  title: string,
  pick: (o: RunOutcome) => LatencyPercentiles,
  withFloor: boolean,
): string[] {
  const rows = r.runs.map(({ policy, outcome: o }) => [
    policy.name,
    ...cells(pick(o)),
    withFloor ? times(pick(o), r.floorUs) : '',
  ]);
  if (withFloor) {
    rows.push(['raw wait/notify', ...cells(r.floorUs), '1.0× / 1.0×']);
    rows.push(['floor, CO-corrected', ...cells(r.floorCorrectedUs), times(r.floorCorrectedUs, r.floorUs)]);
    if (r.hiccupRuns.length > 0)
      rows.push(['machine, no ring', ...cells(r.hiccups.latencyUs), times(r.hiccups.latencyUs, r.floorUs)]);
  }
  return [
    title,
    textTable(['policy', 'p50', 'p90', 'p99', 'p99.9', 'max', withFloor ? 'p50 / p99 × floor' : ''], rows),
    '',
  ];
}

/** Wakeups, records, losses and the achieved rate, a row per policy. */
function summaryTable(r: LatencyReport): string {
  const rows = r.runs.map(({ policy, outcome: o }) => [
    policy.name,
    String(o.consumer.wakeups),
    String(o.records.consumed),
    `${o.lost}/${o.duplicates}/${o.orderViolations}`,
    o.rate === undefined ? '' : `${rate(o.rate.slowestAchieved)}${o.rate.met ? '' : ' (missed)'}`,
    policy.what,
  ]);
  return textTable(['policy', 'wakeups', 'records', 'lost/dup/order', 'rate/producer', 'what'], rows);
}

/** What the floor and the machine's row are, and the oversubscription warning. */
function notes(r: LatencyReport): string[] {
  return [
    `The floor: raw Atomics.notify -> Atomics.wait one-way between two workers, no ring, ` +
      `${r.floorUs.count} samples. It sends one`,
    `notify at a time, so a stall of the machine costs it one sample; "CO-corrected" adds what a sender on a fixed`,
    `schedule would have seen behind each late sample (HdrHistogram's correction at its ` +
      `${r.correctedIntervalUs.toFixed(1)} µs sample interval).`,
    ...(r.hiccupRuns.length > 0
      ? [
          `"machine, no ring": ${r.hiccupRuns[0]?.threads ?? 0} threads keeping a ` +
            `${r.hiccupIntervalUs} µs schedule and doing nothing else, ${r.hiccupMs} ms before each`,
          `policy; they lost ${(r.hiccups.stalledFraction * 100).toFixed(2)} % of their time in gaps over ` +
            `${HICCUP_STALL_GAP_US} µs. That is the machine's own tail for a paced stream.`,
        ]
      : []),
    ...(r.oversubscribed
      ? [
          `Oversubscribed: ${r.producers} producers spinning ${Math.round(r.spinShare * 100)} % of the time ` +
            `and the consumer are ${r.busyThreads.toFixed(1)} busy threads on ${r.cores} cores,`,
          `so the tails are the scheduler's time slices (compare "machine, no ring"). ` +
            `For the ring's own figures: fewer --producers or a lower --rate.`,
        ]
      : []),
  ];
}

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
