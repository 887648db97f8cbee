import test, { type ExecutionContext } from 'ava';
import { ProducerPool, type DeathMethod, type DiePointName, type PoolResult } from '../src/index.js';
import { RingBuffer, endToEndProblems, startVerifiedConsumer, testSeed, type ConsumerReport } from './helpers.js';

/** Give up waiting for the requested number of deaths after this long (then the count assertion fails). */
const SAFETY_MS = 40_000;

async function crashRun(
  t: ExecutionContext,
  opts: {
    deaths: number;
    everyMs: number;
    methods: DeathMethod[];
    points: DiePointName[];
    producers: number;
    api?: 'reserve' | 'output';
  },
): Promise<{ result: PoolResult; report: ConsumerReport }> {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const ring = RingBuffer.create({ size: 16384 });
  const consumer = await startVerifiedConsumer(ring);
  const pool = new ProducerPool({
    ring: ring.share(),
    producers: opts.producers,
    scenario:
      opts.api === 'output'
        ? { records: Number.MAX_SAFE_INTEGER, payload: { min: 32, max: 700 }, api: 'output' }
        : { records: Number.MAX_SAFE_INTEGER, payload: { min: 32, max: 700 }, discardRatio: 0.05 },
    faults: { everyMs: opts.everyMs, methods: opts.methods, points: opts.points, maxKills: opts.deaths },
    seed,
    logLevel: 'warn',
  });
  const controller = new AbortController();
  const running = pool.run({ signal: controller.signal });
  const started = performance.now();
  // Run until the requested number of deaths has been recovered (observed, never slept for).
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (pool.deathsSoFar().length >= opts.deaths || performance.now() - started > SAFETY_MS) resolve();
      else setTimeout(check, 10);
    };
    check();
  });
  controller.abort();
  const result = await running;
  const report = await consumer.stop();
  t.log(
    `${result.deaths.length} deaths in ${result.elapsedMs.toFixed(0)} ms; totals ${JSON.stringify(result.totals)}; ` +
      `consumer ${report.runtime.delivered} records`,
  );
  return { result, report };
}

function checkRecovery(
  t: ExecutionContext,
  result: PoolResult,
  report: ConsumerReport,
  wanted: number,
  api: 'reserve' | 'output' = 'reserve',
): void {
  const delivered = report.delivered;
  t.true(result.deaths.length >= wanted, `${result.deaths.length} deaths`);
  const byPoint = new Map<string, number>();
  for (const d of result.deaths) {
    byPoint.set(`${d.method}/${d.point}`, (byPoint.get(`${d.method}/${d.point}`) ?? 0) + 1);
    t.is(d.cause, 'injected', `producer ${d.producerId}: ${d.error}`);
    const got = delivered.get(d.producerId) ?? 0;
    switch (d.point) {
      case 'after-reserve':
        // Its BUSY record was discarded by recovery and counted abandoned; everything it committed
        // arrived. (output() has no window between reserve and commit: that hook dies before it,
        // with nothing reserved, and the attempt is abandoned all the same.)
        t.is(d.recordsDiscarded, api === 'output' ? 0 : 1, `after-reserve death of ${d.producerId}`);
        t.is(d.inHand, 'abandoned');
        t.is(got, d.lastCommittedSeq + 1);
        break;
      case 'after-submit':
        // Committed one record it never counted: the pool counts it from the record's stage.
        t.is(d.recordsDiscarded, 0);
        t.is(d.inHand, 'committed');
        t.is(got, d.lastCommittedSeq + 1, `after-submit death of ${d.producerId}`);
        break;
      case 'between':
        t.is(d.recordsDiscarded, 0);
        t.is(d.inHand, 'none');
        t.false(d.lockRecovered);
        t.is(got, d.lastCommittedSeq + 1);
        break;
      case 'in-lock':
        t.is(d.recordsDiscarded, 0);
        t.is(d.inHand, 'none');
        t.is(got, d.lastCommittedSeq + 1);
        break;
      default:
        // 'anywhere': any instruction; with reserve/submit the record in hand is still reconciled exactly.
        t.is(got, d.lastCommittedSeq + 1, `anywhere death of ${d.producerId} (in hand ${d.inHand})`);
        t.not(d.inHand, 'undecided');
    }
  }
  const inLock = result.deaths.filter((d) => d.point === 'in-lock');
  if (inLock.length > 0) {
    // The hook takes the lock before dying unless another producer kept it for 1M spins.
    t.true(inLock.filter((d) => d.lockRecovered).length >= inLock.length * 0.9, 'in-lock deaths held the lock');
  }
  t.log(`deaths by method/point: ${JSON.stringify(Object.fromEntries(byPoint))}`);
  // Every death but those at the very end was replaced by a producer with a new id.
  const ids = new Set(result.producers.map((p) => p.producerId));
  t.is(ids.size, result.producers.length);
  for (const d of result.deaths) if (d.replacedBy !== undefined) t.true(d.replacedBy > d.producerId);
  // Nothing committed lost, nothing duplicated or reordered, nothing torn, exact per-producer counts.
  t.deepEqual(endToEndProblems(result, report), []);
  const { attempted, committed, discarded, dropped, abandoned } = result.totals;
  t.is(attempted, committed + discarded + dropped + abandoned, 'the accounting identity holds exactly');
  t.is(abandoned, result.deaths.filter((d) => d.inHand === 'abandoned' || d.inHand === 'undecided').length);
  t.true(abandoned >= result.deaths.filter((d) => d.recordsDiscarded > 0).length);
  t.is(report.backlog, 0, 'the consumer drained everything: no BUSY record left behind');
  t.is(report.lockHolder, 0, 'the lock is free afterwards');
  t.true(report.runtime.delivered > 0);
}

// In-thread simulated deaths: the producer throws out of its task at a chosen point (holding the
// lock, between reserve and submit, right after submit, between records). The thread survives, so
// hundreds of deaths fit in a few seconds; the shared-memory state left behind is the same as a
// real death at that point.
test.serial('hundreds of simulated deaths at the lock, reserve and submit: nothing committed is lost', async (t) => {
  const deaths = 300;
  const { result, report } = await crashRun(t, {
    deaths,
    everyMs: 2,
    methods: ['throw'],
    points: ['between', 'in-lock', 'after-reserve', 'after-submit'],
    producers: 4,
  });
  checkRecovery(t, result, report, deaths);
  for (const point of ['between', 'in-lock', 'after-reserve', 'after-submit']) {
    t.true(
      result.deaths.some((d) => d.point === point),
      `some deaths at ${point}`,
    );
  }
});

// Real thread deaths: process.exit() inside the worker, an uncaught exception on its event loop,
// and worker.terminate() from the main thread, either at a hook point (parked there) or at
// whatever instruction the thread is executing ('anywhere').
test.serial('dozens of real thread deaths (exit, uncaught, terminate anywhere): recovered and replaced', async (t) => {
  const deaths = 45;
  const { result, report } = await crashRun(t, {
    deaths,
    everyMs: 15,
    methods: ['exit', 'uncaught', 'terminate'],
    points: ['anywhere', 'anywhere', 'in-lock', 'after-reserve', 'after-submit', 'between'],
    producers: 3,
  });
  checkRecovery(t, result, report, deaths);
  for (const method of ['exit', 'uncaught', 'terminate']) {
    t.true(
      result.deaths.some((d) => d.method === method),
      `some deaths by ${method}`,
    );
  }
});

test.serial('simulated deaths around bpf_ringbuf_output: recovered, nothing committed lost', async (t) => {
  const deaths = 60;
  const { result, report } = await crashRun(t, {
    deaths,
    everyMs: 3,
    methods: ['throw'],
    points: ['between', 'in-lock', 'after-reserve', 'after-submit'],
    producers: 3,
    api: 'output',
  });
  checkRecovery(t, result, report, deaths, 'output');
});
