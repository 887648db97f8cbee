/**
 * What every chart shares: the vega-lite config (titles anchored left with subtitle lines, legends
 * below, no view stroke outside the plot, tight padding), the headless renderer, and the HdrHistogram
 * percentile axis used by latency charts. Thread: any.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { installTextMetrics } from './text-metrics.js';

/** The vega-lite schema every spec here names. */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/**
 * A vega-lite spec as SVG text, rendered headless (no DOM, no canvas; text measured with Helvetica's
 * widths, text-metrics.ts). Thread: any.
 * @throws Error when the spec does not compile.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  installTextMetrics();
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Config shared by the charts: readable sizes, left-anchored titles, legends below the plot. */
export const CHART_CONFIG = {
  font: 'Liberation Sans, Arial, Helvetica, sans-serif',
  padding: 6,
  view: { stroke: '#bbb' },
  title: { anchor: 'start', fontSize: 14, subtitleFontSize: 11, subtitleColor: '#444', offset: 8, subtitlePadding: 4 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#e4e4e4' },
  legend: { orient: 'bottom', direction: 'vertical', labelLimit: 0, labelFontSize: 11, title: null },
} as const;

/** A spec with the shared schema, config and autosize (fit the marks, no empty margins). */
export function chartSpec(spec: object): TopLevelSpec {
  return { $schema: VEGA_LITE_SCHEMA, autosize: { type: 'pad' }, config: CHART_CONFIG, ...spec } as TopLevelSpec;
}

/** A title with subtitle lines. */
export function chartTitle(text: string, ...subtitle: string[]): object {
  return subtitle.length > 0 ? { text, subtitle } : { text };
}

/**
 * HdrHistogram's percentile axis: x = -log10(1 - p), so that 0, 90%, 99%, 99.9%, 99.99% are evenly
 * spaced (each tick a tenth of the tail left). p = 1 gives Infinity.
 */
export function percentileX(p: number): number {
  return p === 0 ? 0 : -Math.log10(1 - p);
}

/** Axis ticks for a percentile axis reaching `maxX` (at least 99.99%): 0%, 50%, 90%, 99%, ... */
export function percentileTicks(maxX: number): number[] {
  const ticks = [0, Math.log10(2)];
  for (let k = 1; k <= Math.max(4, Math.ceil(maxX - 1e-9)); k++) ticks.push(k);
  return ticks;
}

/** A vega expression labelling a percentile-axis tick `datum.value` as '0%', '50%', '99.9%', ... */
export const PERCENTILE_LABEL_EXPR = "format(100 - 100 * pow(10, -datum.value), '.6~f') + '%'";

/** Log-axis ticks (1, 2, 5 per decade) covering [min, max], for labels on a narrow log range. */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max >= min)) return [];
  const ticks: number[] = [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  for (let e = lo; e <= hi; e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(1));
      if (v >= min / 1.0001 && v <= max * 1.0001) ticks.push(v);
    }
  }
  // A range inside one 1-2-5 step: its ends, so that the axis still says where it is.
  if (ticks.length < 2) return [...new Set([Number(min.toPrecision(2)), ...ticks, Number(max.toPrecision(2))])].sort((a, b) => a - b);
  return ticks;
}

/** The log-scale domain the ticks sit in: from the tick at or below `min` to the one at or above `max`. */
export function logDomain(min: number, max: number): [number, number] {
  const step = (v: number, up: boolean): number => {
    const e = Math.floor(Math.log10(v));
    const candidates = [1, 2, 5, 10].map((m) => m * 10 ** e);
    return up ? candidates.find((c) => c >= v * 0.9999) ?? 10 ** (e + 1) : [...candidates].reverse().find((c) => c <= v * 1.0001) ?? 10 ** e;
  };
  return [step(min, false), step(max, true)];
}
