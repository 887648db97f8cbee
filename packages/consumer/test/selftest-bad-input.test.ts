/**
 * The consumer's rows of the bad-input table: each bad call throws the typed error with its `code`,
 * delivers nothing, and leaves the ring's shared memory byte-identical and the counters unchanged.
 */
import test from 'ava';
import { RingBufError, RingBufRangeError, RingBuffer, WakeGroup } from '@ringbuf/core';
import { Consumer, LatencyRecorder } from '../src/index.js';

type ErrorClass = typeof RingBufError | typeof RingBufRangeError;

interface Fixture {
  ring: RingBuffer;
  consumer: Consumer;
  delivered: number[];
  /** Called once, from the first callback, before it records anything: a re-entering call. */
  reenter?: (consumer: Consumer) => unknown;
}

interface Row {
  name: string;
  call: (f: Fixture) => unknown;
  error: ErrorClass;
  code: string;
  /** Put the fixture in the state the row needs (e.g. closed). */
  prepare?: (f: Fixture) => void;
}

function fixture(): Fixture {
  const ring = RingBuffer.create({ size: 4096, producerId: 3 });
  ring.output(new Uint8Array(16).fill(1));
  ring.output(new Uint8Array(24).fill(2));
  ring.reserve(8);
  const delivered: number[] = [];
  const f: Partial<Fixture> = { ring, delivered };
  f.consumer = new Consumer(ring, (_d, _o, size) => {
    const reenter = f.reenter;
    if (reenter !== undefined) {
      f.reenter = undefined;
      reenter(f.consumer as Consumer);
    }
    delivered.push(size);
  });
  return f as Fixture;
}

const rows: Row[] = [];
const R = (name: string, call: Row['call'], error: ErrorClass, code: string, prepare?: Row['prepare']): void => {
  rows.push({ name, call, error, code, ...(prepare ? { prepare } : {}) });
};

R(
  'new Consumer of something that is not a RingBuffer',
  /* eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- a fake ring on purpose: the row
   * checks it is refused */
  () => new Consumer({} as RingBuffer, () => 0),
  RingBufError,
  'ERR_RINGBUF_ARGUMENT',
);
R(
  'new Consumer with a callback that is not a function',
  (f) => new Consumer(RingBuffer.attach(f.ring.buffer), 'cb' as never),
  RingBufError,
  'ERR_RINGBUF_ARGUMENT',
);
for (const [label, options] of [
  ['null', null],
  ["'pass' (not an object)", 'pass'],
  ['1n (a BigInt)', 1n],
  ["{ publish: 'sometimes' }", { publish: 'sometimes' }],
  ['{ publish: 1 }', { publish: 1 }],
  ['{ publish: null }', { publish: null }],
] as Array<[string, unknown]>) {
  R(
    `new Consumer with options ${label}`,
    (f) => new Consumer(f.ring, () => 0, options as never),
    RingBufError,
    'ERR_RINGBUF_ARGUMENT',
  );
}
R(
  'a second Consumer of the same ring',
  (f) => new Consumer(f.ring, () => 0),
  RingBufError,
  'ERR_RINGBUF_CONSUMER_EXISTS',
);
R('add of the same ring again', (f) => f.consumer.add(f.ring, () => 0), RingBufError, 'ERR_RINGBUF_CONSUMER_EXISTS');
R('add with a null callback', (f) => f.consumer.add(f.ring, null as never), RingBufError, 'ERR_RINGBUF_ARGUMENT');
R(
  'add of a BigInt instead of a ring',
  (f) => f.consumer.add(1n as never, () => 0),
  RingBufError,
  'ERR_RINGBUF_ARGUMENT',
);
R(
  'add of a ring share instead of a ring',
  (f) => f.consumer.add(f.ring.share() as never, () => 0),
  RingBufError,
  'ERR_RINGBUF_ARGUMENT',
);
R(
  'add with a BigInt callback',
  (f) => f.consumer.add(RingBuffer.create({ size: 4096 }), 1n as never),
  RingBufError,
  'ERR_RINGBUF_ARGUMENT',
);
R(
  'add of a ring in a wake group to a consumer of a ring with its own wake word',
  (f) => f.consumer.add(RingBuffer.create({ size: 4096, wakeGroup: WakeGroup.create() }), () => 0),
  RingBufError,
  'ERR_RINGBUF_WAKE_GROUP',
);
for (const [label, ms] of [
  ["'x'", 'x'],
  ['NaN', NaN],
  ['undefined', undefined],
  ['null', null],
  ['1n (a BigInt)', 1n],
  ['-1n (a BigInt)', -1n],
  ['a Symbol', Symbol('t')],
  ['an object', { valueOf: () => 0 }],
] as Array<[string, unknown]>) {
  R(`poll(${label})`, (f) => f.consumer.poll(ms as number), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
}
for (const [label, n] of [
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ["'4'", '4'],
  ['Infinity', Infinity],
  ['undefined', undefined],
  ['1n (a BigInt)', 1n],
  ['a Symbol', Symbol('n')],
] as Array<[string, unknown]>) {
  R(`consumeN(${label})`, (f) => f.consumer.consumeN(n as number), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
}
for (const [label, i] of [
  ['1 (no such ring)', 1],
  ['-1', -1],
  ["'x'", 'x'],
  ['0.5', 0.5],
  ['0n (a BigInt)', 0n],
  ["'0'", '0'],
] as Array<[string, unknown]>) {
  R(`consumeRing(${label})`, (f) => f.consumer.consumeRing(i as number), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
}
for (const [label, n] of [
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ["'x'", 'x'],
  ['1n (a BigInt)', 1n],
] as Array<[string, unknown]>) {
  R(
    `consumeRing(0, ${label})`,
    (f) => f.consumer.consumeRing(0, n as number),
    RingBufRangeError,
    'ERR_RINGBUF_ARGUMENT',
  );
}
for (const [label, us] of [
  ['-1', -1],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ["'1000'", '1000'],
  ['1000n (a BigInt)', 1000n],
  ['null', null],
] as Array<[string, unknown]>) {
  R(
    `new LatencyRecorder(${label})`,
    () => new LatencyRecorder(us as number),
    RingBufRangeError,
    'ERR_RINGBUF_ARGUMENT',
  );
}
const closed = (f: Fixture): void => f.consumer.close();
R('poll(0) after close', (f) => f.consumer.poll(0), RingBufError, 'ERR_RINGBUF_CLOSED', closed);
R('consume() after close', (f) => f.consumer.consume(), RingBufError, 'ERR_RINGBUF_CLOSED', closed);
R('consumeN(1) after close', (f) => f.consumer.consumeN(1), RingBufError, 'ERR_RINGBUF_CLOSED', closed);
R('consumeRing(0) after close', (f) => f.consumer.consumeRing(0), RingBufError, 'ERR_RINGBUF_CLOSED', closed);
R(
  'add after close',
  (f) => f.consumer.add(RingBuffer.create({ size: 4096 }), () => 0),
  RingBufError,
  'ERR_RINGBUF_CLOSED',
  closed,
);

// Re-entry: a callback that calls back into its own consumer. The inner call throws
// ERR_RINGBUF_REENTRANT before it changes anything; here the callback lets it propagate, so the outer
// consume() throws it too, with the record that was being delivered left unconsumed (delivered
// again by the next call). consumer-reentry.test.ts has the callbacks that catch it.
for (const [label, inner] of [
  ['consume()', (c: Consumer) => c.consume()],
  ['consumeN(1)', (c: Consumer) => c.consumeN(1)],
  ['consumeRing(0)', (c: Consumer) => c.consumeRing(0)],
  ['consumeRing(0, 1)', (c: Consumer) => c.consumeRing(0, 1)],
  ['poll(0)', (c: Consumer) => c.poll(0)],
  ['poll(-1)', (c: Consumer) => c.poll(-1)],
  ['close()', (c: Consumer) => c.close()],
] as Array<[string, (c: Consumer) => unknown]>) {
  R(
    `${label} from inside a callback of consume() (re-entry)`,
    (f) => {
      f.reenter = inner;
      return f.consumer.consume();
    },
    RingBufError,
    'ERR_RINGBUF_REENTRANT',
  );
}

function snapshot(ring: RingBuffer): Buffer {
  return Buffer.from(new Uint8Array(ring.buffer).slice());
}

function state(f: Fixture) {
  return {
    counters: { ...f.consumer.counters },
    ring: f.consumer.ringCounters(0) && { ...f.consumer.ringCounters(0)! },
    delivered: [...f.delivered],
  };
}

for (const row of rows) {
  test(`${row.name} throws ${row.error.name} ${row.code}, delivers nothing and leaves the ring unchanged`, (t) => {
    const f = fixture();
    row.prepare?.(f);
    const before = snapshot(f.ring);
    const stateBefore = state(f);
    const err = t.throws(() => row.call(f), { instanceOf: row.error });
    t.is((err as { code?: string } | undefined)?.code, row.code);
    t.true(before.equals(snapshot(f.ring)), 'the shared memory is byte-identical');
    t.deepEqual(state(f), stateBefore);
    t.deepEqual(f.delivered, []);
    if (row.prepare !== closed) {
      // The consumer still works: both committed records come out, then the BUSY one blocks.
      t.is(f.consumer.consume(), 2);
      t.deepEqual(f.delivered, [16, 24]);
    }
    f.consumer.close();
  });
}

for (const [label, ms] of [
  ["'x'", 'x'],
  ['NaN', NaN],
  ['1n (a BigInt)', 1n],
  ['a Symbol', Symbol('t')],
] as Array<[string, unknown]>) {
  test(`pollAsync(${label}) rejects with ERR_RINGBUF_ARGUMENT and leaves the ring unchanged`, async (t) => {
    const f = fixture();
    const before = snapshot(f.ring);
    const err = await t.throwsAsync(f.consumer.pollAsync(ms as never), { instanceOf: RingBufRangeError });
    t.is(err?.code, 'ERR_RINGBUF_ARGUMENT');
    t.true(before.equals(snapshot(f.ring)));
    t.is(f.consumer.counters.polls, 0);
    t.deepEqual(f.delivered, []);
    f.consumer.close();
  });
}

test('pollAsync after close rejects with ERR_RINGBUF_CLOSED', async (t) => {
  const f = fixture();
  f.consumer.close();
  const err = await t.throwsAsync(f.consumer.pollAsync(0), { instanceOf: RingBufError });
  t.is(err?.code, 'ERR_RINGBUF_CLOSED');
});
