/**
 * CI smoke run of every scenario with tiny parameters, through the lab's API: the report, report.json,
 * report.md and the SVG charts are produced and well formed, and each chart renders (resvg) with marks.
 * No timing assertions. RINGBUF_CHART_PNG=<dir> keeps the PNGs.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childLogger } from '@ringbuf/instrument/log';
import {
  GROUPS,
  QUICK_GOAL,
  defaultTiming,
  renderText,
  runBench,
  threadedScenarios,
  writeReport,
} from '../src/index.js';
import { axisLabels, checkRender } from '../src/report/render-check.js';

test('a quick run of every scenario writes report.json, report.md and SVG charts', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ringbuf-bench-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const steps: string[] = [];
  const report = await runBench({
    groups: new Set(GROUPS),
    quick: true,
    timing: defaultTiming(true),
    logLevel: 'warn',
    log: childLogger({ component: 'bench-test' }, 'error'),
    onStep: (s) => steps.push(`${s.index}/${s.total} ${s.name}`),
  });
  await writeReport(report, out);
  t.deepEqual(JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')), JSON.parse(JSON.stringify(report)));
  t.false(report.interrupted);
  t.deepEqual(report.notRun, []);

  const expected = threadedScenarios(new Set(GROUPS)).map((s) => s.name);
  t.deepEqual(
    report.scenarios.map((s) => s.name),
    expected,
  );
  // Every scenario plus memcpy, the wake floor and the micro-operations, numbered 1..n of n.
  t.is(steps.length, expected.length + 3);
  t.is(steps[0], `1/${steps.length} ${expected[0]}`);
  t.true(steps.includes(`${steps.length}/${steps.length} micro`));
  for (const s of report.scenarios) {
    t.is(s.error, undefined, `${s.name} ran`);
    for (const v of [
      s.hits.mean,
      s.hits.stddev,
      s.drops.mean,
      s.drops.stddev,
      s.bytesPerSec,
      s.gc.events,
      s.heapGrowthBytes,
    ]) {
      t.true(Number.isFinite(v), `${s.name}: finite numbers`);
    }
    t.true(s.hits.mean >= 0 && s.drops.mean >= 0, `${s.name}: rates are not negative`);
    // ur-blocked-wake times wakeups sample by sample (its latency), not records per window.
    if (s.name !== 'ur-blocked-wake')
      t.is(s.windows.length, report.options.windows, `${s.name}: one sample per window`);
  }
  const blocked = report.scenarios.find((s) => s.name === 'ur-blocked-wake');
  t.truthy(blocked?.latency, "the blocked user-ring producer's wakeups were timed");
  // On a loaded 2-core machine a 25 ms window may see nothing from one run; all of them cannot.
  t.true(
    report.scenarios.reduce((a, s) => a + s.windows.reduce((b, w) => b + w.hits, 0), 0) > 0,
    'records were consumed',
  );
  for (const name of ['rb-latency', 'rb-latency-busy']) {
    const run = report.scenarios.find((s) => s.name === name);
    t.truthy(run, `${name} ran`);
    // A starved 50 ms measurement may deliver nothing; one that delivered records has their distribution.
    if (run === undefined || run.windows.every((w) => w.hits === 0)) continue;
    const latency = run.latency;
    t.truthy(latency, `${name} delivered records and reports their distribution`);
    t.true(
      latency !== undefined && latency !== null && latency.p50Us <= latency.p99Us && latency.p99Us <= latency.maxUs,
    );
  }
  // The batched scenarios ran and delivered records through reserveBatch/submitBatch.
  for (const name of [
    'rb-parallel-claim64',
    'rb-peer-claim64',
    'rb-b2b-claim64',
    'rb-peer-words',
    'rb-peer-output',
    'rb-peer-claim64-words',
    'rb-peer-claim64-pass-words',
  ]) {
    const s = report.scenarios.find((x) => x.name === name);
    t.truthy(s, `${name} ran`);
    t.true((s?.windows.reduce((b, w) => b + w.hits, 0) ?? 0) > 0, `${name} consumed records`);
  }
  t.truthy(report.wake, 'the latency group measures the wake floor');
  t.is(report.wake?.floor.count, 200);
  t.is(report.wake?.consumer.count, 200);

  t.deepEqual(
    report.memcpy.map((m) => m.size),
    [16, 64, 1024, 4096, 65536],
  );
  t.true(report.memcpy.every((m) => Number.isFinite(m.bytesPerSec) && m.bytesPerSec > 0));
  t.true(report.micro.length >= 5 && report.micro.every((m) => Number.isFinite(m.nsPerOp) && m.nsPerOp > 0));
  t.deepEqual(
    report.goals.map((g) => g.id),
    [
      'vs-ringbufjs',
      'vs-postmessage',
      'vs-postmessage-unbounded',
      'vs-ringbufjs-words',
      'vs-ringbufjs-output',
      'vs-ringbufjs-exclusive',
      'vs-postmessage-exclusive',
      'batch-vs-ringbufjs',
      'batch-pass-vs-ringbufjs',
      'batch-words-vs-ringbufjs',
      'batch-pass-words-vs-ringbufjs',
      'wakeup-b2b',
      'wakeup-parallel',
      'bandwidth-4k',
      'latency-busy-p50',
      'latency-self-p50',
      'latency-self-p99',
      'latency-self-p99-co',
      'user-ring-vs-postmessage',
      'user-ring-vs-ringbufjs',
      'user-ring-blocking-vs-postmessage',
      'user-ring-excl-vs-ringbufjs',
      'user-ring-blocking-vs-ringbufjs',
      'user-ring-zero-gc',
      'user-ring-blocked-wake',
      'zero-gc',
    ],
  );
  t.true(report.goals.every((g) => g.value !== null && typeof g.met === 'boolean'));
  t.true(report.machine.cores >= 1 && report.machine.node === process.version && report.machine.cpuModel.length > 0);

  const text = renderText(report);
  t.regex(text, /^latency\s+p50\s+p90\s+p99\s+p99\.9\s+max/m);
  t.regex(text, /^rb-latency\s+\S+ (µs|ms)/m);
  t.regex(text, /^raw wait\/notify\s+\S+ (µs|ms)/m);
  for (const g of report.goals) t.regex(text, new RegExp(`^${g.id}\\s.*${QUICK_GOAL.replace(/[()]/g, '\\$&')}`, 'm'));
  t.notRegex(text, /\bMISSED\b|\d us\b/);

  const md = readFileSync(path.join(out, 'report.md'), 'utf8');
  t.true(md.startsWith('# ringbuf bench report'));
  t.regex(md, /oversubscribed/);
  t.regex(md, /## Goals/);
  t.true(md.includes(QUICK_GOAL));
  t.notRegex(md, /\*\*missed\*\*/);
  const svgs = report.files.filter((f) => f.endsWith('.svg'));
  t.deepEqual(svgs.sort(), [
    'latency.svg',
    'peers.svg',
    'record-sizes.svg',
    'sample-rate.svg',
    'throughput-vs-producers.svg',
  ]);
  for (const f of svgs) {
    const svg = readFileSync(path.join(out, f), 'utf8');
    t.true(svg.startsWith('<svg'), `${f} is an SVG`);
    t.true(svg.trimEnd().endsWith('</svg>'), `${f} is complete`);
    t.true(md.includes(`](${f})`), `report.md links ${f}`);
    // Rendered (resvg): marks in every plot area, whatever a quick run's numbers were.
    const r = await checkRender(svg);
    const keep = process.env['RINGBUF_CHART_PNG'];
    if (keep) {
      mkdirSync(keep, { recursive: true });
      writeFileSync(path.join(keep, `quick-${f.replace(/\.svg$/, '.png')}`), r.png);
    }
    t.true(r.areas.length >= 1, `${f}: a plot area`);
    for (const a of r.areas) t.true(a.colored > 50, `${f}: ${a.colored} coloured pixels in its plot area`);
  }
  const latencyAxes = axisLabels(readFileSync(path.join(out, 'latency.svg'), 'utf8'));
  t.true(new Set(latencyAxes.find((a) => a.axis === 'Y')?.labels ?? []).size > 1, 'latency.svg: several y tick labels');
});
