import test from 'ava';
import { ProducerPool } from '../src/index.js';
import { RingBuffer, endToEndProblems, startVerifiedConsumer, testSeed } from './helpers.js';

test.serial('an AbortSignal stops producers after the record in hand, with exact accounting', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const ring = RingBuffer.create({ size: 1 << 16 });
  const consumer = await startVerifiedConsumer(ring);
  const pool = new ProducerPool({
    ring: ring.share(),
    producers: 3,
    scenario: { records: Number.MAX_SAFE_INTEGER, payload: { min: 32, max: 128 }, discardRatio: 0.1 },
    seed,
    logLevel: 'warn',
  });
  const controller = new AbortController();
  const running = pool.run({ signal: controller.signal });
  // Abort once every producer has committed something (observed, not slept for).
  await new Promise<void>((resolve) => {
    const check = (): void => {
      const stats = pool.stats();
      if (stats.length === 3 && stats.every((s) => s.committed > 100)) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
  controller.abort();
  const result = await running;
  const report = await consumer.stop();
  t.true(result.aborted);
  for (const p of result.producers) {
    t.is(p.state, 'finished');
    t.is(p.inFlight, 0);
    t.is(p.abandoned, 0);
    t.true(p.attempted < Number.MAX_SAFE_INTEGER);
  }
  t.deepEqual(result.deaths, []);
  t.deepEqual(endToEndProblems(result, report), []);
  t.is(report.lockHolder, 0);
});

test.serial('open-loop producers sleeping on their schedule stop promptly on abort', async (t) => {
  const ring = RingBuffer.create({ size: 1 << 16 });
  const consumer = await startVerifiedConsumer(ring);
  // 2 records per second: without the stop word's notify a producer would sleep ~500 ms.
  const pool = new ProducerPool({
    ring: ring.share(),
    producers: 2,
    scenario: { records: 100, ratePerProducer: 2, payload: 32 },
    logLevel: 'warn',
  });
  const controller = new AbortController();
  const running = pool.run({ signal: controller.signal });
  await new Promise<void>((resolve) => {
    const check = (): void =>
      pool.stats().every((s) => s.committed >= 1) && pool.stats().length === 2 ? resolve() : void setTimeout(check, 5);
    check();
  });
  controller.abort();
  const result = await running;
  const report = await consumer.stop();
  t.true(result.aborted);
  t.deepEqual(endToEndProblems(result, report), []);
  for (const p of result.producers) t.true(p.attempted < 100);
});
