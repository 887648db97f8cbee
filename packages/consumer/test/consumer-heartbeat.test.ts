/**
 * The consumer heartbeat (core's heartbeat.ts, beyond the kernel): every consumer surface stamps the
 * ring's heartbeat word while it runs and while it sleeps, a bounded number of times (never per
 * record), and clears it on close; a consumer thread that dies leaves a stamp whose age grows while
 * its producers see the ring full. Waits poll the condition with a deadline; none relies on a sleep.
 */
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { HEARTBEAT_IDLE_MS, HEARTBEAT_STAMP_MS, RingBuffer, layout, monotonicMs } from '@ringbuf/core';
import { Consumer, ConsumerRuntime, iterateRecords } from '../src/index.js';

const { CONSUMER_HEARTBEAT_INDEX } = layout;
const SIZE = 65536;

/** The raw heartbeat word of `ring`. */
function stampWord(ring: RingBuffer): number {
  // Observes the consumer's stamp.
  return Atomics.load(new Int32Array(ring.buffer), CONSUMER_HEARTBEAT_INDEX);
}

/** Resolves once `done()` holds, checking every few ms; rejects after `ms`. */
async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = monotonicMs() + ms;
  while (!done()) {
    if (monotonicMs() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Counts the stamps a ring handle takes (a spy on the instance; the word is stamped as well). */
function countStamps(ring: RingBuffer): { count: number } {
  const counter = { count: 0 };
  const original = ring.stampConsumerHeartbeat.bind(ring);
  ring.stampConsumerHeartbeat = (nowMs?: number) => {
    counter.count++;
    original(nowMs);
  };
  return counter;
}

test('no consumer: -1; a Consumer stamps when created, and close() clears it back to -1', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: 2 });
  t.is(ring.consumerHeartbeatAgeMs(), -1);
  const consumer = new Consumer(ring, () => undefined);
  const age = ring.consumerHeartbeatAgeMs();
  t.true(age >= 0 && age < 1000, `age ${age}`);
  t.not(stampWord(ring), 0);
  consumer.close();
  t.is(ring.consumerHeartbeatAgeMs(), -1);
  t.is(stampWord(ring), 0);
});

test(
  '100k consume() calls of one record each stamp at most once per HEARTBEAT_STAMP_MS, never per record or per ' +
    'call',
  (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: 2 });
    const stamps = countStamps(ring);
    let delivered = 0;
    const consumer = new Consumer(ring, () => {
      delivered++;
    });
    t.teardown(() => consumer.close());
    const payload = new Uint8Array(16);
    const started = monotonicMs();
    for (let i = 0; i < 100_000; i++) {
      ring.output(payload);
      consumer.consume();
    }
    const elapsed = monotonicMs() - started;
    t.is(delivered, 100_000);
    // One stamp when the consumer was made, then one per HEARTBEAT_STAMP_MS at most.
    const bound = Math.ceil(elapsed / HEARTBEAT_STAMP_MS) + 2;
    t.log(`${stamps.count} stamps in ${elapsed.toFixed(0)} ms for 100000 records (bound ${bound})`);
    t.true(stamps.count <= bound, `${stamps.count} stamps > ${bound}`);
    t.true(stamps.count >= 1);
  },
);

test('a pass over 100k records stamps at most once: the walk itself never stamps', (t) => {
  const ring = RingBuffer.create({ size: 4 * 1024 * 1024, producerId: 2 });
  const payload = new Uint8Array(16);
  for (let i = 0; i < 100_000; i++) if (!ring.output(payload)) throw new Error('ring full');
  const stamps = countStamps(ring);
  const consumer = new Consumer(ring, () => undefined);
  t.teardown(() => consumer.close());
  const before = stamps.count;
  t.is(consumer.consume(), 100_000);
  t.true(stamps.count - before <= 1, `${stamps.count - before} stamps`);
});

test(
  'calls that slow down abruptly after a busy phase stamp again within 64 of them; calls spaced out from the ' +
    'start stamp on every call',
  (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: 2 });
    const consumer = new Consumer(ring, () => undefined);
    t.teardown(() => consumer.close());
    const idle = new Int32Array(new SharedArrayBuffer(4)); // never notified: a timed pause between calls
    const gapMs = HEARTBEAT_STAMP_MS + 3;
    // Spaced out from the start: every call reads the clock and stamps.
    for (let i = 0; i < 5; i++) {
      Atomics.wait(idle, 0, 0, gapMs);
      consumer.consume();
      t.true(ring.consumerHeartbeatAgeMs() < gapMs, `call ${i}: age ${ring.consumerHeartbeatAgeMs()}`);
    }
    // A busy phase sizes the countdown to its largest, then the calls slow down.
    for (let i = 0; i < 200_000; i++) consumer.consume();
    const lastBusyStamp = stampWord(ring);
    let calls = 0;
    let restamped = -1;
    while (calls < 70 && restamped < 0) {
      Atomics.wait(idle, 0, 0, gapMs);
      consumer.consume();
      calls++;
      // Every call is more than HEARTBEAT_STAMP_MS after the last stamp: a clock read stamps.
      if (stampWord(ring) !== lastBusyStamp) restamped = calls;
    }
    t.log(`re-stamped after ${restamped} slow calls`);
    t.true(restamped > 0 && restamped <= 65, `re-stamped after ${restamped} slow calls`);
  },
);

test('the age grows while the consumer does not run and drops back when it runs', async (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: 2 });
  const consumer = new Consumer(ring, () => undefined);
  t.teardown(() => consumer.close());
  await until(() => ring.consumerHeartbeatAgeMs() >= 40, 5000, 'age >= 40');
  consumer.consume();
  t.true(ring.consumerHeartbeatAgeMs() < 40, `age ${ring.consumerHeartbeatAgeMs()}`);
  await until(() => ring.consumerHeartbeatAgeMs() >= 40, 5000, 'age >= 40 again');
  consumer.poll(0);
  t.true(ring.consumerHeartbeatAgeMs() < 40);
});

test(
  'pollAsync(-1) asleep on an empty ring re-stamps every HEARTBEAT_IDLE_MS without returning; a commit still ' +
    'wakes it',
  async (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: 2 });
    let delivered = 0;
    const consumer = new Consumer(ring, () => {
      delivered++;
    });
    t.teardown(() => consumer.close());
    let settled = false;
    const pending = consumer.pollAsync(-1).finally(() => (settled = true));
    const first = stampWord(ring);
    await until(() => stampWord(ring) !== first, 10 * HEARTBEAT_IDLE_MS, 'a stamp while asleep');
    const second = stampWord(ring);
    await until(() => stampWord(ring) !== second, 10 * HEARTBEAT_IDLE_MS, 'another stamp while asleep');
    t.false(settled, 'the sleep went on: the slices are one wait');
    t.is(consumer.counters.sleeps, 1);
    t.is(consumer.counters.wakeups, 0);
    ring.output(new Uint8Array(8));
    t.is(await pending, 1);
    t.is(delivered, 1);
    t.is(consumer.counters.wakeups, 1);
  },
);

test('a timed pollAsync longer than a heartbeat slice still times out once, after its whole timeout', async (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: 2 });
  const consumer = new Consumer(ring, () => undefined);
  t.teardown(() => consumer.close());
  const timeout = 2 * HEARTBEAT_IDLE_MS + 100;
  const started = monotonicMs();
  t.is(await consumer.pollAsync(timeout), 0);
  const waited = monotonicMs() - started;
  t.true(waited >= timeout - 1, `returned after ${waited.toFixed(1)} ms`);
  t.is(consumer.counters.sleeps, 1);
  t.is(consumer.counters.wakeups, 0);
});

test(
  'a NO_WAKEUP commit leaves a sleeping pollAsync(-1) asleep across heartbeat slices (the kernel wake ' + 'rule)',
  async (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: 2 });
    const consumer = new Consumer(ring, () => undefined);
    t.teardown(() => consumer.close());
    let settled = false;
    const pending = consumer.pollAsync(-1).finally(() => (settled = true));
    ring.output(new Uint8Array(8), 1);
    // Two heartbeat slices pass (two stamps) and the wait is still on.
    const first = stampWord(ring);
    await until(() => stampWord(ring) !== first, 10 * HEARTBEAT_IDLE_MS, 'a stamp while asleep');
    const second = stampWord(ring);
    await until(() => stampWord(ring) !== second, 10 * HEARTBEAT_IDLE_MS, 'another stamp while asleep');
    t.false(settled);
    ring.output(new Uint8Array(8), 2);
    t.is(await pending, 2);
  },
);

test('iterateRecords: a pending next() re-stamps while it waits', async (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: 2 });
  const it = iterateRecords(ring);
  t.teardown(() => it.stop());
  const pending = it.next();
  const first = stampWord(ring);
  await until(() => stampWord(ring) !== first, 10 * HEARTBEAT_IDLE_MS, 'a stamp while next() waits');
  ring.output(new Uint8Array([9]));
  const r = await pending;
  t.deepEqual([...(r.value?.data ?? [])], [9]);
  await it.return();
  t.is(ring.consumerHeartbeatAgeMs(), -1, 'the iteration ended: its consumer closed');
});

test(
  'ConsumerRuntime: the worker stamps while it sleeps on an empty ring, and its stop clears the ' + 'heartbeat',
  async (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: 2 });
    const rt = await ConsumerRuntime.start({ rings: [ring], logLevel: 'silent' });
    t.teardown(() =>
      rt.stop({ drain: false, timeoutMs: 1000 }).then(
        () => undefined,
        () => undefined,
      ),
    );
    t.true(ring.consumerHeartbeatAgeMs() >= 0);
    const first = stampWord(ring);
    await until(() => stampWord(ring) !== first, 10 * HEARTBEAT_IDLE_MS, 'a stamp from the idle worker');
    const second = stampWord(ring);
    await until(() => stampWord(ring) !== second, 10 * HEARTBEAT_IDLE_MS, 'another stamp from the idle worker');
    const report = await rt.stop({ drain: true, timeoutMs: 1000 });
    t.is(report.delivered, 0);
    t.is(ring.consumerHeartbeatAgeMs(), -1);
  },
);

test(
  'a consumer thread that dies: its stamp stops, the age grows past a threshold while producers see the ring ' + 'full',
  async (t) => {
    const ring = RingBuffer.create({ size: 4096, producerId: 2 });
    const control = new SharedArrayBuffer(4);
    const delivered = new Int32Array(control);
    const worker = new Worker(new URL('./fixtures/heartbeat-consumer.js', import.meta.url), {
      workerData: { share: ring.share(), control },
    });
    t.teardown(() => void worker.terminate());
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    // Alive: it consumes, and re-stamps while asleep on the empty ring.
    for (let i = 0; i < 10; i++) t.true(ring.output(new Uint8Array(16)));
    await until(() => Atomics.load(delivered, 0) === 10, 5000, 'ten records consumed');
    const first = stampWord(ring);
    await until(() => stampWord(ring) !== first, 10 * HEARTBEAT_IDLE_MS, 'a stamp while the live consumer sleeps');
    t.true(ring.consumerHeartbeatAgeMs() >= 0);
    await worker.terminate();
    // Dead: producers fill the ring, and the stamp only ages.
    let written = 0;
    while (ring.output(new Uint8Array(16))) written++;
    t.true(written > 0);
    t.is(ring.reserve(16), -1, 'the ring is full');
    const threshold = 2 * HEARTBEAT_IDLE_MS;
    const last = stampWord(ring);
    await until(() => ring.consumerHeartbeatAgeMs() > threshold, 10 * threshold, `age > ${threshold} ms`);
    t.is(stampWord(ring), last, 'nobody stamped after the thread died');
    t.is(ring.reserve(16), -1, 'still full');
    t.log(`age ${ring.consumerHeartbeatAgeMs()} ms with the ring full (threshold ${threshold} ms)`);
  },
);
