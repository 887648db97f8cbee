/**
 * The user ring across real threads (fixtures/user-ring-producer.ts, fixtures/user-ring-drainer.ts).
 *
 * - Many producers: ours takes the reservation lock, so several producer threads may share one user
 *   ring (libbpf's producer is single-threaded). Three producer workers write seeded random sizes
 *   through reserveBlocking into a small ring while a drainer worker logs every record: each stream
 *   arrives complete, in order, once, bytes intact.
 * - Kills: one producer stream and one drainer, each terminated at seeded moments and recovered
 *   (recoverProducer / recoverDrainer) and restarted; nothing committed is lost, duplicated or
 *   reordered. Two documented exceptions, both at a kill: the record a producer had in hand may be
 *   missing (killed before its commit; recovery discards it if it was reserved), and the record a
 *   drainer had in its callback is delivered again to the next drainer (its consumer_pos store had
 *   not happened, as in the kernel when a program stops mid-callback).
 *
 * Bounded: a few thousand records, a watchdog on every wait. Seeded: RINGBUF_SEED replays a run.
 */
import test from 'ava';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { UserRingBuffer } from '../src/index.js';
import { ERRORS, NEXT, STOP, createControl, isDiscarded, readLog } from './fixtures/user-ring-log.js';
import { prng } from './ring-helpers.js';

const PRODUCER = new URL('./fixtures/user-ring-producer.js', import.meta.url);
const DRAINER = new URL('./fixtures/user-ring-drainer.js', import.meta.url);

function seedFromEnv(): number {
  const env = process.env['RINGBUF_SEED'];
  return env !== undefined ? Number(env) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

function spawn(
  url: URL,
  workerData: object,
): { worker: Worker; ready: Promise<unknown>; exit: Promise<unknown[]>; failed: () => Error | undefined } {
  const worker = new Worker(url, { workerData });
  let failure: Error | undefined;
  worker.on('error', (err) => {
    failure = err;
  });
  return { worker, ready: once(worker, 'message'), exit: once(worker, 'exit'), failed: () => failure };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks one stream's deliveries against what its producers wrote: seq `from` to `to - 1` minus the
 * discarded ones; `maybe` may be missing (a killed producer's record in hand); `dupes` deliveries may
 * repeat the entry just before them (a killed drainer's record in hand). Returns the problems.
 */
function verify(log: Array<[number, number]>, stream: number, to: number, maybe: Set<number>, dupes: number): string[] {
  const problems: string[] = [];
  let last = -1;
  let repeated = 0;
  let prev: [number, number] | undefined;
  const seen = new Set<number>();
  for (const entry of log) {
    const [s, seq] = entry;
    if (s !== stream) {
      prev = entry;
      continue;
    }
    if (seq === last && prev !== undefined && prev[0] === s && prev[1] === seq) {
      repeated++;
      prev = entry;
      continue;
    }
    if (seq <= last) problems.push(`stream ${stream}: seq ${seq} after ${last} (reordered or duplicated)`);
    for (let missing = last + 1; missing < seq; missing++) {
      if (!isDiscarded(missing, stream) && !maybe.has(missing)) problems.push(`stream ${stream}: seq ${missing} lost`);
    }
    if (isDiscarded(seq, stream)) problems.push(`stream ${stream}: discarded seq ${seq} delivered`);
    seen.add(seq);
    last = seq;
    prev = entry;
  }
  for (let missing = last + 1; missing < to; missing++) {
    if (!isDiscarded(missing, stream) && !maybe.has(missing))
      problems.push(`stream ${stream}: seq ${missing} lost at the end`);
  }
  if (repeated > dupes)
    problems.push(`stream ${stream}: ${repeated} repeated deliveries, more than the ${dupes} drainer kills`);
  return problems.slice(0, 10);
}

test(
  'many producers: three producer threads share one user ring through the ' +
    'reservation lock; every stream arrives complete, in order, once',
  async (t) => {
    const seed = seedFromEnv();
    t.log(`seed ${seed} (RINGBUF_SEED=${seed} replays it)`);
    const PER_STREAM = 50_000;
    const ring = UserRingBuffer.create({ size: 64 * 1024, id: 1 });
    const controlBuffer = createControl(3 * PER_STREAM + 16);
    const control = new Int32Array(controlBuffer);
    const drainer = spawn(DRAINER, { buffer: ring.buffer, control: controlBuffer, id: 100, mode: 'log' });
    await within(drainer.ready, 10_000, 'drainer ready');
    const producers = [0, 1, 2].map((stream) =>
      spawn(PRODUCER, {
        buffer: ring.buffer,
        control: controlBuffer,
        id: 10 + stream,
        stream,
        from: 0,
        to: PER_STREAM,
        maxSize: 24,
        seed: seed + stream,
      }),
    );
    await within(Promise.all(producers.map((p) => p.exit)), 30_000, 'producers done');
    for (const p of producers) t.is(p.failed(), undefined);
    Atomics.store(control, STOP, 1);
    ring.wakeDrainerNow();
    await within(drainer.exit, 10_000, 'drainer done');
    t.is(drainer.failed(), undefined);
    const log = readLog(control);
    for (const stream of [0, 1, 2]) {
      t.is(Atomics.load(control, NEXT + stream), PER_STREAM);
      t.deepEqual(verify(log, stream, PER_STREAM, new Set(), 0), []);
    }
    t.is(
      log.length,
      [0, 1, 2].reduce(
        (a, s) => a + Array.from({ length: PER_STREAM }, (_, i) => i).filter((i) => !isDiscarded(i, s)).length,
        0,
      ),
    );
    t.is(Atomics.load(control, ERRORS), 0, 'every filler byte intact');
    t.is(ring.lockHolder(), 0);
    t.is(ring.availData(), 0);
    t.log(`space notifies ${ring.notifies().space}, data notifies ${ring.notifies().data}`);
  },
);

test(
  'kills of either side: a producer thread and a draining worker, each terminated ' +
    'at seeded moments and recovered; nothing lost, duplicated or reordered',
  async (t) => {
    const seed = seedFromEnv();
    t.log(`seed ${seed} (RINGBUF_SEED=${seed} replays it)`);
    const rnd = prng(seed);
    const TOTAL = 20_000;
    const KILLS = 8;
    const ring = UserRingBuffer.create({ size: 8 * 1024, id: 1 });
    const controlBuffer = createControl(TOTAL + 64);
    const control = new Int32Array(controlBuffer);
    let producerId = 10;
    let drainerId = 1000;
    const maybe = new Set<number>();
    let drainerKills = 0;
    let midDrainKills = 0;
    let producerKills = 0;
    let discardedByRecovery = 0;
    const startProducer = (from: number): ReturnType<typeof spawn> =>
      spawn(PRODUCER, {
        buffer: ring.buffer,
        control: controlBuffer,
        id: ++producerId,
        stream: 0,
        from,
        to: TOTAL,
        maxSize: 256,
        seed: (seed + producerId) >>> 0,
      });
    const startDrainer = (): ReturnType<typeof spawn> =>
      spawn(DRAINER, { buffer: ring.buffer, control: controlBuffer, id: ++drainerId, mode: 'log' });
    let drainer = startDrainer();
    await within(drainer.ready, 10_000, 'drainer ready');
    let producer = startProducer(0);
    let producerDone = false;
    void producer.exit.then(() => (producerDone = true));
    for (let k = 0; k < KILLS; k++) {
      await delay(5 + Math.floor(rnd() * 40));
      if (producerDone) break;
      const what = rnd();
      if (what < 0.25) {
        // A producer that dies between reserve and submit, at a seeded record: recovery must discard it.
        await within(producer.worker.terminate(), 10_000, 'producer terminate');
        producerKills++;
        const from = Atomics.load(control, NEXT) + 1;
        maybe.add(from - 1);
        if (from >= TOTAL) break;
        ring.recoverProducer(producerId);
        const dieAt = Math.min(TOTAL - 1, from + 20 + Math.floor(rnd() * 300));
        const dying = spawn(PRODUCER, {
          buffer: ring.buffer,
          control: controlBuffer,
          id: ++producerId,
          stream: 0,
          from,
          to: TOTAL,
          maxSize: 256,
          seed: (seed + producerId) >>> 0,
          dieAt,
        });
        await within(dying.exit, 20_000, 'producer dying mid-record');
        if (dying.failed() !== undefined) t.fail(`producer ${producerId} failed: ${String(dying.failed())}`);
        t.is(Atomics.load(control, NEXT), dieAt, 'the dying producer committed everything before its last record');
        const { recordsDiscarded } = ring.recoverProducer(producerId);
        t.is(recordsDiscarded, 1, 'recovery discards the BUSY record it left');
        discardedByRecovery += recordsDiscarded;
        maybe.add(dieAt);
        producer = startProducer(dieAt + 1);
        producerDone = false;
        void producer.exit.then(() => (producerDone = true));
      } else if (what < 0.6) {
        const dead = producer;
        const deadId = producerId;
        await within(dead.worker.terminate(), 10_000, 'producer terminate');
        producerKills++;
        if (dead.failed() !== undefined) t.fail(`producer ${deadId} failed: ${String(dead.failed())}`);
        const next = Atomics.load(control, NEXT);
        const { recordsDiscarded } = ring.recoverProducer(deadId);
        discardedByRecovery += Math.max(0, recordsDiscarded);
        if (next >= TOTAL) break;
        // The record in hand, seq `next`, may have been committed or not: it may be missing.
        maybe.add(next);
        producer = startProducer(next + 1);
        producerDone = false;
        void producer.exit.then(() => (producerDone = true));
      } else {
        const deadId = drainerId;
        await within(drainer.worker.terminate(), 10_000, 'drainer terminate');
        drainerKills++;
        if (ring.recoverDrainer(deadId)) midDrainKills++;
        drainer = startDrainer();
        await within(drainer.ready, 10_000, 'drainer ready');
      }
    }
    await within(producer.exit, 30_000, 'producer done');
    t.is(producer.failed(), undefined);
    Atomics.store(control, STOP, 1);
    ring.wakeDrainerNow();
    await within(drainer.exit, 10_000, 'drainer done');
    t.is(drainer.failed(), undefined);
    const log = readLog(control);
    t.log(
      `${log.length} records delivered; ${producerKills} producer kills ` +
        `(${discardedByRecovery} records discarded by recovery), ${drainerKills} drainer ` +
        `kills (${midDrainKills} mid-drain, busy word recovered)`,
    );
    t.deepEqual(verify(log, 0, TOTAL, maybe, drainerKills), []);
    t.is(Atomics.load(control, ERRORS), 0, 'every filler byte intact');
    t.is(ring.availData(), 0, 'everything was drained');
    t.is(ring.drainer(), 0);
    t.is(ring.lockHolder(), 0);
  },
);
