/** The render checker itself: it finds the plot areas vega draws and tells a blank chart from a drawn one. */
import test from 'ava';
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from '../src/index.js';
import { axisLabels, checkRender, plotAreas } from '../src/report/render-check.js';

const line = (values: object[], extra: object = {}): TopLevelSpec => ({
  width: 200,
  height: 100,
  data: { values },
  mark: { type: 'line', point: true },
  encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative', ...extra } },
});

test("a line chart: one plot area of the spec's size, coloured marks in it, numeric tick labels", async (t) => {
  const svg = await renderSvg(
    line([
      { a: 1, b: 2 },
      { a: 2, b: 5 },
      { a: 3, b: 3 },
    ]),
  );
  const areas = plotAreas(svg);
  t.is(areas.length, 1);
  t.like(areas[0], { width: 200, height: 100 });
  t.true(areas[0]!.x > 0 && areas[0]!.y >= 0, 'the axes push the plot area in');
  const r = await checkRender(svg);
  t.true(r.png.length > 100);
  t.is(r.areas.length, 1);
  t.true(r.areas[0]!.colored > 200, `colored ${r.areas[0]!.colored}`);
  const y = axisLabels(svg).find((a) => a.axis === 'Y');
  t.truthy(y);
  t.true(new Set(y!.labels).size > 1);
});

test('a blank chart (no data) has grid lines but no coloured marks', async (t) => {
  const r = await checkRender(await renderSvg(line([])));
  t.is(r.areas.length, 1);
  t.is(r.areas[0]!.colored, 0);
});

test('the old latency bars: a log scale over a zero baseline draws nothing and has no y ticks', async (t) => {
  const svg = await renderSvg({
    width: 200,
    height: 100,
    data: {
      values: [
        { p: 'p50', v: 12 },
        { p: 'p99', v: 80 },
      ],
    },
    mark: 'bar',
    encoding: { x: { field: 'p', type: 'ordinal' }, y: { field: 'v', type: 'quantitative', scale: { type: 'log' } } },
  });
  const r = await checkRender(svg);
  t.is(r.areas[0]!.colored, 0);
  const y = axisLabels(svg).find((a) => a.axis === 'Y');
  t.true(new Set(y?.labels ?? []).size <= 1, `y labels ${JSON.stringify(y?.labels)}`);
});

test('a vertical concat: one plot area per cell, each counted on its own, scale applies', async (t) => {
  const drawn = line([
    { a: 1, b: 2 },
    { a: 2, b: 5 },
  ]);
  const svg = await renderSvg({ vconcat: [drawn, line([])] } as TopLevelSpec);
  const areas = plotAreas(svg);
  t.is(areas.length, 2);
  t.true(areas[1]!.y > areas[0]!.y + 100);
  const r = await checkRender(svg, { scale: 2 });
  t.is(r.areas[0]!.pixels > 4 * 190 * 90, true);
  t.true(r.areas[0]!.colored > 0);
  t.is(r.areas[1]!.colored, 0);
});

test('a line with a detail channel draws in groups of its own: still one plot area', async (t) => {
  const svg = await renderSvg({
    width: 200,
    height: 100,
    data: {
      values: [
        { a: 1, b: 2, k: 'x' },
        { a: 2, b: 5, k: 'x' },
        { a: 1, b: 3, k: 'y' },
        { a: 2, b: 1, k: 'y' },
      ],
    },
    mark: 'line',
    encoding: {
      x: { field: 'a', type: 'quantitative' },
      y: { field: 'b', type: 'quantitative' },
      detail: { field: 'k' },
    },
  });
  t.regex(svg, /pathgroup/);
  t.is(plotAreas(svg).length, 1);
});
