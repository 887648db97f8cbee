/**
 * The bench's charts as SVG: vega-lite specs (chart-style.ts: shared config, the headless renderer,
 * the percentile axis) built from a report's results. Labels are in words (what ran, not scenario
 * ids); every chart is checked to draw marks in its plot area (test/charts.test.ts renders each to
 * PNG with resvg). Thread: main.
 */
import type { LatencySummary } from '@ringbuf/consumer';
import type { TopLevelSpec } from 'vega-lite';
import type { WakeResult } from '../harness/wake-floor.js';
import type { MemcpyResult, ScenarioResult } from '../scenarios/types.js';
import {
  PERCENTILE_LABEL_EXPR,
  chartSpec,
  chartTitle,
  logDomain,
  logTicks,
  percentileTicks,
  percentileX,
  renderSvg,
} from './chart-style.js';
import { BenchError, describe, needArray, needInteger, needNumber, needRecord, needString } from '../errors.js';
import { checkScenarios, checkSummary, checkWake } from './check.js';
import { KERNEL_PRODUCERS, KERNEL_SAMPLE_RATE } from './published.js';

export { renderSvg } from './chart-style.js';

/** One chart: file name, title (the Markdown image's alt text), SVG text. */
export interface Chart {
  file: string;
  title: string;
  svg: string;
}

/** The kernel's published numbers, as a legend label. */
const KERNEL_LABEL = 'the kernel, published 2020 (28-core Xeon, native code; not this machine)';
/** Colours: ours blue/orange, the kernel red, ringbuf.js green, postMessage purple, floors grey. */
const OURS = '#4c78a8';
const OURS_2 = '#f58518';
const KERNEL = '#e45756';
const RINGBUFJS = '#54a24b';
const POSTMESSAGE = '#b279a2';
const FLOOR = '#555555';
const SERIES_COLOURS = [OURS, OURS_2, '#72b7b2', '#eeca3b', '#9d755d', RINGBUFJS, POSTMESSAGE];

const ok = (s: ScenarioResult): boolean => !s.error;

/** One latency distribution to draw. */
export interface LatencySeries {
  label: string;
  summary: LatencySummary;
  /** Drawn dashed and grey: a floor the others are measured against. */
  reference?: boolean;
}

/**
 * The points of a latency summary on the percentile axis: min at 0, the percentiles the sample
 * count can resolve (p with 1 - p >= 1/count), the max at the last sample's percentile.
 * @throws BenchError `ERR_BENCH_ARGUMENT` when `s` is not an object; BenchRangeError
 *   `ERR_BENCH_ARGUMENT` when its count is not a non-negative integer or a percentile not a number.
 */
export function summaryPoints(s: LatencySummary): Array<{ p: number; x: number; us: number }> {
  checkSummary('summary', s);
  if (s.count === 0) return [];
  const out: Array<{ p: number; x: number; us: number }> = [{ p: 0, x: 0, us: s.minUs }];
  const last = s.count > 1 ? 1 - 1 / s.count : 0;
  for (const [p, us] of [
    [0.5, s.p50Us],
    [0.9, s.p90Us],
    [0.99, s.p99Us],
    [0.999, s.p999Us],
  ] as const) {
    if (p < last - 1e-12) out.push({ p, x: percentileX(p), us });
  }
  if (last > 0) out.push({ p: last, x: percentileX(last), us: s.maxUs });
  return out.filter((pt) => pt.us > 0 && Number.isFinite(pt.us));
}

/**
 * A latency chart in the HdrHistogram manner: latency (µs, log axis) against percentile (0 to
 * 99.99%, log-inverse axis), one line per series through its summary points, references dashed.
 * @throws BenchError / BenchRangeError `ERR_BENCH_ARGUMENT` when `title` is not an object or a
 *   series not { label, summary, reference? }.
 */
export function latencyDistributionSpec(title: object, series: readonly LatencySeries[]): TopLevelSpec {
  needRecord('title', title);
  for (const [i, s] of needArray('series', series).entries()) {
    const r = needRecord(`series[${i}]`, s);
    needString(`series[${i}].label`, r['label']);
    checkSummary(`series[${i}].summary`, r['summary']);
    if (r['reference'] !== undefined && typeof r['reference'] !== 'boolean') {
      throw new BenchError(
        'ERR_BENCH_ARGUMENT',
        `series[${i}].reference must be a boolean, got ${describe(r['reference'])}`,
      );
    }
  }
  const values: Array<{ series: string; p: number; x: number; us: number }> = [];
  for (const s of series) for (const pt of summaryPoints(s.summary)) values.push({ series: s.label, ...pt });
  const xs = values.map((v) => v.x);
  const us = values.map((v) => v.us);
  const maxX = Math.max(4, Math.ceil(Math.max(0, ...xs) - 1e-9));
  const [lo, hi] = values.length > 0 ? logDomain(Math.min(...us), Math.max(...us)) : [1, 10];
  const labels = series.map((s) => s.label);
  let colour = 0;
  const colours = series.map((s) => (s.reference ? FLOOR : SERIES_COLOURS[colour++ % SERIES_COLOURS.length]!));
  const dashes = series.map((s) => (s.reference ? [6, 4] : [1, 0]));
  return chartSpec({
    title,
    width: 520,
    height: 300,
    data: { values },
    mark: { type: 'line', strokeWidth: 2, point: { filled: true, size: 36 } },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: 'percentile (HdrHistogram scale: 90%, 99%, 99.9%, ... evenly spaced)',
        scale: { domain: [0, maxX], nice: false },
        axis: { values: percentileTicks(maxX), labelExpr: PERCENTILE_LABEL_EXPR, labelFlush: true },
      },
      y: {
        field: 'us',
        type: 'quantitative',
        title: 'latency (µs, log scale)',
        scale: { type: 'log', domain: [lo, hi], nice: false },
        axis: { values: logTicks(lo, hi), format: ',~g' },
      },
      order: { field: 'x', type: 'quantitative' },
      // No series: no legend (an empty legend has no size and the SVG none either).
      ...(labels.length === 0
        ? {}
        : {
            color: {
              field: 'series',
              type: 'nominal',
              sort: labels,
              scale: { domain: labels, range: colours },
              legend: { symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolSize: 400 },
            },
            strokeDash: { field: 'series', type: 'nominal', sort: labels, scale: { domain: labels, range: dashes } },
          }),
    },
  });
}

/** How a latency-group scenario is described in the chart's legend. */
function latencyLabel(s: ScenarioResult): string {
  if (s.params.mode !== 'paced') return `ring: ${s.description}`;
  // Read loosely: consumerWait is newer than some reports.
  const busy = (s.params as { consumerWait?: string }).consumerWait === 'busy';
  const flags = s.params.sampleRate === null ? 'plain flags' : `sampled, rate ${s.params.sampleRate}`;
  return (
    `ring, Consumer ${busy ? 'busy-polling poll(0)' : 'asleep in poll(-1)'}, ` +
    `1 record per ${s.params.intervalUs ?? 20} µs (${flags})`
  );
}

const samples = (s: LatencySummary): string => `; ${s.count.toLocaleString('en-US')} samples`;

/**
 * The latency series a report holds: each latency scenario, the sleeping ConsumerRuntime, the floor.
 * @throws BenchError `ERR_BENCH_ARGUMENT` when `scenarios` is not an array of scenario results or
 *   `wake` neither null nor a wake result.
 */
export function latencySeries(scenarios: readonly ScenarioResult[], wake: WakeResult | null): LatencySeries[] {
  checkScenarios(scenarios);
  checkWake(wake);
  const series: LatencySeries[] = [];
  for (const s of scenarios) {
    if (ok(s) && s.group === 'latency' && s.latency && s.latency.count > 0)
      series.push({ label: `${latencyLabel(s)}${samples(s.latency)}`, summary: s.latency });
  }
  if (wake) {
    if (wake.consumer.count > 0)
      series.push({
        label: `ConsumerRuntime asleep, woken by each commit (flags 0)${samples(wake.consumer)}`,
        summary: wake.consumer,
      });
    if (wake.floor.count > 0) {
      series.push({
        label: `floor: raw Atomics.notify -> Atomics.wait, two workers, no ring${samples(wake.floor)}`,
        summary: wake.floor,
        reference: true,
      });
    }
  }
  return series;
}

/** Words for a peers-chart bar. */
export function peerLabel(s: ScenarioResult): string {
  const n = s.params.peerBatch ?? 1;
  switch (s.params.impl) {
    case 'ringbuf.js':
      return `ringbuf.js, ${n === 1 ? '1 item' : `${n} items`} per push`;
    case 'postMessage':
      return (
        `postMessage, ${n === 1 ? '1 record' : `${n} records`} per ` +
        `message${(s.params as { peerWindow?: number | null }).peerWindow === null ? ', unbounded' : ''}`
      );
    case 'spsc-rings':
      return 'ours, one ring per producer';
    default: {
      // Read loosely: the batched API (api 'batch', claim) is newer than some reports.
      const p = s.params as {
        api: string;
        claim?: number;
        exclusive?: boolean;
        consumerPublish?: string;
        fill?: string;
      };
      const who =
        `ours (@ringbuf/core)${p.exclusive === true ? ', exclusive producer' : ''}` +
        (p.consumerPublish === 'pass' ? ', consumer_pos per pass' : '');
      const words = p.fill === 'words' ? ', payload copied as words' : '';
      if (p.api === 'batch') return `${who}, ${p.claim ?? 'N'} records per reserveBatch + submitBatch${words}`;
      if (p.api === 'output') return `${who}, 1 record per output`;
      return `${who}, 1 record per reserve + submit${words}`;
    }
  }
}

const SIZE_UNITS: ReadonlyArray<[number, string]> = [
  [1024 * 1024, 'MiB'],
  [1024, 'KiB'],
];

/** 16 -> '16 B', 4096 -> '4 KiB'. */
export function sizeLabel(bytes: number): string {
  for (const [unit, name] of SIZE_UNITS) if (bytes >= unit && bytes % unit === 0) return `${bytes / unit} ${name}`;
  return `${bytes} B`;
}

const legendBelow = { orient: 'bottom', direction: 'vertical', labelLimit: 0 } as const;

/** A colour channel over the `series` field: series in data order, colours `range`, the legend below. */
function seriesColour(range: string[]) {
  return { field: 'series', type: 'nominal', sort: null, scale: { range }, legend: legendBelow } as const;
}

/**
 * Renders every chart the results allow: throughput against producers, the sample-rate sweep,
 * latency percentiles, bandwidth against record size, ours and the peers. Thread: main.
 * @throws BenchError / BenchRangeError `ERR_BENCH_ARGUMENT` for scenarios, memcpy results, a core
 *   count (1 to 65536) or a wake result that are not what they must be, before anything renders.
 */
export async function renderCharts(
  scenarios: readonly ScenarioResult[],
  memcpy: readonly MemcpyResult[],
  cores: number,
  wake: WakeResult | null = null,
): Promise<Chart[]> {
  checkScenarios(scenarios);
  checkMemcpy(memcpy);
  needInteger('cores', cores, 1, 65536);
  checkWake(wake);
  const good = scenarios.filter(ok);
  // One at a time, in this order (the report lists them so).
  const charts: Array<Chart | null> = [
    await producersChart(good, cores),
    await sampleRateChart(good),
    await latencyChart(good, wake),
    await recordSizesChart(good, memcpy),
    await peersChart(good),
  ];
  return charts.filter((c): c is Chart => c !== null);
}

/**
 * Checks the memcpy results.
 * @throws BenchError / BenchRangeError `ERR_BENCH_ARGUMENT` when `memcpy` is not an array of { size, bytesPerSec }.
 */
function checkMemcpy(memcpy: readonly MemcpyResult[]): void {
  for (const [i, m] of needArray('memcpy', memcpy).entries()) {
    const r = needRecord(`memcpy[${i}]`, m);
    needNumber(`memcpy[${i}].size`, r['size']);
    needNumber(`memcpy[${i}].bytesPerSec`, r['bytesPerSec']);
  }
}

/** Throughput against producers: integer producer ticks, the kernel's published curve for shape. */
async function producersChart(good: readonly ScenarioResult[], cores: number): Promise<Chart | null> {
  const producers: Array<{ producers: number; value: number; series: string }> = [];
  for (const s of good) {
    if (s.group !== 'producers') continue;
    const series =
      s.params.impl === 'spsc-rings'
        ? 'ours: one ring per producer (perf-buffer analogue)'
        : 'ours: N producers, one ring (MPSC)';
    producers.push({ producers: s.params.producers, value: s.hits.mean / 1e6, series });
  }
  if (producers.length === 0) return null;
  const ours = new Set(producers.map((p) => p.producers));
  for (const [p, v] of KERNEL_PRODUCERS)
    if (ours.has(p)) producers.push({ producers: p, value: v, series: KERNEL_LABEL });
  const counts = [...ours].sort((a, b) => a - b);
  const title = 'Throughput against producers (batch 50)';
  return {
    file: 'throughput-vs-producers.svg',
    title,
    svg: await renderSvg(
      chartSpec({
        title: chartTitle(
          title,
          `${cores} cores: with the consumer thread, ${cores} or more producers oversubscribe them`,
        ),
        width: 480,
        height: 260,
        data: { values: producers },
        mark: { type: 'line', strokeWidth: 2, point: { filled: true, size: 40 } },
        encoding: {
          x: {
            field: 'producers',
            type: 'quantitative',
            title: 'producer threads',
            scale: { domain: [counts[0], counts[counts.length - 1]], nice: false, padding: 12 },
            axis: { values: counts, format: 'd', grid: false },
          },
          y: { field: 'value', type: 'quantitative', title: 'M records/s consumed' },
          color: seriesColour([OURS, OURS_2, KERNEL]),
        },
      }),
    ),
  };
}

/** The sample-rate sweep: log x over the rates run, no nice-extended decade of empty space. */
async function sampleRateChart(good: readonly ScenarioResult[]): Promise<Chart | null> {
  const rates: Array<{ rate: number; value: number; series: string }> = [];
  for (const s of good) {
    if (s.group !== 'sample-rate' || s.params.sampleRate === null) continue;
    rates.push({
      rate: s.params.sampleRate,
      value: s.hits.mean / 1e6,
      series: s.params.mode === 'b2b' ? 'ours, back-to-back' : 'ours, parallel',
    });
  }
  if (rates.length === 0) return null;
  const run = new Set(rates.filter((r) => r.series === 'ours, back-to-back').map((r) => r.rate));
  for (const [r, v] of KERNEL_SAMPLE_RATE)
    if (run.has(r)) rates.push({ rate: r, value: v, series: `${KERNEL_LABEL}, back-to-back` });
  const all = [...new Set(rates.map((r) => r.rate))].sort((a, b) => a - b);
  const ticks = [1, 5, 10, 50, 100, 500, 1000, 3000].filter((t) => t >= all[0]! && t <= all[all.length - 1]!);
  const title = 'Sampled wakeups: throughput against sample rate';
  return {
    file: 'sample-rate.svg',
    title,
    svg: await renderSvg(
      chartSpec({
        title: chartTitle(
          title,
          'the producer forces a wakeup once the data available reaches rate x record size, else asks for none',
        ),
        width: 480,
        height: 260,
        data: { values: rates },
        mark: { type: 'line', strokeWidth: 2, point: { filled: true, size: 36 } },
        encoding: {
          x: {
            field: 'rate',
            type: 'quantitative',
            title: 'sample rate (records per forced wakeup, log scale)',
            scale: { type: 'log', domain: [all[0], all[all.length - 1]], nice: false, padding: 8 },
            axis: { values: ticks.length > 1 ? ticks : all, format: ',d' },
          },
          y: { field: 'value', type: 'quantitative', title: 'M records/s consumed' },
          color: seriesColour([OURS, OURS_2, KERNEL]),
        },
      }),
    ),
  };
}

/** Latency as a percentile distribution, one line per wake policy, the wait/notify floor dashed. */
async function latencyChart(good: readonly ScenarioResult[], wake: WakeResult | null): Promise<Chart | null> {
  const lat = latencySeries(good, wake);
  if (lat.length === 0) return null;
  const title = 'Commit-to-callback latency, by percentile';
  return {
    file: 'latency.svg',
    title,
    svg: await renderSvg(
      latencyDistributionSpec(
        chartTitle(
          title,
          lat.some((l) => l.reference)
            ? 'the dashed grey line is the floor under every wake policy: a raw wait/notify between two threads'
            : 'the raw wait/notify floor was not measured in this run',
        ),
        lat,
      ),
    ),
  };
}

/** One bar of the record-size chart. */
interface SizeBar {
  size: string;
  bytes: number;
  value: number;
  series: string;
}

/** The record-size bars: ours and memcpy at each payload size run. */
function sizeBars(good: readonly ScenarioResult[], memcpy: readonly MemcpyResult[]): SizeBar[] {
  const sizes: SizeBar[] = [];
  for (const s of good) {
    if (s.group !== 'sizes') continue;
    const size = sizeLabel(s.params.payload);
    sizes.push({
      size,
      bytes: s.params.payload,
      value: s.bytesPerSec / 1e9,
      series: 'ours: producer copies in, consumer walks',
    });
    const m = memcpy.find((x) => x.size === s.params.payload);
    if (m)
      sizes.push({ size, bytes: m.size, value: m.bytesPerSec / 1e9, series: 'memcpy, one thread (Uint8Array.set)' });
  }
  return sizes;
}

/** Bandwidth against record size, ours beside memcpy, the value on each bar. */
async function recordSizesChart(
  good: readonly ScenarioResult[],
  memcpy: readonly MemcpyResult[],
): Promise<Chart | null> {
  const sizes = sizeBars(good, memcpy);
  if (sizes.length === 0) return null;
  const order = [...new Map(sizes.map((s) => [s.size, s.bytes])).entries()].sort((a, b) => a[1] - b[1]).map(([k]) => k);
  const title = 'Payload bandwidth against record size';
  return {
    file: 'record-sizes.svg',
    title,
    svg: await renderSvg(
      chartSpec({
        title: chartTitle(title, 'back-to-back, batch 500; memcpy copies the same block sizes'),
        width: 440,
        height: 240,
        data: { values: sizes },
        encoding: {
          x: { field: 'size', type: 'ordinal', title: 'payload per record', sort: order, axis: { labelAngle: 0 } },
          xOffset: { field: 'series', sort: null },
          // Headroom for the value written above the tallest bar.
          y: {
            field: 'value',
            type: 'quantitative',
            title: 'GB/s',
            scale: { domainMax: Math.max(...sizes.map((s) => s.value)) * 1.1 },
          },
          color: seriesColour([OURS, '#9ecae9']),
        },
        layer: [
          { mark: { type: 'bar' } },
          {
            mark: { type: 'text', dy: -6, fontSize: 10 },
            encoding: { text: { field: 'value', type: 'quantitative', format: '.2~f' }, color: { value: '#333' } },
          },
        ],
      }),
    ),
  };
}

/** One bar of the peers chart. */
interface PeerBar {
  label: string;
  value: number;
  family: string;
}

/**
 * The peers chart's bars (ours as the mean of its reference runs, a label run more than once as the
 * mean of its runs), and ours' reference runs.
 */
function peerBars(good: readonly ScenarioResult[]): { peers: PeerBar[]; refs: ScenarioResult[] } {
  const peerRuns = good.filter((s) => s.group === 'peers' || s.name === 'rb-parallel');
  const refs = peerRuns.filter((s) => s.name.startsWith('rb-peer-ref'));
  const oursRuns = refs.length > 0 ? refs : peerRuns.filter((s) => s.name === 'rb-parallel');
  const peers: PeerBar[] = [];
  if (oursRuns.length > 0) {
    const mean = oursRuns.reduce((a, s) => a + s.hits.mean, 0) / oursRuns.length;
    peers.push({ label: peerLabel(oursRuns[0]!), value: mean / 1e6, family: 'ours' });
  }
  // Runs repeated among the peers (same label) are one bar: their mean.
  const byLabel = new Map<string, { sum: number; n: number; family: string }>();
  for (const s of peerRuns) {
    if (s.name === 'rb-parallel' || s.name.startsWith('rb-peer-ref')) continue;
    const label = peerLabel(s);
    const entry = byLabel.get(label) ?? {
      sum: 0,
      n: 0,
      family: s.params.impl === 'ringbuf' || s.params.impl === 'spsc-rings' ? 'ours' : s.params.impl,
    };
    entry.sum += s.hits.mean / 1e6;
    entry.n++;
    byLabel.set(label, entry);
  }
  for (const [label, e] of byLabel) peers.push({ label, value: e.sum / e.n, family: e.family });
  return { peers, refs };
}

/** Ours and the peers: bars in words, ours as the mean of its runs among the peers. */
async function peersChart(good: readonly ScenarioResult[]): Promise<Chart | null> {
  const { peers, refs } = peerBars(good);
  if (peers.length === 0) return null;
  const max = Math.max(...peers.map((p) => p.value));
  // Fastest first (an explicit order: '-x' conflicts across the layers' domains).
  const byValue = [...peers].sort((a, b) => b.value - a.value).map((p) => p.label);
  const title = 'One producer, 16-byte records: ours and the peers';
  const subtitle =
    refs.length > 1
      ? `ours, 1 record per reserve + submit: the mean of its ` +
        `${refs.length} runs among the peers; ringbuf.js busy-polls`
      : 'ringbuf.js busy-polls; postMessage keeps 4096 records in flight';
  return {
    file: 'peers.svg',
    title,
    svg: await renderSvg(
      chartSpec({
        title: chartTitle(title, subtitle),
        width: 420,
        height: { step: 26 },
        data: { values: peers },
        encoding: {
          y: {
            field: 'label',
            type: 'nominal',
            title: null,
            sort: byValue,
            axis: { labelLimit: 0, labelFontSize: 11 },
          },
          x: {
            field: 'value',
            type: 'quantitative',
            title: 'M records/s consumed',
            scale: { domain: [0, max * 1.18], nice: false },
          },
        },
        layer: [
          {
            mark: { type: 'bar' },
            encoding: {
              color: {
                field: 'family',
                type: 'nominal',
                scale: { domain: ['ours', 'ringbuf.js', 'postMessage'], range: [OURS, RINGBUFJS, POSTMESSAGE] },
                legend: null,
              },
            },
          },
          {
            mark: { type: 'text', align: 'left', dx: 4, fontSize: 11, color: '#222' },
            encoding: { text: { field: 'value', type: 'quantitative', format: '.3~r' } },
          },
        ],
      }),
    ),
  };
}
