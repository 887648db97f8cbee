import test from 'ava';
import { RingBuffer, WakeGroup, BPF_RB_NO_WAKEUP } from '@ringbuf/core';
import { Consumer, RecordIterator, RuntimeError, iterateRecords } from '../src/index.js';
import { readInstrumented } from '@ringbuf/instrument';
import { runProducer, testSeed } from './fixtures/runtime-helpers.js';

test('yields copies of every record a producer worker commits, in order', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const ring = RingBuffer.create({ size: 4096 });
  const count = 3000;
  const producer = runProducer({
    share: ring.share(),
    producerId: 9,
    count,
    seed,
    minSize: 32,
    maxSize: 90,
    discardRate: 0.1,
    // Flags 0: a trailing NO_WAKEUP record would (by the kernel's rule) leave the iterator asleep.
    flags: 'zero',
    pattern: false,
    spinOnFull: true,
  });
  let next = 0;
  const it = iterateRecords(ring);
  for await (const { ring: index, data } of it) {
    t.is(index, 0);
    const rec = readInstrumented(new DataView(data.buffer, data.byteOffset, data.byteLength), 0);
    if (rec.seq !== next) t.fail(`expected seq ${next}, got ${rec.seq}`);
    next++;
    if (next === count) break;
  }
  await producer;
  t.is(next, count);
  // The iterator freed its consumer slot.
  new Consumer(ring, () => undefined).close();
});

test('breaking out loses nothing: the records not yet yielded stay in the ring', async (t) => {
  const group = WakeGroup.create();
  const a = RingBuffer.create({ size: 4096, wakeGroup: group });
  const b = RingBuffer.create({ size: 4096, wakeGroup: group });
  for (let i = 0; i < 4; i++) {
    a.output(Uint8Array.of(1, i), 0);
    b.output(Uint8Array.of(2, i), 0);
  }
  const seen: number[][] = [];
  for await (const { ring, data } of iterateRecords([a, b])) {
    seen.push([ring, data[0]!, data[1]!]);
    if (seen.length === 3) break;
  }
  // Round-robin over the rings.
  t.deepEqual(seen, [
    [0, 1, 0],
    [1, 2, 0],
    [0, 1, 1],
  ]);
  let rest = 0;
  const c = new Consumer(a, () => {
    rest++;
  });
  c.add(b, () => {
    rest++;
  });
  t.is(c.consume(), 5);
  t.is(rest, 5);
  c.close();
});

test('stop() and an aborted signal end a pending next() at once; NO_WAKEUP records wait for a wakeup', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const it = new RecordIterator(ring);
  const pending = it.next();
  ring.output(Uint8Array.of(5), BPF_RB_NO_WAKEUP);
  it.stop();
  t.deepEqual(await pending, { value: undefined, done: true });
  t.deepEqual(await it.next(), { value: undefined, done: true });
  // The NO_WAKEUP record was not taken by the stopped iterator.
  const controller = new AbortController();
  const it2 = iterateRecords(ring, { signal: controller.signal });
  const first = await it2.next();
  t.deepEqual(first.value?.data, Uint8Array.of(5));
  const waiting = it2.next();
  controller.abort();
  t.true((await waiting).done);
  t.throws(() => iterateRecords([]), { instanceOf: RuntimeError });
});

test('a BUSY head is waited for without spinning the event loop; its commit yields it', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const head = ring.reserve(8);
  ring.output(Uint8Array.of(2), 0);
  const it = iterateRecords(ring);
  const first = it.next();
  let timerRan = false;
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      timerRan = true;
      resolve();
    }, 5),
  );
  t.true(timerRan, 'the event loop kept running while the head was BUSY');
  ring.data[head] = 1;
  ring.submit(head, 0);
  t.is((await first).value?.data[0], 1);
  t.is((await it.next()).value?.data[0], 2);
  await it.return();
});
