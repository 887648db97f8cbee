/** The lab without a full run: statistics, the shared layouts, formatting, stopping a run, the hiccup meter. */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { LINE_BYTES, RingBuffer, WORD_BYTES } from '@ringbuf/core';
import { Consumer } from '@ringbuf/consumer';
import { childLogger } from '@ringbuf/instrument/log';
import { payloadFiller } from '../src/harness/fill.js';
import * as L from '../src/harness/layout.js';
import {
  bytes,
  clock,
  defaultTiming,
  meanStd,
  measureHiccups,
  micros,
  rate,
  runBench,
  threadedScenarios,
} from '../src/index.js';

test('meanStd gives the mean and the sample standard deviation', (t) => {
  t.deepEqual(meanStd([]), { mean: 0, stddev: 0 });
  t.deepEqual(meanStd([5]), { mean: 5, stddev: 0 });
  const r = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
  t.is(r.mean, 5);
  t.true(Math.abs(r.stddev - Math.sqrt(32 / 7)) < 1e-12);
});

const linePair = (index: number): number => Math.floor((index * WORD_BYTES) / LINE_BYTES);

test("control block: each writer's words on a line pair of their own, inside the block", (t) => {
  const drops = Array.from({ length: L.MAX_PRODUCERS }, (_, p) => L.dropsIndex(p));
  // One entry per writer: main; the workers' barrier counters; the consumer; each b2b side; each producer.
  const writers = [
    [L.START_INDEX, L.STOP_INDEX, L.PHASE_INDEX],
    [L.READY_INDEX, L.EXITED_INDEX],
    [L.HITS_INDEX],
    [L.TRIGGER_INDEX, L.TRIGGER_SLEEPER_INDEX],
    [L.BATCH_DONE_INDEX, L.BATCH_SLEEPER_INDEX],
    ...drops.map((d) => [d]),
  ];
  const lines = writers.map((words) => new Set(words.map(linePair)));
  for (const l of lines) t.is(l.size, 1, "a writer's words share one line pair");
  t.is(new Set(lines.map((l) => [...l][0])).size, writers.length, 'no two writers share a line pair');
  const last = Math.max(...writers.flat());
  t.true((last + 1) * WORD_BYTES <= L.CONTROL_BYTES);
  t.is(L.CONTROL_BYTES % LINE_BYTES, 0);
  t.throws(() => L.dropsIndex(L.MAX_PRODUCERS), { instanceOf: RangeError });
  t.throws(() => L.dropsIndex(-1), { instanceOf: RangeError });
});

test('wake-floor pair: flag, ready and send time on three line pairs inside the block', (t) => {
  const sendByte = L.FLOOR_SEND_F64 * 8;
  const pairs = [linePair(L.FLOOR_FLAG_INDEX), linePair(L.FLOOR_READY_INDEX), Math.floor(sendByte / LINE_BYTES)];
  t.is(new Set(pairs).size, 3);
  t.true(sendByte + 8 <= L.FLOOR_BYTES);
});

test('formatting: rates, bytes, µs and m:ss', (t) => {
  t.is(rate(1_234_567), '1.235 M/s');
  t.is(rate(12_345), '12.3 k/s');
  t.is(bytes(12 * 1024), '12.0 KiB');
  t.is(micros(12.34), '12.3 µs');
  t.is(micros(1250), '1.25 ms');
  t.is(micros(NaN), 'n/a');
  t.is(clock(125), '2:05');
});

test('an aborted run stops before the next step and lists what it did not run', async (t) => {
  const controller = new AbortController();
  const groups = new Set(['batch'] as const);
  const names = threadedScenarios(groups).map((s) => s.name);
  const seen: Array<{ index: number; total: number; etaMs: number }> = [];
  const report = await runBench({
    groups,
    quick: true,
    timing: defaultTiming(true),
    logLevel: 'warn',
    log: childLogger({ component: 'bench-test' }, 'error'),
    signal: controller.signal,
    onStep: (s) => {
      seen.push(s);
      // Ctrl-C while the first scenario runs.
      controller.abort();
    },
  });
  t.is(seen.length, 1);
  t.is(seen[0]?.index, 1);
  t.is(seen[0]?.total, names.length);
  t.true((seen[0]?.etaMs ?? 0) > 0);
  t.true(report.interrupted);
  t.deepEqual(
    report.scenarios.map((s) => s.name),
    names.slice(0, 1),
  );
  t.deepEqual(report.notRun, names.slice(1));
});

test('the hiccup meter records one lateness per tick of every thread, and leaves no thread behind', async (t) => {
  const before = readdirSync('/proc/self/task').length;
  const r = await measureHiccups(50, 2, 100);
  // 50 ms at one tick per 100 µs: 500 ticks per thread, each recorded once (late ones included).
  t.is(r.threads, 2);
  t.is(r.intervalUs, 100);
  t.is(r.lateness.count, 2 * 500);
  t.is(r.histogram.count, 2 * 500);
  const l = r.lateness;
  t.true(
    l.minUs > 0 && l.p50Us <= l.p90Us && l.p90Us <= l.p99Us && l.p99Us <= l.p999Us && l.p999Us <= l.maxUs,
    JSON.stringify(l),
  );
  t.true(r.stalledFraction >= 0 && r.stalledFraction < 1, String(r.stalledFraction));
  t.true(Number.isInteger(r.stalls) && r.stalls >= 0);
  // The workers were terminated once they reported (threads wind down asynchronously: bounded poll).
  for (let i = 0; i < 200 && readdirSync('/proc/self/task').length > before; i++)
    await new Promise((res) => setTimeout(res, 10));
  t.true(readdirSync('/proc/self/task').length <= before, 'hiccup threads left running');
});

test('payload fillers: set and words put the same bytes in each record, across the wrap into the mirror tail', (t) => {
  for (const mode of ['set', 'words'] as const) {
    const ring = RingBuffer.create({ size: 4096 });
    const payload = Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff);
    const fill = payloadFiller(ring.data, payload, mode);
    const seen: string[] = [];
    const consumer = new Consumer(ring, (data, off, len) => {
      seen.push(Buffer.from(data.subarray(off, off + len)).toString('hex'));
    });
    // 24-byte records: 200 of them lap the 4096-byte ring, and one of them straddles its end.
    for (let i = 0; i < 200; i++) {
      const off = ring.reserve(16);
      t.true(off > 0, `${mode}: record ${i} reserved`);
      payload[0] = i;
      fill(off);
      ring.submit(off);
      if (i % 50 === 49) consumer.consume();
    }
    consumer.consume();
    t.is(seen.length, 200, `${mode}: every record delivered`);
    t.true(
      seen.every(
        (hex, i) =>
          hex.startsWith(i.toString(16).padStart(2, '0')) &&
          hex.slice(2) === Buffer.from(payload.subarray(1)).toString('hex'),
      ),
      `${mode}: each record holds its payload`,
    );
  }
  // Words need whole, aligned words.
  const ring = RingBuffer.create({ size: 4096 });
  for (const bad of [new Uint8Array(15), new Uint8Array(new ArrayBuffer(20), 2, 16)]) {
    const err = t.throws(() => payloadFiller(ring.data, bad, 'words'));
    t.is((err as { code?: string }).code, 'ERR_BENCH_COUNT');
  }
});
