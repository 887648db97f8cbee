/**
 * The ring in a browser: headless Chromium (the system's, through playwright-core) loads
 * static/test.html from the COOP/COEP server, which imports @ringbuf/core, @ringbuf/instrument and
 * @ringbuf/consumer's browser entry unchanged from their dist/ folders through an import map. Each
 * test opens a fresh page (a new realm), runs one scenario of page/harness.ts and checks its
 * result here. Every scenario is bounded in time; random sizes come from a seed printed by the test.
 */
import test from 'ava';
import type { Page } from 'playwright-core';
import { startServer, PACKAGE_DIR, type RunningServer } from '../src/serve.js';
import { launchChromium, type Chromium } from '../src/chromium.js';
import type { LoadOptions, LoadResult, MainPollResult, RingbufTestApi } from '../page/harness.js';

const SCENARIO_MS = 30_000;
let server: RunningServer;
let browser: Chromium;

test.before(async (t) => {
  server = await startServer({ root: PACKAGE_DIR });
  const t0 = performance.now();
  browser = await launchChromium();
  t.log(`chromium ${browser.version} launched in ${(performance.now() - t0).toFixed(0)} ms; serving ${server.url}`);
});

test.after.always(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh page on the test document, its harness loaded; page errors are collected. */
async function openPage(errors: string[]): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  await page.goto(new URL('/static/test.html', server.url).href);
  await page.waitForFunction(() => document.body.dataset['ready'] === 'true', undefined, { timeout: 10_000 });
  return page;
}

type Scenario = keyof RingbufTestApi;

async function run<R>(page: Page, name: Scenario, options?: unknown): Promise<R> {
  return (await page.evaluate(
    ([n, o]) =>
      (window as unknown as { ringbufTest: Record<string, (o: unknown) => Promise<unknown>> }).ringbufTest[
        n as string
      ]!(o),
    [name, options] as const,
  )) as R;
}

function seedOf(): number {
  const env = process.env['RINGBUF_SEED'];
  return env !== undefined ? Number(env) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

/** The loss, duplicate and order checks every lossless scenario must pass. */
function assertLossless(t: import('ava').ExecutionContext, r: LoadResult, producers: number, records: number): void {
  t.log(
    `seed ${r.seed}: ${r.delivered} records delivered of ${r.committed} committed in ${r.ms.toFixed(0)} ms ` +
      `(${(r.recordsPerSecond / 1e6).toFixed(2)} M records/s); ring full ` +
      `${r.producers.reduce((n, p) => n + p.full, 0)} times; ` +
      `discarded ${r.producers.reduce((n, p) => n + p.discarded, 0)}` +
      (r.counters ? `; consumer sleeps ${r.counters.sleeps}, wakeups ${r.counters.wakeups}` : ''),
  );
  t.is(r.producers.length, producers);
  t.false(
    r.producers.some((p) => p.timedOut),
    'a producer timed out',
  );
  t.false(r.consumerTimedOut, 'the consumer timed out');
  t.is(r.committed, producers * records, 'every producer committed all its records');
  t.is(r.delivered, r.committed, 'delivered = committed');
  t.is(r.report.records, r.committed, 'the verifier saw every record');
  t.is(r.report.missing, 0, 'lost');
  t.is(r.report.duplicates, 0, 'duplicated');
  t.is(r.report.reorders, 0, 'reordered');
  t.is(r.report.torn, 0, 'torn payloads');
  t.is(r.report.ownerMismatches, 0, 'owner word mismatches');
  t.is(r.report.violations, 0, JSON.stringify(r.report.examples.slice(0, 4)));
  for (const p of r.report.producers)
    t.is(p.nextSeq, records, `producer ${p.producerId} delivered up to its last record`);
}

test.serial('the page is cross-origin isolated: SharedArrayBuffer and Atomics.waitAsync exist', async (t) => {
  const errors: string[] = [];
  const page = await openPage(errors);
  const response = await page.request.get(new URL('/static/test.html', server.url).href);
  t.is(response.headers()['cross-origin-opener-policy'], 'same-origin');
  t.is(response.headers()['cross-origin-embedder-policy'], 'require-corp');
  t.deepEqual(await run(page, 'isolation'), { page: true, sharedArrayBuffer: true, waitAsync: true });
  t.deepEqual(errors, []);
  await page.close();
});

test.serial('4 producer workers -> 1 ring -> a consumer worker (poll): 0 lost, duplicated or reordered', async (t) => {
  t.timeout(SCENARIO_MS + 10_000);
  const errors: string[] = [];
  const page = await openPage(errors);
  const options: LoadOptions = {
    seed: seedOf(),
    producers: 4,
    records: 50_000,
    ringSize: 1 << 16,
    discardRatio: 0.05,
    timeoutMs: SCENARIO_MS,
  };
  t.log(`seed ${options.seed} (rerun: RINGBUF_SEED=${options.seed})`);
  const r = await run<LoadResult>(page, 'inWorker', options);
  assertLossless(t, r, 4, options.records);
  t.true(r.producers.reduce((n, p) => n + p.discarded, 0) > 0, 'some reservations were discarded');
  t.deepEqual(errors, []);
  await page.close();
});

test.serial(
  '4 producer workers -> 1 ring -> the main thread (iterateRecords): 0 lost, duplicated or reordered',
  async (t) => {
    t.timeout(SCENARIO_MS + 10_000);
    const errors: string[] = [];
    const page = await openPage(errors);
    const options: LoadOptions = {
      seed: seedOf(),
      producers: 4,
      records: 20_000,
      ringSize: 1 << 16,
      discardRatio: 0.05,
      timeoutMs: SCENARIO_MS,
    };
    t.log(`seed ${options.seed} (rerun: RINGBUF_SEED=${options.seed})`);
    const r = await run<LoadResult>(page, 'mainIterate', options);
    assertLossless(t, r, 4, options.records);
    t.deepEqual(errors, []);
    await page.close();
  },
);

test.serial('WakeGroup: one main-thread consumer (pollAsync) over two rings, 2 producer workers each', async (t) => {
  t.timeout(SCENARIO_MS + 10_000);
  const errors: string[] = [];
  const page = await openPage(errors);
  const options: LoadOptions = {
    seed: seedOf(),
    producers: 2,
    records: 30_000,
    ringSize: 1 << 14,
    timeoutMs: SCENARIO_MS,
  };
  t.log(`seed ${options.seed} (rerun: RINGBUF_SEED=${options.seed})`);
  const r = await run<LoadResult>(page, 'wakeGroupMain', options);
  assertLossless(t, r, 4, options.records);
  t.is(r.rings.length, 2);
  t.is(r.rings[0]?.records, 2 * options.records, 'ring 0 delivered its two producers');
  t.is(r.rings[1]?.records, 2 * options.records, 'ring 1 delivered its two producers');
  t.deepEqual(errors, []);
  await page.close();
});

test.serial(
  'overwrite mode: 4 producer workers lap a consumer worker; delivered + overwritten = committed, nothing torn, ' +
    'duplicated or reordered',
  async (t) => {
    t.timeout(SCENARIO_MS + 10_000);
    const errors: string[] = [];
    const page = await openPage(errors);
    const options: LoadOptions = {
      seed: seedOf(),
      producers: 4,
      records: 50_000,
      ringSize: 4096,
      timeoutMs: SCENARIO_MS,
    };
    t.log(`seed ${options.seed} (rerun: RINGBUF_SEED=${options.seed})`);
    const r = await run<LoadResult>(page, 'overwrite', options);
    const lost = r.rings[0]?.lost ?? -1;
    t.log(
      `seed ${r.seed}: committed ${r.committed}, delivered ${r.delivered}, overwritten ${lost}, gaps accepted ` +
        `${r.report.skippedGaps}, ${r.ms.toFixed(0)} ms`,
    );
    t.false(
      r.producers.some((p) => p.timedOut),
      'a producer timed out',
    );
    t.false(r.consumerTimedOut, 'the consumer timed out');
    t.is(r.committed, 4 * options.records);
    t.true(lost > 0, 'the producers lapped the consumer (else this case tests nothing)');
    t.is(r.delivered + lost, r.committed, 'delivered + overwritten = committed');
    t.is(r.report.records, r.delivered);
    t.is(r.report.duplicates, 0, 'duplicated');
    t.is(r.report.reorders, 0, 'reordered');
    t.is(r.report.torn, 0, 'torn (a record overwritten while copied was delivered)');
    t.is(r.report.violations, 0, JSON.stringify(r.report.examples.slice(0, 4)));
    t.deepEqual(errors, []);
    await page.close();
  },
);

test.serial(
  'main thread: poll(-1) throws ERR_RINGBUF_CANNOT_BLOCK naming pollAsync; poll(0), a poll that finds a record, and ' +
    'pollAsync work',
  async (t) => {
    const errors: string[] = [];
    const page = await openPage(errors);
    const r = await run<MainPollResult>(page, 'mainPoll');
    t.log(JSON.stringify(r));
    t.false(r.canBlock, 'Atomics.wait is forbidden on the main thread');
    t.is(r.pollZero, 0);
    t.is(r.error?.code, 'ERR_RINGBUF_CANNOT_BLOCK');
    t.regex(r.error?.message ?? '', /pollAsync/);
    t.is(r.pollWithData, 1);
    t.is(r.pollAsyncGot, 0);
    t.true(r.pollAsyncTimedOutMs >= 25, `pollAsync(30) waited ${r.pollAsyncTimedOutMs} ms`);
    t.deepEqual(errors, []);
    await page.close();
  },
);

// The consumer's waitForWork announced the sleep before core's sleep() refused to block: sleep()
// withdraws the announcement before it throws, so producers stop paying for wake decisions.
test.serial('main thread: a poll(-1) that throws ERR_RINGBUF_CANNOT_BLOCK leaves the wake word AWAKE', async (t) => {
  const errors: string[] = [];
  const page = await openPage(errors);
  const r = await run<MainPollResult>(page, 'mainPoll');
  t.is(r.error?.code, 'ERR_RINGBUF_CANNOT_BLOCK');
  t.false(r.sleepingAfterThrow, 'the wake word still says SLEEPING: every commit would pay for a wake decision');
  await page.close();
});
