import test from 'ava';
import { ProducerPool, type Scenario } from '../src/index.js';
import { RingBuffer, endToEndProblems, startVerifiedConsumer, testSeed } from './helpers.js';

/**
 * A 4 KiB ring that a concurrent consumer cannot keep empty: many reservations fail. Every producer
 * must account for every record it attempted, and the consumer must receive exactly the committed
 * ones, per producer, in sequence and intact.
 */
async function exactAccounting(
  t: import('ava').ExecutionContext,
  scenario: Scenario,
  producers: number,
): Promise<void> {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const ring = RingBuffer.create({ size: 4096 });
  const consumer = await startVerifiedConsumer(ring);
  const pool = new ProducerPool({ ring: ring.share(), producers, scenario, seed, logLevel: 'warn' });
  const result = await pool.run();
  const report = await consumer.stop();
  const records = scenario.records!;
  for (const p of result.producers) {
    t.is(p.state, 'finished');
    t.is(p.attempted, records, `producer ${p.producerId} attempted`);
    t.is(p.committed + p.discarded + p.dropped, p.attempted, `producer ${p.producerId} accounting`);
    t.is(p.abandoned, 0);
    t.is(p.inFlight, 0);
    t.is(p.lastCommittedSeq, p.committed - 1);
  }
  t.is(result.producers.length, producers);
  t.true(result.totals.dropped > 0, 'the small ring dropped records');
  t.is(result.totals.abandoned, 0);
  t.is(report.runtime.delivered, result.totals.committed, 'consumer received every committed record');
  t.is(report.runtime.rings[0]?.discarded, result.totals.discarded, 'consumer skipped every discarded record');
  t.is(report.verifier.records, result.totals.committed, 'the verifier checked every delivered record');
  t.is(report.backlog, 0);
  t.is(report.lockHolder, 0);
  t.deepEqual(endToEndProblems(result, report), []);
  t.log(`totals ${JSON.stringify(result.totals)}`);
}

test.serial('reserve+submit/discard: accounting is exact under a small ring that drops often', async (t) => {
  await exactAccounting(
    t,
    { records: 200_000, payload: { min: 32, max: 400 }, discardRatio: 0.2, batch: 8, dropBackoffUs: 20 },
    3,
  );
});

test.serial('output with weighted sizes and sampled wakeups: accounting is exact', async (t) => {
  await exactAccounting(
    t,
    {
      records: 100_000,
      api: 'output',
      payload: {
        weighted: [
          { size: 32, weight: 5 },
          { size: 200, weight: 2 },
          { size: 1000, weight: 1 },
        ],
      },
      wakeup: { sampled: 16 },
    },
    2,
  );
});

test.serial('forced wakeups, fixed 32-byte records, four producers: accounting is exact', async (t) => {
  await exactAccounting(t, { records: 50_000, payload: 32, wakeup: 'force' }, 4);
});

test.serial('two rings: slot i writes ring i % 2, each ring drained and verified on its own', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const rings = [RingBuffer.create({ size: 8192 }), RingBuffer.create({ size: 16384 })];
  const consumers = await Promise.all(rings.map((r) => startVerifiedConsumer(r)));
  const pool = new ProducerPool({
    ring: rings.map((r) => r.share()),
    producers: 4,
    scenario: { records: 20_000, payload: { min: 32, max: 300 } },
    seed,
    logLevel: 'warn',
  });
  const result = await pool.run();
  const reports = await Promise.all(consumers.map((c) => c.stop()));
  reports.forEach((report, r) => {
    const mine = result.producers.filter((p) => p.slot % 2 === r);
    const delivered = report.delivered;
    t.deepEqual(
      [...delivered.keys()].sort(),
      mine.map((p) => p.producerId).sort(),
      `ring ${r} got records from its slots only`,
    );
    for (const p of mine) t.is(delivered.get(p.producerId) ?? 0, p.committed);
    t.true(report.verifier.ok, JSON.stringify(report.verifier.examples));
    t.is(report.verifier.records, report.runtime.delivered);
    t.is(report.backlog, 0);
  });
  t.is(reports.length, 2);
  t.is(result.totals.attempted, 4 * 20_000);
});
