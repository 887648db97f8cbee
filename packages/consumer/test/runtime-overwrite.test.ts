import test from 'ava';
import { RingBuffer } from '@ringbuf/core';
import { ConsumerRuntime } from '../src/index.js';
import { writeInstrumented, clockMicros } from '@ringbuf/instrument';
import { prng, runProducer, testSeed } from './fixtures/runtime-helpers.js';

const handler = new URL('./fixtures/runtime-handler.js', import.meta.url);

test(
  'overwrite mode under a slow consumer: no torn record is delivered and delivered + lost == ' + 'committed',
  async (t) => {
    const seed = testSeed();
    t.log(`seed ${seed}`);
    const rand = prng(seed);
    const ring = RingBuffer.create({ size: 8192, overwrite: true });
    const rt = await ConsumerRuntime.start({
      rings: [ring],
      handler,
      handlerOptions: { checkPattern: true, slowUs: 20 },
      verify: { allowGaps: true },
    });
    const results = await Promise.all(
      [1, 2].map((producerId) =>
        runProducer({
          share: ring.share(),
          producerId,
          count: 5000 + Math.floor(rand() * 10000),
          seed: (seed * 3 + producerId) >>> 0,
          minSize: 32,
          maxSize: 400,
          discardRate: 0.05,
          flags: 'mixed',
          pattern: true,
          spinOnFull: true,
        }),
      ),
    );
    const report = await rt.stop({ drain: true, timeoutMs: 5000 });
    const committed = results.reduce((s, r) => s + r.committed, 0);
    const { count, torn } = report.handlerClose as { count: number; torn: number };
    const lost = report.rings[0]!.lost;
    t.log(`committed ${committed}, delivered ${report.delivered}, lost ${lost}`);
    t.is(report.reason, 'drained');
    t.is(torn, 0, 'a record overwritten while read is skipped, never delivered torn');
    t.is(count, report.delivered);
    t.is(report.delivered + lost, committed);
    t.is(report.stats.lost, lost);
    t.true(lost > 0, 'the slow consumer was overtaken (the scenario exercised overwriting)');
    const v = report.verifier!;
    t.is(v.duplicates + v.reorders + v.causal + v.producerErrors, 0);
    t.is(v.records, report.delivered);
    // No producer's sequence ran past what it committed (nothing invented or duplicated).
    for (const r of results)
      t.true((v.producers.find((p) => p.producerId === r.producerId)?.nextSeq ?? 0) <= r.committed);
  },
);

test('overwrite mode: a consumer that starts late resumes at overwrite_pos and gets the newest records', async (t) => {
  const ring = RingBuffer.create({ size: 4096, overwrite: true });
  const committed = 1000;
  for (let seq = 0; seq < committed; seq++) {
    const off = ring.reserve(40);
    writeInstrumented(ring.view, off, 1, seq, clockMicros(), 0, 0);
    ring.submit(off, 0);
  }
  const rt = await ConsumerRuntime.start({ rings: [ring], verify: { allowGaps: true } });
  const report = await rt.stop({ drain: true, timeoutMs: 1000 });
  const perRing = Math.floor((4096 - 8) / 48); // records of footprint 48 that fit
  t.is(report.delivered, perRing);
  t.is(report.rings[0]!.lost, committed - perRing);
  t.is(report.verifier!.producers[0]!.nextSeq, committed);
  t.is(report.verifier!.violations, 0);
});
