/**
 * End-to-end latency: from the producer's timestamp in an instrumented record (`sendTimeUs`, taken
 * with `clockMicros()`, a clock comparable across the worker threads of one process) to the moment
 * the consumer's handler sees the record, recorded into `perf_hooks.createHistogram()` (HdrHistogram,
 * 3 significant figures) histograms, one per producer, merged with `add()` for the total.
 *
 * Unit: histograms record integer **nanoseconds** (microsecond resolution is too coarse for wakeups of
 * about 10 us); summaries report **microseconds**. A negative latency (a send time in the future: an
 * open-loop producer's intended time, or clock calibration error below a microsecond) is recorded as
 * 1 ns and counted in `negative`.
 *
 * Histograms can be posted between threads (they are cloneable), so a consumer worker records and
 * the main thread merges.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { clockMicros, RECORD_PRODUCER_ID, RECORD_SEND_TIME, INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';

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
  /** Per producer id. */
  perProducer: Record<number, LatencySummary>;
  /** Records whose send time was after the delivery time. */
  negative: number;
  /** The histograms themselves, per producer id (post them, `add()` them). */
  histograms: Map<number, RecordableHistogram>;
}

const NS_PER_US = 1000;

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
  private negatives = 0;
  private recorded = 0;

  /**
   * Records the latency of the instrumented record at `view[offset, offset + size)`: now minus its
   * send time. Allocation-free except for the first record of each producer (its histogram).
   */
  recordRecord(view: DataView, offset: number, size: number): void {
    if (size < INSTRUMENTED_HEADER_BYTES) return;
    this.record(view.getUint32(offset + RECORD_PRODUCER_ID, true), view.getFloat64(offset + RECORD_SEND_TIME, true), clockMicros());
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
    const h = createHistogram();
    this.byProducer[producerId] = h;
    return h;
  }

  /** Samples recorded so far. */
  get count(): number {
    return this.recorded;
  }

  /** Summaries and histograms. Thread: the recording thread. */
  report(): LatencyReport {
    const histograms = new Map<number, RecordableHistogram>();
    const perProducer: Record<number, LatencySummary> = {};
    this.byProducer.forEach((h, id) => {
      if (h === undefined) return;
      histograms.set(id, h);
      perProducer[id] = summarize(h);
    });
    return { unit: 'ns', total: summarize(mergeHistograms(histograms.values())), perProducer, negative: this.negatives, histograms };
  }
}

/**
 * Merges reports from several recorders (several consumers or runs): per-producer histograms with
 * the same id are added together. Thread: any.
 */
export function mergeLatencyReports(reports: Iterable<LatencyReport>): LatencyReport {
  const histograms = new Map<number, RecordableHistogram>();
  let negative = 0;
  for (const report of reports) {
    negative += report.negative;
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
  return { unit: 'ns', total: summarize(mergeHistograms(histograms.values())), perProducer, negative, histograms };
}
