/**
 * End-to-end latency: from the producer's timestamp in an instrumented record (`sendTimeUs`, taken
 * with `clockMicros()`, a clock comparable across the worker threads of one process) to the moment
 * the consumer's handler sees the record, recorded into `perf_hooks.createHistogram()` (HdrHistogram,
 * 3 significant figures) histograms, one per producer, merged with `add()` for the total.
 *
 * Where the producer stamped its commit (`commitTimeUs`), the same record also splits the latency in
 * two: `sendLag` (intended send time -> commit: what the producer and the machine cost) and `ring`
 * (commit -> handler: what the ring and its wakeup cost). They do not add up percentile by
 * percentile, so each is a distribution of its own.
 *
 * Unit: histograms record integer **nanoseconds** (microsecond resolution is too coarse for wakeups of
 * about 10 us); summaries report **microseconds**. A negative latency (a send time in the future: an
 * open-loop producer's intended time, or clock calibration error below a microsecond) is recorded as
 * 1 ns and counted in `negative`.
 *
 * Histograms can be posted between threads (they are cloneable), so a consumer worker records and
 * the main thread merges.
 *
 * Memory is bounded: an HdrHistogram's counts array spans up to about 350 KB, filled with pages as
 * values land, and a run with crash injection sees a new producer id for every replacement (kills
 * used to cost about 64 KB of RSS each). The first MAX_PRODUCER_HISTOGRAMS ids (16) get a
 * histogram each; every later id is recorded in one shared histogram, reported under id 0 (never a
 * producer id) and as `others`. The total covers every record either way.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { describeValue, RingBufRangeError } from '@ringbuf/core';
import {
  clockMicros,
  RECORD_COMMIT_TIME,
  RECORD_PRODUCER_ID,
  RECORD_SEND_TIME,
  INSTRUMENTED_HEADER_BYTES,
} from '@ringbuf/instrument';

/** Percentiles of one histogram, in microseconds. */
export interface LatencySummary {
  count: number;
  minUs: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

/** What a {@link LatencyRecorder} reports: plain summaries plus the cloneable histograms. */
export interface LatencyReport {
  /** Always 'ns' for the histograms; summaries are in microseconds. */
  unit: 'ns';
  /** All producers merged. */
  total: LatencySummary;
  /** Per producer id (the first MAX_PRODUCER_HISTOGRAMS ids; later ones under OTHER_PRODUCERS, 0). */
  perProducer: Record<number, LatencySummary>;
  /** Producer ids whose records were kept in the shared histogram (0: every id had its own). */
  othersIds: number;
  /** Records whose send time was after the delivery time. */
  negative: number;
  /** Records left out as sent in their producer's warm-up (the recorder's `warmupUs`). */
  warmupSkipped: number;
  /** The histograms themselves, per producer id (post them, `add()` them). */
  histograms: Map<number, RecordableHistogram>;
  /** Commit -> handler, all producers, for records whose commit was stamped (count 0 otherwise). */
  ring: LatencySummary;
  /** Intended send time -> commit, all producers, same records. */
  sendLag: LatencySummary;
  /** The histograms of `ring` and `sendLag` (nanoseconds), cloneable and mergeable. */
  ringHistogram: RecordableHistogram;
  sendLagHistogram: RecordableHistogram;
}

const NS_PER_US = 1000;

/** Producer ids with a latency histogram of their own; later ids share the `others` histogram. */
export const MAX_PRODUCER_HISTOGRAMS = 16;
/** The key of the shared histogram of producers beyond MAX_PRODUCER_HISTOGRAMS (0 is no producer id). */
export const OTHER_PRODUCERS = 0;

/** Summarises a histogram (nanoseconds) in microseconds. An empty histogram gives zeros. */
export function summarize(h: RecordableHistogram): LatencySummary {
  if (h.count === 0) return { count: 0, minUs: 0, meanUs: 0, p50Us: 0, p90Us: 0, p99Us: 0, p999Us: 0, maxUs: 0 };
  return {
    count: h.count,
    minUs: h.min / NS_PER_US,
    meanUs: h.mean / NS_PER_US,
    p50Us: h.percentile(50) / NS_PER_US,
    p90Us: h.percentile(90) / NS_PER_US,
    p99Us: h.percentile(99) / NS_PER_US,
    p999Us: h.percentile(99.9) / NS_PER_US,
    maxUs: h.max / NS_PER_US,
  };
}

/** Merges histograms into a new one (`add()` of each). Thread: any. */
export function mergeHistograms(histograms: Iterable<RecordableHistogram>): RecordableHistogram {
  const total = createHistogram();
  for (const h of histograms) total.add(h);
  return total;
}

/**
 * Records per-producer latency histograms. Thread: one recorder per consumer thread.
 */
export class LatencyRecorder {
  private byProducer: (RecordableHistogram | undefined)[] = [];
  /** Where each id's samples go once there are MAX_PRODUCER_HISTOGRAMS histograms (see the header). */
  private own = 0;
  private others: RecordableHistogram | undefined;
  private othersIds = 0;
  private readonly ringHistogram = createHistogram();
  private readonly sendLagHistogram = createHistogram();
  private negatives = 0;
  private recorded = 0;
  private warmup = 0;
  /**
   * The first send time seen of the first MAX_PRODUCER_HISTOGRAMS producer ids (the start of each
   * one's warm-up); later ids share `othersFirst`, so that ids read from shared memory cannot grow it.
   */
  private readonly firstSend = new Map<number, number>();
  private othersFirst = NaN;
  private readonly warmupUs: number;

  /**
   * @param warmupUs records sent within this many µs of the first record seen from their producer
   *   are left out of every histogram (a warm-up: JIT compilation and thread start-up are not the
   *   ring's latency) and counted in `warmupSkipped`. 0 (the default) records everything.
   * @throws RingBufRangeError `ERR_RINGBUF_ARGUMENT` when `warmupUs` is not a finite number from 0.
   */
  constructor(warmupUs = 0) {
    // Untrusted: checked as whatever it is.
    const raw: unknown = warmupUs;
    if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_ARGUMENT',
        `a latency warm-up must be a finite number of µs from 0, got ${describeValue(raw)}`,
      );
    }
    this.warmupUs = raw;
  }

  /**
   * Records the latency of the instrumented record at `view[offset, offset + size)`: now minus its
   * send time, and, when its commit was stamped, now minus the commit (ring) and the commit minus the
   * send time (send lag). Allocation-free except for the first record of each producer (its histogram).
   */
  recordRecord(view: DataView, offset: number, size: number): void {
    if (size < INSTRUMENTED_HEADER_BYTES) return;
    const now = clockMicros();
    const send = view.getFloat64(offset + RECORD_SEND_TIME, true);
    const producerId = view.getUint32(offset + RECORD_PRODUCER_ID, true);
    if (this.warmupUs > 0 && send - this.warmupStart(producerId, send) < this.warmupUs) {
      this.warmup++;
      return;
    }
    this.record(producerId, send, now);
    const commit = view.getFloat64(offset + RECORD_COMMIT_TIME, true);
    if (commit > 0) {
      this.ringHistogram.record(clampNs(now - commit));
      this.sendLagHistogram.record(clampNs(commit - send));
    }
  }

  /**
   * When the warm-up of `producerId` began: producers send in order, so its first record opens it.
   * Allocation-free after the first record of each of the first MAX_PRODUCER_HISTOGRAMS ids.
   */
  private warmupStart(producerId: number, send: number): number {
    const first = this.firstSend.get(producerId);
    if (first !== undefined) return first;
    if (this.firstSend.size < MAX_PRODUCER_HISTOGRAMS) {
      this.firstSend.set(producerId, send);
      return send;
    }
    if (Number.isNaN(this.othersFirst)) this.othersFirst = send;
    return this.othersFirst;
  }

  /** Records one sample: `nowUs - sendTimeUs` for `producerId`. */
  record(producerId: number, sendTimeUs: number, nowUs: number): void {
    let ns = Math.round((nowUs - sendTimeUs) * NS_PER_US);
    if (!(ns >= 1)) {
      // Also catches NaN (a record without a valid time).
      this.negatives++;
      ns = 1;
    }
    let h = this.byProducer[producerId];
    if (h === undefined) h = this.newHistogram(producerId);
    h.record(ns);
    this.recorded++;
  }

  private newHistogram(producerId: number): RecordableHistogram {
    if (this.own < MAX_PRODUCER_HISTOGRAMS) {
      this.own++;
      const h = createHistogram();
      this.byProducer[producerId] = h;
      return h;
    }
    // Beyond the cap: this id shares the others' histogram (a slot in the sparse array, no histogram).
    if (this.others === undefined) this.others = createHistogram();
    this.othersIds++;
    this.byProducer[producerId] = this.others;
    return this.others;
  }

  /** Samples recorded so far. */
  get count(): number {
    return this.recorded;
  }

  /** Records left out as sent in their producer's warm-up. */
  get warmupSkipped(): number {
    return this.warmup;
  }

  /** Summaries and histograms. Thread: the recording thread. */
  report(): LatencyReport {
    const histograms = new Map<number, RecordableHistogram>();
    const perProducer: Record<number, LatencySummary> = {};
    this.byProducer.forEach((h, id) => {
      if (h === undefined || h === this.others) return;
      histograms.set(id, h);
      perProducer[id] = summarize(h);
    });
    if (this.others !== undefined) {
      histograms.set(OTHER_PRODUCERS, this.others);
      perProducer[OTHER_PRODUCERS] = summarize(this.others);
    }
    return {
      unit: 'ns',
      total: summarize(mergeHistograms(histograms.values())),
      perProducer,
      othersIds: this.othersIds,
      negative: this.negatives,
      warmupSkipped: this.warmup,
      histograms,
      ring: summarize(this.ringHistogram),
      sendLag: summarize(this.sendLagHistogram),
      ringHistogram: this.ringHistogram,
      sendLagHistogram: this.sendLagHistogram,
    };
  }
}

/** Microseconds as whole nanoseconds for a histogram, at least 1 (a clock step below 1 ns, or NaN). */
function clampNs(us: number): number {
  const ns = Math.round(us * NS_PER_US);
  return ns >= 1 ? ns : 1;
}

/**
 * Merges reports from several recorders (several consumers or runs): per-producer histograms with
 * the same id are added together. Thread: any.
 */
export function mergeLatencyReports(reports: Iterable<LatencyReport>): LatencyReport {
  const histograms = new Map<number, RecordableHistogram>();
  const ringHistogram = createHistogram();
  const sendLagHistogram = createHistogram();
  let negative = 0;
  let warmupSkipped = 0;
  let othersIds = 0;
  for (const report of reports) {
    negative += report.negative;
    warmupSkipped += report.warmupSkipped;
    othersIds += report.othersIds;
    ringHistogram.add(report.ringHistogram);
    sendLagHistogram.add(report.sendLagHistogram);
    for (const [id, h] of report.histograms) {
      let into = histograms.get(id);
      if (into === undefined) {
        into = createHistogram();
        histograms.set(id, into);
      }
      into.add(h);
    }
  }
  const perProducer: Record<number, LatencySummary> = {};
  for (const [id, h] of histograms) perProducer[id] = summarize(h);
  return {
    unit: 'ns',
    total: summarize(mergeHistograms(histograms.values())),
    perProducer,
    othersIds,
    negative,
    warmupSkipped,
    histograms,
    ring: summarize(ringHistogram),
    sendLag: summarize(sendLagHistogram),
    ringHistogram,
    sendLagHistogram,
  };
}
