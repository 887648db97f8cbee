/**
 * Every chart the bench writes, rendered to PNG with resvg: each has visible marks in its plot area,
 * the latency chart has a labelled log axis and one line per wake policy, the peers are named in
 * words. The report is synthetic (every scenario of every group, plausible numbers), so no bench runs.
 * Set RINGBUF_CHART_PNG=<dir> to keep the PNGs for a person to look at.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderSvg, writeReport } from '../src/index.js';
import { latencyDistributionSpec, peerLabel, sizeLabel, summaryPoints } from '../src/report/charts.js';
import { logTicks, percentileTicks, percentileX } from '../src/report/chart-style.js';
import { axisLabels, checkRender, plotAreas } from '../src/report/render-check.js';
import { summary, syntheticReport } from './synthetic-report.js';

const keep = process.env['RINGBUF_CHART_PNG'];

/** Renders, keeps the PNG if asked, and asserts marks in every plot area. Returns the check. */
async function assertDrawn(t: import('ava').ExecutionContext, name: string, svg: string, minColored = 300) {
  const r = await checkRender(svg, { scale: 1 });
  if (keep) {
    mkdirSync(keep, { recursive: true });
    writeFileSync(path.join(keep, name.replace(/\.svg$/, '') + '.png'), r.png);
  }
  t.true(r.areas.length >= 1, `${name}: a plot area`);
  for (const [i, a] of r.areas.entries()) {
    t.true(a.colored >= minColored, `${name}: plot area ${i} holds ${a.colored} coloured pixels of ${a.pixels}`);
  }
  // No wide empty margins: the plot areas take a good share of the image.
  const plotted = r.areas.reduce((s, a) => s + a.area.width * a.area.height, 0);
  t.true(
    plotted / (r.width * r.height) > 0.3,
    `${name}: plot areas cover ${((100 * plotted) / (r.width * r.height)).toFixed(0)}% of ${r.width}x${r.height}`,
  );
  return r;
}

test('every chart writeReport writes renders with marks in its plot area', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ringbuf-charts-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const report = await writeReport(syntheticReport(), out);
  const svgs = report.files.filter((f) => f.endsWith('.svg')).sort();
  t.deepEqual(svgs, ['latency.svg', 'peers.svg', 'record-sizes.svg', 'sample-rate.svg', 'throughput-vs-producers.svg']);
  for (const f of svgs) await assertDrawn(t, f, readFileSync(path.join(out, f), 'utf8'));
});

test(
  'latency.svg: a log y axis with several tick labels, ' +
    'percentile ticks 50% .. 99.99%, a line per policy and the floor',
  async (t) => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'ringbuf-charts-'));
    t.teardown(() => rmSync(out, { recursive: true, force: true }));
    await writeReport(syntheticReport(), out);
    const svg = readFileSync(path.join(out, 'latency.svg'), 'utf8');
    const axes = axisLabels(svg);
    const y = axes.find((a) => a.axis === 'Y');
    const x = axes.find((a) => a.axis === 'X');
    t.truthy(y && x);
    t.true(new Set(y!.labels).size > 1, `y labels: ${y!.labels.join(' ')}`);
    t.regex(y!.description, /log scale/);
    for (const l of ['0%', '50%', '90%', '99%', '99.9%', '99.99%'])
      t.true(x!.labels.includes(l), `x has ${l}: ${x!.labels.join(' ')}`);
    // Three series: the ring's poll(-1) consumer, the sleeping ConsumerRuntime, the floor (dashed).
    t.regex(svg, /poll\(-1\)/);
    t.regex(svg, /ConsumerRuntime asleep/);
    t.regex(svg, /floor: raw Atomics\.notify/);
    t.regex(svg, /stroke-dasharray="6,4"/);
  },
);

test('peers.svg and the producers chart: labels in words, integer producer ticks', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ringbuf-charts-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  await writeReport(syntheticReport(), out);
  const peers = readFileSync(path.join(out, 'peers.svg'), 'utf8');
  const names = axisLabels(peers).find((a) => a.axis === 'Y')!.labels;
  t.deepEqual([...names].sort(), [
    'ours (@ringbuf/core), 1 record per output',
    'ours (@ringbuf/core), 1 record per reserve + submit',
    'ours (@ringbuf/core), 1 record per reserve + submit, payload copied as words',
    'ours (@ringbuf/core), 64 records per reserveBatch + submitBatch',
    'ours (@ringbuf/core), 64 records per reserveBatch + submitBatch, payload copied as words',
    'ours (@ringbuf/core), consumer_pos per pass, 64 records per reserveBatch + submitBatch',
    'ours (@ringbuf/core), consumer_pos per pass, 64 records per reserveBatch + submitBatch, payload copied as words',
    'ours (@ringbuf/core), exclusive producer, 1 record per output',
    'postMessage, 1 record per message',
    'postMessage, 1 record per message, unbounded',
    'postMessage, 64 records per message',
    'ringbuf.js, 1 item per push',
    'ringbuf.js, 64 items per push',
  ]);
  t.notRegex(peers, />(rb-|ringbufjs-|postmessage-)/, 'no scenario ids');
  const producers = readFileSync(path.join(out, 'throughput-vs-producers.svg'), 'utf8');
  const xl = axisLabels(producers).find((a) => a.axis === 'X')!.labels;
  t.deepEqual(xl, ['1', '2', '3', '4', '8']);
});

test('a blank latency chart is caught: no series draws nothing', async (t) => {
  const r = await checkRender(await renderSvg(latencyDistributionSpec({ text: 'empty' }, [])));
  t.is(r.areas.length, 1);
  t.is(r.areas[0]!.colored, 0);
});

test('the percentile axis and the summary points', (t) => {
  t.is(percentileX(0), 0);
  t.true(Math.abs(percentileX(0.99) - 2) < 1e-12);
  t.deepEqual(percentileTicks(4), [0, Math.log10(2), 1, 2, 3, 4]);
  t.is(percentileTicks(4.6).length, 7);
  // 200 samples resolve p99 but not p99.9: the max sits at the last sample's percentile.
  const pts = summaryPoints(summary(200, 10));
  t.deepEqual(
    pts.map((p) => p.p),
    [0, 0.5, 0.9, 0.99, 1 - 1 / 200],
  );
  t.is(pts[pts.length - 1]!.us, 400);
  for (let i = 1; i < pts.length; i++) t.true(pts[i]!.x > pts[i - 1]!.x && pts[i]!.us >= pts[i - 1]!.us);
  t.deepEqual(summaryPoints(summary(0, 10)), []);
  t.deepEqual(
    summaryPoints(summary(1, 10)).map((p) => p.p),
    [0],
  );
  t.deepEqual(logTicks(4, 120), [5, 10, 20, 50, 100]);
  t.true(logTicks(12, 14).length >= 2, 'a narrow range still has two labels');
});

test('labels in words', (t) => {
  t.is(sizeLabel(16), '16 B');
  t.is(sizeLabel(4096), '4 KiB');
  t.is(sizeLabel(65536), '64 KiB');
  const s = syntheticReport().scenarios;
  t.is(peerLabel(s.find((x) => x.name === 'ringbufjs-64')!), 'ringbuf.js, 64 items per push');
  t.is(peerLabel(s.find((x) => x.name === 'postmessage-1')!), 'postMessage, 1 record per message');
  // Every run among the peers of one round has its own bar: no two share a label.
  const round = s.filter((x) => x.group === 'peers' && !/-[2-9]$/.test(x.name));
  t.true(round.length >= 10, `${round.length} runs in a round`);
  t.is(new Set(round.map(peerLabel)).size, round.length, round.map(peerLabel).join(' | '));
  t.is(plotAreas('<svg></svg>').length, 0);
});
