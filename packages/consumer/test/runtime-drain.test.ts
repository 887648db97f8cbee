import test from 'ava';
import { RingBuffer } from '@ringbuf/core';
import { ConsumerRuntime, countLeftBehind } from '../src/index.js';
import { INSTRUMENTED_HEADER_BYTES, writeInstrumented, clockMicros } from '@ringbuf/instrument';
import { prng, runProducer, testSeed, until, type ProducerResult } from './fixtures/runtime-helpers.js';

const handler = new URL('./fixtures/runtime-handler.js', import.meta.url);

function committedBy(results: ProducerResult[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of results) out[r.producerId] = r.committed;
  return out;
}

test('stop({ drain: true }) delivers every record that producers stopping at random moments committed', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const rand = prng(seed);
  const ring = RingBuffer.create({ size: 16384, startPos: 2 ** 32 - 8192 });
  const rt = await ConsumerRuntime.start({
    rings: [ring],
    handler,
    handlerOptions: { checkPattern: true },
    verify: true,
  });
  const jobs = [1, 2, 3].map((producerId) => ({
    share: ring.share(),
    producerId,
    count: 200 + Math.floor(rand() * 4000),
    seed: (seed + producerId) >>> 0,
    minSize: 32,
    maxSize: 32 + Math.floor(rand() * 300), // at least the instrumented header (32 B)
    discardRate: 0.1,
    flags: 'mixed' as const,
    pattern: true,
    spinOnFull: true,
  }));
  const results = await Promise.all(jobs.map(runProducer));
  const report = await rt.stop({ drain: true, timeoutMs: 5000 });
  const committed = results.reduce((s, r) => s + r.committed, 0);
  t.is(report.reason, 'drained');
  t.is(report.delivered, committed);
  t.is(report.leftBehind, 0);
  t.deepEqual(report.handlerClose, { count: committed, torn: 0, bytes: report.rings[0]!.bytes });
  t.is(
    report.rings[0]!.discarded,
    results.reduce((s, r) => s + r.discarded, 0),
  );
  t.true(report.verifier!.ok);
  t.is(report.verifier!.records, committed);
  // Checked against the producers' own counts: each producer's next expected seq is its count, so
  // no tail is missing either.
  const expected = committedBy(results);
  for (const p of report.verifier!.producers)
    t.is(p.nextSeq, expected[p.producerId] ?? -1, `producer ${p.producerId} is one of ours`);
  t.is(report.verifier!.producers.length, 3);
  t.is(report.stats.records, committed);
});

test(
  'stop({ drain: true }) while producers still run: delivered + left behind equals committed, per producer a ' +
    'prefix',
  async (t) => {
    const seed = testSeed();
    t.log(`seed ${seed}`);
    const rand = prng(seed);
    const ring = RingBuffer.create({ size: 8192 });
    const rt = await ConsumerRuntime.start({ rings: [ring], verify: true, logLevel: 'silent' });
    const producers = Promise.all(
      [1, 2].map((producerId) =>
        runProducer({
          share: ring.share(),
          producerId,
          count: 1e9,
          seed: (seed ^ producerId) >>> 0,
          minSize: 32,
          maxSize: 120,
          discardRate: 0.05,
          flags: 'mixed',
          pattern: false,
          spinOnFull: true,
          giveUpAfterMs: 500,
        }),
      ),
    );
    const target = 2000 + Math.floor(rand() * 20000);
    // Stop at a random point of the stream; producers that gave up early (a descheduled consumer on a
    // loaded machine) end the wait too: the accounting below holds either way.
    let producersDone = false;
    void producers.then(() => (producersDone = true));
    await until(() => producersDone || rt.stats().records >= target, 60000);
    const report = await rt.stop({ drain: true, timeoutMs: 2000 });
    const results = await producers;
    const committed = results.reduce((s, r) => s + r.committed, 0);
    const left = countLeftBehind(ring);
    t.log(`stopped after ${report.delivered} records (${report.reason}); producers committed ${committed}`);
    t.true(report.reason === 'drained' || report.reason === 'deadline');
    t.is(left.busy, 0);
    t.is(report.delivered + left.committed, committed);
    const v = report.verifier!;
    t.is(v.duplicates + v.reorders + v.causal + v.producerErrors, 0);
    t.is(v.gaps, 0);
    // What was delivered from each producer is exactly its first records; the rest is in the ring.
    const delivered = v.producers.reduce((s, p) => s + p.nextSeq, 0);
    t.is(delivered, report.delivered);
    const tail = rt.stats();
    t.is(tail.records, report.delivered);
    t.is(rt.state, 'exited');
  },
);

test('drain with a stalled BUSY record stops at the deadline and counts exactly what it left behind', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const payload = new Uint8Array(INSTRUMENTED_HEADER_BYTES);
  const emit = (seq: number): void => {
    const off = ring.reserve(INSTRUMENTED_HEADER_BYTES);
    writeInstrumented(ring.view, off, 1, seq, clockMicros(), 0, 0);
    ring.submit(off, 0);
  };
  emit(0);
  emit(1);
  const stuck = ring.reserve(INSTRUMENTED_HEADER_BYTES); // a producer that never commits
  for (let i = 0; i < 5; i++) t.true(ring.output(payload, 0)); // committed behind it
  const junk = ring.reserve(INSTRUMENTED_HEADER_BYTES);
  ring.discard(junk, 0); // discarded: never counted
  const rt = await ConsumerRuntime.start({ rings: [ring], logLevel: 'silent' });
  await until(() => rt.stats().records === 2);
  const report = await rt.stop({ drain: true, timeoutMs: 50 });
  t.is(report.reason, 'deadline');
  t.is(report.delivered, 2);
  t.is(report.leftBehindBusy, 1);
  t.is(report.leftBehindCommitted, 5);
  t.is(report.leftBehind, 6);
  t.is(report.rings[0]!.leftBehind.committedBytes, 5 * INSTRUMENTED_HEADER_BYTES);
  t.true(report.stats.busyStalls > 0);
  ring.submit(stuck, 0);
});

test('stop({ drain: false }) stops after the current pass and still accounts for every record', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const rt = await ConsumerRuntime.start({
    rings: [ring],
    handler,
    handlerOptions: { slowUs: 2000 },
    batch: 1,
    logLevel: 'silent',
  });
  const payload = new Uint8Array(40);
  let committed = 0;
  while (ring.output(payload, 0)) committed++;
  await until(() => rt.stats().records >= 1);
  const report = await rt.stop({ drain: false });
  t.is(report.reason, 'stopped');
  t.is(report.delivered + report.leftBehindCommitted, committed);
  t.is(report.leftBehindBusy, 0);
  t.log(`delivered ${report.delivered}, left ${report.leftBehindCommitted}`);
});
