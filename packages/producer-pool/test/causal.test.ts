import test from 'ava';
import { ProducerPool } from '../src/index.js';
import { RingBuffer, endToEndProblems, startVerifiedConsumer, testSeed } from './helpers.js';

/**
 * The causal scenario: a token goes round the producers through shared memory and each emits its
 * event (fork, exec, exit, ...) only while holding it, so the true order is the token order. With one
 * ring, the consumer must see tokens 1, 2, 3, ... in order, each with the kind it implies.
 */
test.serial('causal tokens are emitted in token order across producers', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const ring = RingBuffer.create({ size: 8192 });
  const consumer = await startVerifiedConsumer(ring, { causal: true });
  const producers = 3;
  const records = 1500;
  const pool = new ProducerPool({
    ring: ring.share(),
    producers,
    scenario: { records, causal: true, payload: { min: 32, max: 600 } },
    seed,
    logLevel: 'warn',
  });
  const result = await pool.run();
  const report = await consumer.stop();
  t.deepEqual(endToEndProblems(result, report), []);
  // The verifier's 'chain' rule: tokens 1, 2, 3, ... each exactly once, with causalKind(token).
  t.is(report.verifier.causal, 0);
  t.is(report.verifier.tokenRecords, producers * records, 'every record carried a token');
  t.is(report.verifier.maxToken, producers * records, 'every token was emitted once, in order');
  for (const p of result.producers) t.is(p.committed, records);
  t.is(result.totals.attempted, result.totals.committed + result.totals.dropped);
  t.log(`dropped and retried: ${result.totals.dropped}`);
});
