import test from 'ava';
import { MessageChannel } from 'node:worker_threads';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { RingBuffer } from '@ringbuf/core';
import {
  ConsumerRuntime,
  LatencyRecorder,
  MAX_PRODUCER_HISTOGRAMS,
  OTHER_PRODUCERS,
  mergeLatencyReports,
  summarize,
} from '../src/index.js';
import { INSTRUMENTED_HEADER_BYTES, clockMicros, writeInstrumented } from '@ringbuf/instrument';
import { prng, runProducer, testSeed } from './fixtures/runtime-helpers.js';

/** HdrHistogram with 3 significant figures: values are exact to within 0.1 %. */
const close = (a: number, b: number): boolean => Math.abs(a - b) <= b * 0.001 + 0.001;

test('samples are recorded in nanoseconds per producer and summarised in microseconds', (t) => {
  const rec = new LatencyRecorder();
  for (let i = 1; i <= 1000; i++) rec.record(1, 0, i); // 1..1000 us
  rec.record(2, 0, 50);
  rec.record(2, 100, 50); // send time after delivery: clamped, counted
  const r = rec.report();
  t.is(r.unit, 'ns');
  t.is(r.negative, 1);
  t.is(rec.count, 1002);
  const p1 = r.perProducer[1]!;
  t.is(p1.count, 1000);
  t.true(close(p1.p50Us, 500), String(p1.p50Us));
  t.true(close(p1.p90Us, 900), String(p1.p90Us));
  t.true(close(p1.p99Us, 990), String(p1.p99Us));
  t.true(close(p1.p999Us, 999), String(p1.p999Us));
  t.true(close(p1.maxUs, 1000), String(p1.maxUs));
  t.true(close(p1.minUs, 1), String(p1.minUs));
  t.is(r.perProducer[2]!.count, 2);
  t.is(r.total.count, 1002);
  t.deepEqual([...r.histograms.keys()], [1, 2]);
});

test('per-producer histograms merge, also after crossing a thread boundary (structured clone)', async (t) => {
  const a = new LatencyRecorder();
  const b = new LatencyRecorder();
  for (let i = 0; i < 100; i++) a.record(1, 0, 10);
  for (let i = 0; i < 300; i++) b.record(1, 0, 30);
  for (let i = 0; i < 50; i++) b.record(4, 0, 1000);
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<Map<number, RecordableHistogram>>((resolve) => port2.once('message', resolve));
  port1.postMessage(b.report().histograms);
  const cloned = await received;
  port1.close();
  const merged = mergeLatencyReports([a.report(), { ...b.report(), histograms: cloned }]);
  t.is(merged.perProducer[1]!.count, 400);
  t.true(close(merged.perProducer[1]!.p50Us, 30));
  t.true(close(merged.perProducer[1]!.p90Us, 30));
  t.is(merged.perProducer[4]!.count, 50);
  t.is(merged.total.count, 450);
  t.true(close(merged.total.maxUs, 1000));
  t.deepEqual(summarize(createHistogram()), {
    count: 0,
    minUs: 0,
    meanUs: 0,
    p50Us: 0,
    p90Us: 0,
    p99Us: 0,
    p999Us: 0,
    maxUs: 0,
  });
});

test('the runtime times every instrumented record end to end with the cross-thread clock', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const rand = prng(seed);
  const ring = RingBuffer.create({ size: 16384 });
  const rt = await ConsumerRuntime.start({ rings: [ring], latency: true });
  const started = clockMicros();
  const results = await Promise.all(
    [1, 2].map((producerId) =>
      runProducer({
        share: ring.share(),
        producerId,
        count: 500 + Math.floor(rand() * 2000),
        seed: (seed + producerId) >>> 0,
        minSize: 32,
        maxSize: 64,
        discardRate: 0,
        flags: 'zero',
        pattern: false,
        spinOnFull: true,
      }),
    ),
  );
  const report = await rt.stop({ drain: true, timeoutMs: 2000 });
  const elapsedUs = clockMicros() - started;
  const lat = report.latency!;
  t.is(lat.total.count, report.delivered);
  t.is(report.stats.latencyCount, report.delivered);
  for (const r of results) t.is(lat.perProducer[r.producerId]!.count, r.committed);
  t.is(lat.negative, 0, 'the clock is comparable across threads: no record arrives before it was sent');
  // Every record was sent and delivered inside the test's own window.
  t.true(lat.total.maxUs <= elapsedUs, `${lat.total.maxUs} us max within ${elapsedUs} us`);
  t.true(lat.histograms.get(1) !== undefined && lat.histograms.get(1)!.count === results[0]!.committed);
});

test('stamped commits split latency into send lag (intended -> commit) and ring latency (commit -> handler)', (t) => {
  const rec = new LatencyRecorder();
  const view = new DataView(new ArrayBuffer(INSTRUMENTED_HEADER_BYTES * 3));
  const now = clockMicros();
  // Intended 1000 us ago, committed 400 us ago: lag 600 us, ring 400 us, total 1000 us.
  writeInstrumented(view, 0, 1, 0, now - 1000, 0, 0, now - 400);
  // Not stamped (commit 0): counts for the total only.
  writeInstrumented(view, INSTRUMENTED_HEADER_BYTES, 1, 1, now - 1000, 0, 0);
  rec.recordRecord(view, 0, INSTRUMENTED_HEADER_BYTES);
  rec.recordRecord(view, INSTRUMENTED_HEADER_BYTES, INSTRUMENTED_HEADER_BYTES);
  const r = rec.report();
  t.is(r.total.count, 2);
  t.is(r.ring.count, 1);
  t.is(r.sendLag.count, 1);
  t.true(Math.abs(r.sendLag.p50Us - 600) < 2, `send lag ${r.sendLag.p50Us}`);
  t.true(r.ring.p50Us >= 400, `ring ${r.ring.p50Us}`);
  // Both measured to the same handler time: they differ by exactly the send lag (HdrHistogram: 0.1 %).
  t.true(Math.abs(r.total.p50Us - r.ring.p50Us - 600) < 3, `total ${r.total.p50Us} - ring ${r.ring.p50Us} != 600`);
  const merged = mergeLatencyReports([r, r]);
  t.is(merged.ring.count, 2);
  t.is(merged.sendLag.count, 2);
});

test("a warm-up leaves each producer's first records out, counted, from that producer's own first send time", (t) => {
  // Warm-up 100 µs. Producer 1 starts at 0 and producer 2 at 1000 µs (a late starter): each one's own
  // first 100 µs are left out, whatever the other did.
  const rec = new LatencyRecorder(100);
  const view = new DataView(new ArrayBuffer(INSTRUMENTED_HEADER_BYTES));
  const now = clockMicros();
  const base = now - 10_000;
  const sends: Array<[number, number, boolean]> = [
    [1, 0, false],
    [1, 50, false],
    [1, 99.9, false],
    [1, 100, true],
    [1, 500, true],
    [2, 1000, false],
    [2, 1099, false],
    [2, 1100, true],
  ];
  let seq = 0;
  for (const [id, at] of sends) {
    writeInstrumented(view, 0, id, seq++, base + at, 0, 0, base + at + 1);
    rec.recordRecord(view, 0, INSTRUMENTED_HEADER_BYTES);
  }
  const r = rec.report();
  t.is(r.warmupSkipped, sends.filter(([, , timed]) => !timed).length);
  t.is(r.total.count, sends.filter(([, , timed]) => timed).length);
  t.is(r.perProducer[1]?.count, 2);
  t.is(r.perProducer[2]?.count, 1);
  t.is(r.ring.count, 3);
  t.is(r.sendLag.count, 3);
  t.is(mergeLatencyReports([r, r]).warmupSkipped, 2 * r.warmupSkipped);
  // Ids beyond the first MAX_PRODUCER_HISTOGRAMS share one warm-up start (ids come from shared memory:
  // they must not grow the recorder): the first such record opens it for all of them.
  const many = new LatencyRecorder(100);
  for (let id = 1; id <= MAX_PRODUCER_HISTOGRAMS; id++) {
    writeInstrumented(view, 0, id, 0, base, 0, 0, base + 1);
    many.recordRecord(view, 0, INSTRUMENTED_HEADER_BYTES);
  }
  writeInstrumented(view, 0, 1000, 0, base, 0, 0, base + 1);
  many.recordRecord(view, 0, INSTRUMENTED_HEADER_BYTES);
  writeInstrumented(view, 0, 2000, 0, base + 150, 0, 0, base + 151);
  many.recordRecord(view, 0, INSTRUMENTED_HEADER_BYTES);
  t.is(many.report().warmupSkipped, MAX_PRODUCER_HISTOGRAMS + 1);
  t.is(many.report().total.count, 1, 'id 2000 sent 150 µs after the shared warm-up opened: timed');
  // Without a warm-up every record is timed.
  const all = new LatencyRecorder();
  all.recordRecord(view, 0, INSTRUMENTED_HEADER_BYTES);
  t.is(all.report().warmupSkipped, 0);
  t.is(all.report().total.count, 1);
});

test(
  'memory is bounded: the first 16 producer ids get a histogram each, later ids share one (id 0), the total ' +
    'counts all',
  (t) => {
    const rec = new LatencyRecorder();
    // 200 ids, as a run with crash injection sees a new id for every replacement producer.
    for (let id = 1; id <= 200; id++) for (let k = 0; k < 3; k++) rec.record(id, 0, id);
    const r = rec.report();
    t.is(MAX_PRODUCER_HISTOGRAMS, 16);
    t.is(r.othersIds, 200 - MAX_PRODUCER_HISTOGRAMS);
    t.is(r.histograms.size, MAX_PRODUCER_HISTOGRAMS + 1, 'one histogram per early id, plus the shared one');
    t.is(r.perProducer[OTHER_PRODUCERS]!.count, 3 * (200 - MAX_PRODUCER_HISTOGRAMS));
    t.is(r.perProducer[16]!.count, 3);
    t.is(r.perProducer[17], undefined);
    t.is(r.total.count, 600);
    t.true(close(r.total.maxUs, 200));
    const merged = mergeLatencyReports([r, r]);
    t.is(merged.total.count, 1200);
    t.is(merged.othersIds, 2 * (200 - MAX_PRODUCER_HISTOGRAMS));
  },
);
