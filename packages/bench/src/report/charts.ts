/**
 * Charts as SVG: vega-lite specs compiled to vega and rendered headless
 * (`new vega.View(vega.parse(spec), { renderer: 'none' }).toSVG()`).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ScenarioResult, MemcpyResult } from '../scenarios/types.js';
import { KERNEL_HW, KERNEL_PRODUCERS, KERNEL_SAMPLE_RATE } from './published.js';

/** One chart: file name, title, SVG text. */
export interface Chart {
  file: string;
  title: string;
  svg: string;
}

/**
 * A vega-lite spec as SVG text, rendered headless (no DOM, no canvas). Thread: any.
 * @throws Error when the spec does not compile.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const render = renderSvg;

const ok = (s: ScenarioResult): boolean => !s.error;

/** Renders every chart the results allow. Thread: main. */
export async function renderCharts(scenarios: readonly ScenarioResult[], memcpy: readonly MemcpyResult[], cores: number): Promise<Chart[]> {
  const charts: Chart[] = [];
  const lineChart = async (file: string, title: string, values: object[], x: { field: string; title: string; log?: boolean }, yTitle: string) => {
    if (values.length === 0) return;
    const svg = await render({
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title,
      width: 520,
      height: 300,
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: x.field, type: 'quantitative', title: x.title, scale: x.log ? { type: 'log' } : {} },
        y: { field: 'value', type: 'quantitative', title: yTitle },
        color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 0 } },
      },
    } as TopLevelSpec);
    charts.push({ file, title, svg });
  };

  const producers: object[] = [];
  for (const s of scenarios.filter(ok)) {
    if (s.group !== 'producers') continue;
    const series = s.params.impl === 'ringbuf' ? 'ours: N producers, one ring (MPSC)' : 'ours: one ring per producer (perf-buffer analogue)';
    producers.push({ producers: s.params.producers, value: s.hits.mean / 1e6, series });
  }
  if (producers.length > 0) {
    for (const [p, v] of KERNEL_PRODUCERS) producers.push({ producers: p, value: v, series: `${KERNEL_HW} (not this machine)` });
  }
  await lineChart(
    'throughput-vs-producers.svg',
    `Throughput against producers (batch 50; ${cores} cores: with the consumer, ${cores} or more producers oversubscribe them)`,
    producers,
    { field: 'producers', title: 'producers' },
    'M records/s consumed',
  );

  const rates: object[] = [];
  for (const s of scenarios.filter(ok)) {
    if (s.group !== 'sample-rate' || s.params.sampleRate === null) continue;
    rates.push({ rate: s.params.sampleRate, value: s.hits.mean / 1e6, series: `ours: ${s.params.mode}` });
  }
  if (rates.length > 0) {
    for (const [r, v] of KERNEL_SAMPLE_RATE) rates.push({ rate: r, value: v, series: `${KERNEL_HW}, b2b (not this machine)` });
  }
  await lineChart(
    'sample-rate.svg',
    'Sampled wakeups: throughput against sample rate (FORCE_WAKEUP once avail >= rate x record)',
    rates,
    { field: 'rate', title: 'sample rate (records)', log: true },
    'M records/s consumed',
  );

  const lat = scenarios.find((s) => s.name === 'rb-latency' && ok(s))?.latency;
  if (lat) {
    const values = [
      { p: 'p50', value: lat.p50Us },
      { p: 'p90', value: lat.p90Us },
      { p: 'p99', value: lat.p99Us },
      { p: 'p99.9', value: lat.p999Us },
      { p: 'max', value: lat.maxUs },
    ];
    charts.push({
      file: 'latency.svg',
      title: 'Commit-to-callback latency',
      svg: await render({
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: `Commit-to-callback latency, consumer asleep in poll(-1) (${lat.count} records)`,
        width: 420,
        height: 260,
        data: { values },
        mark: 'bar',
        encoding: {
          x: { field: 'p', type: 'ordinal', title: 'percentile', sort: null },
          y: { field: 'value', type: 'quantitative', title: 'µs', scale: { type: 'log' } },
        },
      } as TopLevelSpec),
    });
  }

  const sizes: object[] = [];
  for (const s of scenarios.filter(ok)) {
    if (s.group !== 'sizes') continue;
    sizes.push({ size: String(s.params.payload), value: s.bytesPerSec / 1e9, series: 'ours (producer copies in, consumer walks)' });
    const m = memcpy.find((x) => x.size === s.params.payload);
    if (m) sizes.push({ size: String(m.size), value: m.bytesPerSec / 1e9, series: 'memcpy, one thread (Uint8Array.set)' });
  }
  if (sizes.length > 0) {
    charts.push({
      file: 'record-sizes.svg',
      title: 'Bandwidth against record size',
      svg: await render({
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: 'Payload bandwidth against record size',
        width: 420,
        height: 260,
        data: { values: sizes },
        mark: 'bar',
        encoding: {
          x: { field: 'size', type: 'ordinal', title: 'payload bytes', sort: null },
          xOffset: { field: 'series' },
          y: { field: 'value', type: 'quantitative', title: 'GB/s' },
          color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 0 } },
        },
      } as TopLevelSpec),
    });
  }

  const peers = scenarios
    .filter((s) => ok(s) && (s.group === 'peers' || s.name === 'rb-parallel'))
    .map((s) => ({ name: s.name, value: s.hits.mean / 1e6 }));
  if (peers.length > 0) {
    charts.push({
      file: 'peers.svg',
      title: 'Ours and the peers, 16-byte records, 1 producer',
      svg: await render({
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: 'One producer, 16-byte records: ours and the peers',
        width: 420,
        height: 220,
        data: { values: peers },
        mark: 'bar',
        encoding: {
          y: { field: 'name', type: 'nominal', title: null, sort: '-x' },
          x: { field: 'value', type: 'quantitative', title: 'M records/s consumed' },
        },
      } as TopLevelSpec),
    });
  }
  return charts;
}
