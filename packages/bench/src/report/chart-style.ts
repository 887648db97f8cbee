/**
 * What every chart shares: the vega-lite config (titles anchored left with subtitle lines, legends
 * below, no view stroke outside the plot, tight padding), the headless renderer, and the HdrHistogram
 * percentile axis used by latency charts. Thread: any.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { BenchError, needFinite, needNumber, needRecord, needString } from '../errors.js';
import { installTextMetrics } from './text-metrics.js';

/** The vega-lite schema every spec here names. */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/**
 * A vega-lite spec as SVG text, rendered headless (no DOM, no canvas; text measured with Helvetica's
 * widths, text-metrics.ts). Thread: any.
 * @throws BenchError `ERR_BENCH_ARGUMENT` when `spec` is not an object; `ERR_BENCH_CHART_SPEC`
 *   (the compiler's or renderer's error as its `cause`) when it does not compile or render.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  needRecord('spec', spec);
  installTextMetrics();
  let view: vega.View;
  try {
    view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  } catch (cause) {
    throw new BenchError(
      'ERR_BENCH_CHART_SPEC',
      `the vega-lite spec does not compile: ${(cause as Partial<Error> | null | undefined)?.message ?? String(cause)}`,
      { cause },
    );
  }
  try {
    return await view.toSVG();
  } catch (cause) {
    throw new BenchError(
      'ERR_BENCH_CHART_SPEC',
      `the vega-lite spec does not render: ${(cause as Partial<Error> | null | undefined)?.message ?? String(cause)}`,
      { cause },
    );
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

/**
 * A spec with the shared schema, config and autosize (fit the marks, no empty margins). @throws BenchError
 * `ERR_BENCH_ARGUMENT` when `spec` is not an object.
 */
export function chartSpec(spec: object): TopLevelSpec {
  needRecord('spec', spec);
  return { $schema: VEGA_LITE_SCHEMA, autosize: { type: 'pad' }, config: CHART_CONFIG, ...spec } as TopLevelSpec;
}

/**
 * A title with subtitle lines. @throws BenchError `ERR_BENCH_ARGUMENT` when the text or a subtitle line is not a
 * string.
 */
export function chartTitle(text: string, ...subtitle: string[]): object {
  needString('text', text);
  for (const [i, line] of subtitle.entries()) needString(`subtitle[${i}]`, line);
  return subtitle.length > 0 ? { text, subtitle } : { text };
}

/**
 * HdrHistogram's percentile axis: x = -log10(1 - p), so that 0, 90%, 99%, 99.9%, 99.99% are evenly
 * spaced (each tick a tenth of the tail left). p = 1 gives Infinity.
 * @throws BenchRangeError `ERR_BENCH_ARGUMENT` when `p` is not a number from 0 to 1.
 */
export function percentileX(p: number): number {
  needFinite('p', p, 0, 1);
  return p === 0 ? 0 : -Math.log10(1 - p);
}

/** The farthest a percentile axis reaches: 1 - p cannot be smaller than about 1e-16 in a double. */
export const MAX_PERCENTILE_X = 16;

/**
 * Axis ticks for a percentile axis reaching `maxX` (at least 99.99%): 0%, 50%, 90%, 99%, ...
 * @throws BenchRangeError `ERR_BENCH_ARGUMENT` when `maxX` is not a number from 0 to {@link MAX_PERCENTILE_X}.
 */
export function percentileTicks(maxX: number): number[] {
  needFinite('maxX', maxX, 0, MAX_PERCENTILE_X);
  const ticks = [0, Math.log10(2)];
  for (let k = 1; k <= Math.max(4, Math.ceil(maxX - 1e-9)); k++) ticks.push(k);
  return ticks;
}

/** A vega expression labelling a percentile-axis tick `datum.value` as '0%', '50%', '99.9%', ... */
export const PERCENTILE_LABEL_EXPR = "format(100 - 100 * pow(10, -datum.value), '.6~f') + '%'";

/**
 * Log-axis ticks (1, 2, 5 per decade) covering [min, max], for labels on a narrow log range; none
 * when min is not positive or max is below it.
 * @throws BenchRangeError `ERR_BENCH_ARGUMENT` when min or max is not a finite number (an infinite
 *   one has no last decade).
 */
export function logTicks(min: number, max: number): number[] {
  needFinite('min', min, -Number.MAX_VALUE, Number.MAX_VALUE);
  needFinite('max', max, -Number.MAX_VALUE, Number.MAX_VALUE);
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
  if (ticks.length < 2)
    return [...new Set([Number(min.toPrecision(2)), ...ticks, Number(max.toPrecision(2))])].sort((a, b) => a - b);
  return ticks;
}

/**
 * The log-scale domain the ticks sit in: from the tick at or below `min` to the one at or above `max`.
 * @throws BenchRangeError `ERR_BENCH_ARGUMENT` unless 0 < min <= max, both finite.
 */
export function logDomain(min: number, max: number): [number, number] {
  needFinite('min', min, Number.MIN_VALUE, Number.MAX_VALUE);
  needFinite('max', max, needNumber('min', min), Number.MAX_VALUE);
  const step = (v: number, up: boolean): number => {
    const e = Math.floor(Math.log10(v));
    const candidates = [1, 2, 5, 10].map((m) => m * 10 ** e);
    return up
      ? (candidates.find((c) => c >= v * 0.9999) ?? 10 ** (e + 1))
      : ([...candidates].reverse().find((c) => c <= v * 1.0001) ?? 10 ** e);
  };
  return [step(min, false), step(max, true)];
}
