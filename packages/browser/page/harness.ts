/**
 * The browser test's page side (static/test.html loads it): scenarios that the Node test calls
 * through `window.ringbufTest.<name>(options)`, each returning plain data for the test to check.
 * Every scenario is bounded by its `timeoutMs`; a timed-out part says so in its result.
 */
import { RingBuffer, WakeGroup, CAN_BLOCK, consumerSleeping, type RingShare } from '@ringbuf/core';
import {
  Consumer,
  OrderingVerifier,
  iterateRecords,
  type VerifierReport,
  type RingCounters,
  type ConsumerCounters,
} from '@ringbuf/consumer';
import { runWorker } from './workers.js';
import {
  checkFiller,
  type ConsumerJob,
  type ConsumerResult,
  type ProducerJob,
  type ProducerResult,
} from './protocol.js';
import { INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';

const PRODUCER_WORKER = '/dist/page/producer-worker.js';
const CONSUMER_WORKER = '/dist/page/consumer-worker.js';

export interface LoadOptions {
  seed: number;
  /** Producers per ring. */
  producers: number;
  /** Records each producer commits. */
  records: number;
  ringSize: number;
  minSize?: number;
  maxSize?: number;
  discardRatio?: number;
  timeoutMs: number;
}

interface Producers {
  /** Resolves once every worker loaded; then `go()` releases them all at once. */
  ready: Promise<void>;
  go(): void;
  results: Promise<ProducerResult[]>;
  terminate(): void;
}

/** `perRing` producer workers on each share, ids 1.., seeds derived from `seed`. */
function startProducers(shares: RingShare[], o: LoadOptions): Producers {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const runs: ReturnType<typeof runWorker<ProducerJob, ProducerResult>>[] = [];
  let id = 1;
  for (const share of shares) {
    for (let p = 0; p < o.producers; p++, id++) {
      const run = runWorker<ProducerJob, ProducerResult>(PRODUCER_WORKER);
      const job: ProducerJob = {
        share,
        producerId: id,
        records: o.records,
        seed: (o.seed + id * 0x9e3779b9) >>> 0,
        minSize: o.minSize ?? INSTRUMENTED_HEADER_BYTES,
        maxSize: o.maxSize ?? 200,
        discardRatio: o.discardRatio ?? 0,
        flags: 0,
        gate,
        timeoutMs: o.timeoutMs,
      };
      void run.ready.then(
        () => run.send(job),
        () => undefined,
      );
      runs.push(run);
    }
  }
  return {
    ready: Promise.all(runs.map((r) => r.ready)).then(() => undefined),
    go: () => {
      // Publishes "start" to every producer's Atomics.wait on the gate.
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    },
    results: Promise.all(runs.map((r) => r.result)),
    terminate: () => runs.forEach((r) => r.terminate()),
  };
}

function committedBy(results: ProducerResult[]): Record<number, number> {
  return Object.fromEntries(results.map((r) => [r.producerId, r.committed]));
}

export interface LoadResult {
  seed: number;
  producers: ProducerResult[];
  committed: number;
  delivered: number;
  report: VerifierReport;
  rings: RingCounters[];
  counters?: ConsumerCounters;
  consumerTimedOut: boolean;
  ms: number;
  recordsPerSecond: number;
}

/** Producers in workers into one ring (or a WakeGroup's rings), a consumer in another worker. */
async function inWorker(o: LoadOptions & { overwrite?: boolean; rings?: number }): Promise<LoadResult> {
  const group = (o.rings ?? 1) > 1 ? WakeGroup.create() : undefined;
  const rings = Array.from({ length: o.rings ?? 1 }, () =>
    RingBuffer.create({ size: o.ringSize, overwrite: o.overwrite ?? false, ...(group ? { wakeGroup: group } : {}) }),
  );
  const shares = rings.map((r) => r.share());
  const done = new Int32Array(new SharedArrayBuffer(4));
  const consumer = runWorker<ConsumerJob, ConsumerResult>(CONSUMER_WORKER);
  const producers = startProducers(shares, o);
  try {
    await consumer.ready;
    consumer.send({ shares, done, pollMs: 20, allowGaps: o.overwrite ?? false, timeoutMs: o.timeoutMs });
    await producers.ready;
    const start = performance.now();
    producers.go();
    const results = await producers.results;
    // Publishes "every producer finished" (their commits happen-before their results' messages).
    Atomics.store(done, 0, 1);
    const got = await consumer.result;
    const ms = performance.now() - start;
    const delivered = got.rings.reduce((n, r) => n + r.records, 0);
    return {
      seed: o.seed,
      producers: results,
      committed: results.reduce((n, r) => n + r.committed, 0),
      delivered,
      // Re-derive the tail check on this side: what each producer committed.
      report: o.overwrite ? got.report : reportWithTail(got.report, committedBy(results)),
      rings: got.rings,
      counters: got.counters,
      consumerTimedOut: got.timedOut,
      ms,
      recordsPerSecond: (delivered / ms) * 1000,
    };
  } finally {
    consumer.terminate();
    producers.terminate();
  }
}

/** The worker's report plus the tail check: producers' records never delivered count as missing. */
function reportWithTail(report: VerifierReport, committed: Record<number, number>): VerifierReport {
  let missing = report.missing;
  let gaps = report.gaps;
  for (const [id, total] of Object.entries(committed)) {
    const p = report.producers.find((x) => x.producerId === Number(id));
    const tail = total - (p?.nextSeq ?? 0);
    if (tail > 0) {
      missing += tail;
      gaps++;
    }
  }
  const violations = report.violations + (gaps - report.gaps);
  return { ...report, missing, gaps, violations, ok: violations === 0 };
}

/** Producers in workers into one ring; the consumer is this (main) thread, through iterateRecords. */
async function mainIterate(o: LoadOptions): Promise<LoadResult> {
  const ring = RingBuffer.create({ size: o.ringSize });
  const producers = startProducers([ring.share()], o);
  const verifier = new OrderingVerifier({ filler: checkFiller });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), o.timeoutMs);
  const iterator = iterateRecords(RingBuffer.attach(ring.share()), { signal: abort.signal });
  let target = Infinity;
  let delivered = 0;
  try {
    await producers.ready;
    const start = performance.now();
    producers.go();
    const results = producers.results.then((r) => {
      target = r.reduce((n, x) => n + x.committed, 0);
      if (delivered >= target) iterator.stop();
      return r;
    });
    for await (const { ring: index, data } of iterator) {
      verifier.check(new DataView(data.buffer, data.byteOffset, data.byteLength), 0, data.byteLength, index);
      if (++delivered >= target) break;
    }
    const finished = await results;
    const ms = performance.now() - start;
    return {
      seed: o.seed,
      producers: finished,
      committed: target,
      delivered,
      report: verifier.report(committedBy(finished)),
      rings: [],
      consumerTimedOut: abort.signal.aborted,
      ms,
      recordsPerSecond: (delivered / ms) * 1000,
    };
  } finally {
    clearTimeout(timer);
    iterator.stop();
    producers.terminate();
  }
}

/** One consumer over two rings of one WakeGroup, on this (main) thread with pollAsync. */
async function wakeGroupMain(o: LoadOptions): Promise<LoadResult> {
  const group = WakeGroup.create();
  const rings = [0, 1].map(() => RingBuffer.create({ size: o.ringSize, wakeGroup: group }));
  const producers = startProducers(
    rings.map((r) => r.share()),
    o,
  );
  const verifier = new OrderingVerifier({ filler: checkFiller });
  const handles = rings.map((r) => RingBuffer.attach(r.share()));
  const views = handles.map((h) => new DataView(h.data.buffer, h.data.byteOffset, h.data.byteLength));
  const consumer = new Consumer(handles[0], (_d, off, size) => {
    verifier.check(views[0], off, size, 0, handles[0].headerOwnerAt(off - 8));
  });
  consumer.add(handles[1], (_d, off, size) => {
    verifier.check(views[1], off, size, 1, handles[1].headerOwnerAt(off - 8));
  });
  let finished: ProducerResult[] | undefined;
  try {
    await producers.ready;
    const start = performance.now();
    const deadline = start + o.timeoutMs;
    producers.go();
    void producers.results.then((r) => {
      finished = r;
      // Ends a pending pollAsync at once (a no-op when the consumer is awake).
      group.wake();
    });
    let timedOut = false;
    let passes = 0;
    for (;;) {
      const allDone = finished !== undefined;
      await consumer.pollAsync(50);
      if (allDone) {
        while (consumer.consume() > 0);
        break;
      }
      if (performance.now() > deadline) {
        timedOut = true;
        break;
      }
      // A pollAsync that keeps finding records resolves on microtasks: let the event loop run.
      if ((++passes & 63) === 0) await new Promise((ok) => setTimeout(ok, 0));
    }
    const results = finished ?? (await producers.results);
    const ms = performance.now() - start;
    const ringCounters = [0, 1].map((i) => ({ ...(consumer.ringCounters(i) as RingCounters) }));
    const delivered = ringCounters.reduce((n, r) => n + r.records, 0);
    return {
      seed: o.seed,
      producers: results,
      committed: results.reduce((n, r) => n + r.committed, 0),
      delivered,
      report: verifier.report(committedBy(results)),
      rings: ringCounters,
      counters: { ...consumer.counters },
      consumerTimedOut: timedOut,
      ms,
      recordsPerSecond: (delivered / ms) * 1000,
    };
  } finally {
    consumer.close();
    producers.terminate();
  }
}

export interface MainPollResult {
  canBlock: boolean;
  pollZero: number;
  error: { name: string; code?: string; message: string } | undefined;
  sleepingAfterThrow: boolean;
  pollWithData: number | string;
  pollAsyncTimedOutMs: number;
  pollAsyncGot: number;
}

/** What poll(-1), poll(0) and pollAsync do on a browser's main thread. */
async function mainPoll(): Promise<MainPollResult> {
  const ring = RingBuffer.create({ size: 4096 });
  const consumer = new Consumer(RingBuffer.attach(ring.share()), () => undefined);
  try {
    const pollZero = consumer.poll(0);
    let error: MainPollResult['error'];
    try {
      consumer.poll(-1);
    } catch (err) {
      const e = err as { name: string; code?: string; message: string };
      error = { name: e.name, message: e.message, ...(e.code !== undefined ? { code: e.code } : {}) };
    }
    // A poll that failed must not leave the wake word saying SLEEPING (producers would then pay
    // for a wake decision and a notify on every commit, for a consumer that is not waiting).
    const sleepingAfterThrow = consumerSleeping(consumer.wakeWord);
    // With a record ready, poll(-1) returns it without waiting (it does not need to block).
    const producer = RingBuffer.attach(ring.share(), { producerId: 1 });
    const off = producer.reserve(8);
    producer.submit(off);
    let pollWithData: number | string;
    try {
      pollWithData = consumer.poll(-1);
    } catch (err) {
      pollWithData = String((err as { code?: string }).code ?? err);
    }
    const t0 = performance.now();
    const pollAsyncGot = await consumer.pollAsync(30);
    return {
      canBlock: CAN_BLOCK,
      pollZero,
      error,
      sleepingAfterThrow,
      pollWithData,
      pollAsyncTimedOutMs: performance.now() - t0,
      pollAsyncGot,
    };
  } finally {
    consumer.close();
  }
}

/** The page's own view of its isolation, and a worker's. */
function isolation(): Promise<{ page: boolean; sharedArrayBuffer: boolean; waitAsync: boolean }> {
  return Promise.resolve({
    page: crossOriginIsolated,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    waitAsync: typeof Atomics.waitAsync === 'function',
  });
}

const api = {
  isolation,
  inWorker: (o: LoadOptions) => inWorker(o),
  overwrite: (o: LoadOptions) => inWorker({ ...o, overwrite: true }),
  mainIterate,
  wakeGroupMain,
  mainPoll,
};
export type RingbufTestApi = typeof api;

(globalThis as { ringbufTest?: RingbufTestApi }).ringbufTest = api;
document.body.dataset['ready'] = 'true';
