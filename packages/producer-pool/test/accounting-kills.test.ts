import test, { type ExecutionContext } from 'ava';
import { ProducerPool, type DeathMethod, type DiePointName, type PoolResult, type Scenario } from '../src/index.js';
import { RingBuffer, endToEndProblems, startVerifiedConsumer, testSeed } from './helpers.js';

/** Give up waiting for the requested number of deaths after this long (then the count assertion fails). */
const SAFETY_MS = 60_000;

/**
 * The soak's shape, bounded: mixed sizes up to 4000 B, 20 % discards, sampled wakeups, producers
 * killed every few milliseconds until `deaths` have been recovered.
 */
async function killMany(
  t: ExecutionContext,
  deaths: number,
  everyMs: number,
  methods: DeathMethod[],
  points: DiePointName[],
  scenario: Scenario,
): Promise<PoolResult> {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const ring = RingBuffer.create({ size: 1 << 16 });
  const consumer = await startVerifiedConsumer(ring);
  const pool = new ProducerPool({
    ring: ring.share(),
    producers: 4,
    scenario,
    faults: { everyMs, methods, points, maxKills: deaths },
    seed,
    logLevel: 'warn',
  });
  const controller = new AbortController();
  const running = pool.run({ signal: controller.signal });
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const check = (): void =>
      pool.deathsSoFar().length >= deaths || performance.now() - started > SAFETY_MS
        ? resolve()
        : void setTimeout(check, 10);
    check();
  });
  controller.abort();
  const result = await running;
  const report = await consumer.stop();
  const inHand = new Map<string, number>();
  for (const d of result.deaths) inHand.set(d.inHand, (inHand.get(d.inHand) ?? 0) + 1);
  t.log(
    `${result.deaths.length} deaths in ${result.elapsedMs.toFixed(0)} ms; ` +
      `in hand ${JSON.stringify(Object.fromEntries(inHand))}; ` +
      `totals ${JSON.stringify(result.totals)}`,
  );
  t.true(result.deaths.length >= deaths, `${result.deaths.length} deaths`);
  // Per producer and in total: attempted = committed + discarded + dropped + abandoned, exactly,
  // and the consumer received exactly the committed records (helpers.endToEndProblems).
  t.deepEqual(endToEndProblems(result, report), []);
  const { attempted, committed, discarded, dropped, abandoned, inFlight } = result.totals;
  t.is(attempted, committed + discarded + dropped + abandoned);
  t.is(inFlight, 0);
  t.is(abandoned, (inHand.get('abandoned') ?? 0) + (inHand.get('undecided') ?? 0));
  t.is(report.runtime.delivered, report.verifier.records);
  return result;
}

const SOAK: Scenario = {
  records: Number.MAX_SAFE_INTEGER,
  payload: { min: 32, max: 4000 },
  discardRatio: 0.2,
  wakeup: { sampled: 8 },
};

test.serial('a thousand simulated deaths at every hook point: the accounting identity holds exactly', async (t) => {
  const result = await killMany(t, 1000, 1, ['throw'], ['between', 'in-lock', 'after-reserve', 'after-submit'], SOAK);
  // Every kind of record in hand was met: committed-but-uncounted, a discard or submit cut short.
  for (const kind of ['none', 'committed', 'abandoned'] as const)
    t.true(
      result.deaths.some((d) => d.inHand === kind),
      `some deaths with ${kind} in hand`,
    );
  t.false(
    result.deaths.some((d) => d.inHand === 'undecided'),
    'reserve/submit never leaves the pool undecided',
  );
});

test.serial('terminate at any instruction: the record in hand is still reconciled exactly', async (t) => {
  const result = await killMany(t, 40, 10, ['terminate'], ['anywhere'], SOAK);
  t.false(result.deaths.some((d) => d.inHand === 'undecided'));
});

test.serial('output with simulated deaths: nothing undecided, the identity exact', async (t) => {
  const result = await killMany(t, 300, 1, ['throw'], ['between', 'in-lock', 'after-reserve', 'after-submit'], {
    records: Number.MAX_SAFE_INTEGER,
    api: 'output',
    payload: { min: 32, max: 4000 },
  });
  t.false(result.deaths.some((d) => d.inHand === 'undecided'));
  t.true(result.deaths.some((d) => d.inHand === 'committed'));
});
