import test from 'ava';
import { ProducerPool } from '../src/index.js';
import { ConsumerRuntime } from '@ringbuf/consumer';
import { RingBuffer, endToEndProblems, startVerifiedConsumer, testSeed } from './helpers.js';

/**
 * Open loop at a modest rate: 2 producers x 2000 records/s for 1 s. The issue asks for the rate to be
 * met "within a few percent"; the pool's own tolerance is 5 %, and the assertion allows 10 % so that
 * a loaded 2-core CI machine (other test files, the consumer, the OS) cannot make it flake: an open
 * loop sends late records at once, so only a stall longer than ~100 ms could push it out.
 */
test.serial('open loop meets a modest rate and reports what it achieved', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const ring = RingBuffer.create({ size: 1 << 18 });
  const consumer = await startVerifiedConsumer(ring);
  const pool = new ProducerPool({
    ring: ring.share(),
    producers: 2,
    scenario: { records: 2000, ratePerProducer: 2000, payload: 64 },
    seed,
    logLevel: 'warn',
  });
  const result = await pool.run();
  const report = await consumer.stop();
  t.deepEqual(endToEndProblems(result, report), []);
  t.truthy(result.rate);
  for (const p of result.producers) {
    t.log(
      `producer ${p.producerId}: ${p.achievedRate.toFixed(1)}/s over ${(p.elapsedUs / 1000).toFixed(1)} ms, ` +
        `max lag ${p.maxLagUs.toFixed(0)} us`,
    );
    t.is(p.targetRate, 2000);
    t.is(p.attempted, 2000);
    t.true(Math.abs(p.achievedRate - 2000) <= 200, `achieved ${p.achievedRate}`);
  }
  t.is(result.rate?.targetPerProducer, 2000);
  t.is(
    result.rate?.met,
    result.producers.every((p) => p.rateMet),
  );
});

test.serial('open loop records carry their intended send times, one interval apart', async (t) => {
  const ring = RingBuffer.create({ size: 1 << 16 });
  const intervals: number[] = [];
  let last = -1;
  const { Consumer } = await import('@ringbuf/consumer');
  const { INSTRUMENTED_HEADER_BYTES, RECORD_SEND_TIME } = await import('@ringbuf/instrument');
  const consumer = new Consumer(ring, (_d, off) => {
    const ts = ring.view.getFloat64(off + RECORD_SEND_TIME, true);
    if (last >= 0) intervals.push(ts - last);
    last = ts;
  });
  const pool = new ProducerPool({
    ring: ring.share(),
    producers: 1,
    scenario: { records: 200, ratePerProducer: 1000, payload: INSTRUMENTED_HEADER_BYTES },
    logLevel: 'warn',
  });
  await pool.run();
  consumer.consume();
  consumer.close();
  t.is(intervals.length, 199);
  // The schedule, not the clock at send time: exactly 1000 us apart whatever the thread's jitter.
  for (const gap of intervals) t.true(Math.abs(gap - 1000) < 1e-6, `gap ${gap}`);
});

test.serial('open loop reports a rate it cannot meet instead of hiding it', async (t) => {
  const ring = RingBuffer.create({ size: 1 << 20 });
  // A counting consumer only (no handler): the point is the producer's rate, not the records.
  const runtime = await ConsumerRuntime.start({ rings: [ring] });
  // 2000-byte records filled byte by byte cannot be produced at 50 M/s by one thread.
  const pool = new ProducerPool({
    ring: ring.share(),
    producers: 1,
    scenario: { durationMs: 300, ratePerProducer: 50_000_000, batch: 100, payload: 2000 },
    logLevel: 'silent',
  });
  const result = await pool.run();
  const drained = await runtime.stop({ drain: true, timeoutMs: 10_000 });
  t.is(drained.delivered, result.totals.committed);
  const p = result.producers[0];
  if (p === undefined) return t.fail('no producer report');
  t.log(`achieved ${p.achievedRate.toFixed(0)}/s of 50M/s, max lag ${(p.maxLagUs / 1000).toFixed(1)} ms`);
  t.false(p.rateMet);
  t.false(result.rate?.met);
  t.true(p.achievedRate < 50_000_000 * 0.95);
  t.true(p.maxLagUs > 0);
});
