/**
 * The `order` timeline: the capture handler, picking the tasks around the first violation, the
 * violation marks, and the chart rendered to PNG with resvg (marks in both panels); then
 * `ringbuf order --out` end to end. Set RINGBUF_CHART_PNG=<dir> to keep the PNGs.
 */
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INSTRUMENTED_HEADER_BYTES, RECORD_PRODUCER_ID, RECORD_TOKEN } from '@ringbuf/instrument';
import { axisLabels, checkRender } from '@ringbuf/bench/render-check';
import * as capture from '../src/report/order-capture.js';
import type { OrderCapture } from '../src/report/order-capture.js';
import {
  chooseTasks,
  firstViolation,
  highestBefore,
  renderOrderTimeline,
  timelineEvents,
  tokenTask,
} from '../src/report/order-timeline.js';
import { runCli, testSeed } from './cli-run.js';

/** A capture from a delivery order of tokens, token k written by producer ((k - 1) % 3) + 1. */
function captureOf(order: number[], tokens: number): OrderCapture {
  const deliveredAt = new Array<number>(tokens).fill(-1);
  const producer = new Array<number>(tokens).fill(-1);
  order.forEach((token, i) => {
    deliveredAt[token - 1] = i;
    producer[token - 1] = ((token - 1) % 3) + 1;
  });
  return { delivered: order.length, deliveredAt, producer };
}

/** Per-producer rings drained in turn: each ring's tokens up to `upTo` in one go, ring by ring. */
function drainedInTurn(tokens: number, upTo: number): number[] {
  const order: number[] = [];
  for (let k = 1; k <= 3; k++) for (let t = k; t <= upTo; t += 3) order.push(t);
  for (let t = upTo + 1; t <= tokens; t++) order.push(t);
  return order;
}

const inOrder = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

test('the capture handler notes where each token arrived and who wrote it, allocation-free per record', (t) => {
  capture.init({ tokens: 4 });
  const rec = new Uint8Array(64);
  const put = (token: number, producer: number): void => {
    new DataView(rec.buffer).setUint32(RECORD_TOKEN, token, true);
    new DataView(rec.buffer).setUint32(RECORD_PRODUCER_ID, producer, true);
    capture.handle(rec, 0, INSTRUMENTED_HEADER_BYTES + 8);
  };
  put(2, 7);
  put(0, 1); // no token
  put(1, 6);
  put(9, 1); // beyond the window
  put(2, 9); // a duplicate: the first delivery wins
  capture.handle(rec, 0, 8); // too short for a header: counted, not read
  const c = capture.close();
  t.is(c.delivered, 6);
  t.deepEqual(c.deliveredAt, [2, 0, -1, -1]);
  t.deepEqual(c.producer, [6, 7, -1, -1]);
  capture.init({ tokens: 1e9 });
  t.is(capture.close().deliveredAt.length, capture.MAX_CAPTURE_TOKENS);
  capture.init({ tokens: -3 });
  t.is(capture.close().deliveredAt.length, 0);
});

test('violations: the highest token delivered before each one, the first violation, the window of tasks', (t) => {
  t.deepEqual(tokenTask(1), { task: 1, kind: 'fork' });
  t.deepEqual(tokenTask(6), { task: 2, kind: 'exit' });
  const ordered = captureOf(inOrder(30), 30);
  t.is(firstViolation(ordered), null);
  t.deepEqual(highestBefore(ordered).slice(0, 4), [0, 1, 2, 3]);
  t.deepEqual(chooseTasks(ordered, 30), { first: 1, last: 4 });

  // Ring 1 (forks) drained up to token 19 before ring 2's exec of task 1: token 2 comes after 19.
  const turned = captureOf(drainedInTurn(30, 21), 30);
  t.is(firstViolation(turned), 2);
  t.deepEqual(chooseTasks(turned, 30), { first: 1, last: 4 });
  const events = timelineEvents(turned, 1, 4);
  t.is(events.length, 12);
  t.deepEqual(
    events.map((e) => e.token),
    [1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12],
  );
  t.deepEqual(
    events.map((e) => e.rank),
    inOrder(12).map((i) => i - 1),
  );
  t.deepEqual(events.find((e) => e.token === 2)?.after, 19);
  t.is(events.find((e) => e.token === 1)?.after, null);
  t.is(events.find((e) => e.token === 4)?.after, null);

  // A violation further on: the window starts one task before it, and stays inside the capture.
  const late = captureOf([...inOrder(20), ...drainedInTurn(40, 40).filter((k) => k > 20)], 40);
  t.is(firstViolation(late), 23);
  t.deepEqual(chooseTasks(late, 40), { first: 7, last: 10 });
  t.deepEqual(chooseTasks(captureOf(inOrder(6), 6), 6), { first: 1, last: 2 });
});

const keep = process.env['RINGBUF_CHART_PNG'];

async function assertTimeline(t: import('ava').ExecutionContext, svg: string, name: string): Promise<void> {
  const r = await checkRender(svg);
  if (keep) {
    mkdirSync(keep, { recursive: true });
    writeFileSync(path.join(keep, name), r.png);
  }
  t.is(r.areas.length, 2, 'two panels: the shared ring and the per-producer rings');
  for (const [i, a] of r.areas.entries()) t.true(a.colored > 400, `panel ${i}: ${a.colored} coloured pixels`);
  const lanes = axisLabels(svg).filter((a) => a.axis === 'Y');
  t.true(
    lanes.length >= 1 && lanes.every((a) => a.labels.every((l) => /^producer \d+$/.test(l))),
    JSON.stringify(lanes),
  );
}

test('the timeline renders both panels with marks; violations ringed and labelled only where they are', async (t) => {
  const svg = await renderOrderTimeline({
    producers: 3,
    shared: { capture: captureOf(inOrder(60), 60), violations: 0 },
    perRing: { capture: captureOf(drainedInTurn(60, 21), 60), violations: 14 },
  });
  await assertTimeline(t, svg, 'order-timeline-synthetic.png');
  t.regex(svg, /One shared MPSC ring/);
  t.regex(svg, /One ring per producer, drained in turn/);
  t.regex(svg, /tasks 1-4: 0 of 12 events delivered after a later one; the whole run: 0 causal violations/);
  t.regex(svg, /tasks 1-4: 8 of 12 events delivered after a later one; the whole run: 14 causal violations/);
  t.is((svg.match(/>after #\d+</g) ?? []).length, 8);
});

test.serial('order --out writes order-timeline.svg with marks in both panels', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const out = mkdtempSync(path.join(os.tmpdir(), 'ringbuf-order-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const { code, stdout, stderr } = await runCli([
    'order',
    '--events',
    '3000',
    '--seed',
    String(seed),
    '--json',
    '--out',
    out,
  ]);
  t.is(code, 0, stderr);
  const r = JSON.parse(stdout.trim()) as { files: string[]; outDir: string; ring: { violations: number } };
  t.deepEqual(r.files, ['order-timeline.svg']);
  t.is(r.outDir, out);
  const file = path.join(out, 'order-timeline.svg');
  t.true(existsSync(file));
  const svg = readFileSync(file, 'utf8');
  await assertTimeline(t, svg, 'order-timeline.png');
  t.regex(svg, /tasks \d+-\d+: 0 of \d+ events delivered after a later one; the whole run: 0 causal violations/);
});

test('order --out with an empty path exits 2', async (t) => {
  const { code, stderr } = await runCli(['order', '--out', ' '], 20_000);
  t.is(code, 2);
  t.regex(stderr, /^ringbuf order: --out needs a directory path/);
});
