/**
 * Corrupted shared memory, consumer side: every case that the positions and header fields make
 * detectable raises RingBufCorruptionError on every consumer surface (Consumer.consume / consumeN /
 * consumeRing / poll, pollAsync, iterateRecords, ConsumerRuntime), without delivering anything from
 * the bad spot, without moving consumer_pos past it (no silent loss: the next call throws again),
 * without hanging and without starving the event loop. Every test is bounded in time.
 *
 * These tests write the ring's control words and headers directly, on purpose.
 */
import test from 'ava';
import { RingBufCorruptionError, RingBuffer, layout, wakeConsumer } from '@ringbuf/core';
import { Consumer, ConsumerRuntime, RuntimeCorruptionError, countLeftBehind, iterateRecords } from '../src/index.js';

const {
  CONS_POS_INDEX,
  PROD_POS_INDEX,
  HDR_OWNER_WORD,
  OVERWRITE_GEN_INDEX,
  OVERWRITE_SLOTS_INDEX,
  OVERWRITE_SLOT_WORDS,
  headerIndex,
  recordFootprint,
} = layout;
const SIZE = 4096;
const REC = 24;
const FOOT = recordFootprint(REC);

interface Case {
  name: string;
  overwrite: boolean;
  /** Corrupts a ring holding three committed 24-byte records at 0, 32, 64. */
  corrupt: (ring: RingBuffer, words: Int32Array) => void;
  /** Records deliverable before the bad spot. */
  before: number;
  /** Logical position the error names. */
  position: (ring: RingBuffer) => number;
  message: RegExp;
  /** Detectable only once core's isSpan refuses a distance of exactly the ring size (see below). */
  needsStrictSpan?: boolean;
  /**
   * The Consumer's publish mode for the Consumer and pollAsync tests; iterateRecords and the
   * runtime have no such option, so a 'pass' row runs on those two only.
   */
  publish?: 'pass';
}

/** Writes overwrite_pos into the current overwrite slot, as a stray store would. */
function setOverwritePos(w: Int32Array, pos: number): void {
  const gen = w[OVERWRITE_GEN_INDEX]!;
  w[OVERWRITE_SLOTS_INDEX + (gen & 1) * OVERWRITE_SLOT_WORDS] = pos;
}

/**
 * Outside overwrite mode producer_pos - consumer_pos <= size - 8 always holds (reserve refuses a
 * new_prod_pos - cons_pos > mask, as the kernel's __bpf_ringbuf_reserve does; footprints are
 * multiples of 8), so a distance of exactly the ring size can only be a corruption: consumer_pos
 * moved back one lap. Core's isSpan refuses it once it checks `d < size`; until then the lap case
 * is a known gap (test.failing), and it becomes an ordinary test by itself when core tightens.
 */
const STRICT_SPAN = !RingBuffer.create({ size: SIZE }).isSpan(0, SIZE);
const testCase = (c: Case) => (c.needsStrictSpan === true && !STRICT_SPAN ? test.failing : test);

/** Rejects after `ms`: bounds a wait on a promise that would otherwise never settle. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function prepared(overwrite: boolean): { ring: RingBuffer; words: Int32Array } {
  const ring = RingBuffer.create({ size: SIZE, overwrite, producerId: 5 });
  for (let i = 0; i < 3; i++) if (!ring.output(new Uint8Array(REC).fill(i + 1))) throw new Error('ring full');
  return { ring, words: new Int32Array(ring.buffer) };
}

const cases: Case[] = [];
for (const overwrite of [false, true]) {
  const mode = overwrite ? ' (overwrite mode)' : '';
  cases.push({
    name: `consumer_pos ahead of producer_pos${mode}`,
    overwrite,
    corrupt: (_r, w) => {
      w[CONS_POS_INDEX] = 3 * FOOT + 64;
    },
    before: 0,
    position: () => 3 * FOOT + 64,
    message: /corrupt positions: producer_pos 96 is behind consumer_pos 160/,
  });
  cases.push({
    name: `a header length larger than maxPayload${mode}`,
    overwrite,
    corrupt: (_r, w) => {
      w[headerIndex(FOOT)] = 100000;
    },
    before: 1,
    position: () => FOOT,
    message: /corrupt record header at position 32: length 100000 exceeds the largest payload 4080/,
  });
}
// Positions off a record boundary (records start 8-byte aligned): corruption, found once per pass,
// before any header is read at them (they used to reach headerAt() and throw ERR_RINGBUF_OFFSET).
for (const [overwrite, publish] of [
  [false, undefined],
  [false, 'pass'],
  [true, undefined],
] as const) {
  cases.push({
    name: `consumer_pos off a record boundary${overwrite ? ' (overwrite walk)' : publish ? " (publish: 'pass')" : ''}`,
    overwrite,
    ...(publish ? { publish } : {}),
    corrupt: (_r, w) => {
      w[CONS_POS_INDEX] = 4;
    },
    before: 0,
    position: () => 4,
    message: /corrupt positions: consumer_pos 4 is not a record boundary/,
  });
}
cases.push(
  {
    name: 'producer_pos off a record boundary',
    overwrite: false,
    corrupt: (_r, w) => {
      w[PROD_POS_INDEX] = 3 * FOOT + 4;
    },
    before: 0,
    position: () => 0,
    message: /corrupt positions: producer_pos 100 is not a record boundary/,
  },
  {
    name: 'overwrite_pos off a record boundary, ahead of consumer_pos (overwrite walk)',
    overwrite: true,
    corrupt: (_r, w) => setOverwritePos(w, FOOT + 4),
    before: 0,
    position: () => FOOT + 4,
    message: /corrupt positions: overwrite_pos 36 is not a record boundary/,
  },
  {
    name: 'overwrite_pos ahead of producer_pos (overwrite walk)',
    overwrite: true,
    corrupt: (_r, w) => setOverwritePos(w, 3 * FOOT + 8),
    before: 0,
    position: () => 3 * FOOT + 8,
    message: /corrupt positions: overwrite_pos 104 is ahead of producer_pos 96/,
  },
  {
    name: 'producer_pos behind consumer_pos',
    overwrite: false,
    corrupt: (_r, w) => {
      w[PROD_POS_INDEX] = -64;
    },
    before: 0,
    position: () => 0,
    message: /corrupt positions: producer_pos 4294967232 is behind consumer_pos 0/,
  },
  {
    name: 'producer_pos - consumer_pos = 2^31 - 8, far more than the ring',
    overwrite: false,
    corrupt: (_r, w) => {
      w[PROD_POS_INDEX] = 2 ** 31 - 8;
    },
    before: 0,
    position: () => 0,
    message: new RegExp(
      /corrupt positions: producer_pos 2147483640 is 2147483640 bytes ahead of consumer_pos 0, /.source +
        /at least the ring's 4096/.source,
    ),
  },
  {
    name: 'a zeroed header (length 0, owner word 0) read as a record',
    overwrite: false,
    corrupt: (_r, w) => {
      w[headerIndex(FOOT)] = 0;
      w[headerIndex(FOOT) + HDR_OWNER_WORD] = 0;
    },
    before: 1,
    position: () => FOOT,
    message: /corrupt record header at position 32: owner word 0 is not a producer id/,
  },
  {
    name: 'an owner word that is not a producer id (2^30)',
    overwrite: false,
    corrupt: (_r, w) => {
      w[headerIndex(2 * FOOT) + HDR_OWNER_WORD] = 2 ** 30;
    },
    before: 2,
    position: () => 2 * FOOT,
    message: /corrupt record header at position 64: owner word 1073741824 is not a producer id/,
  },
  {
    name: 'a BUSY header with a garbage length (never to be committed)',
    overwrite: false,
    corrupt: (_r, w) => {
      w[headerIndex(FOOT)] = layout.BUSY_BIT_I32 | 0x3ffffff0;
    },
    before: 1,
    position: () => FOOT,
    message: /corrupt record header at position 32: length \d+ exceeds the largest payload/,
  },
  {
    name: 'consumer_pos moved back a lap (producer_pos - consumer_pos = the ring size)',
    overwrite: false,
    corrupt: (ring, w) => {
      // Consume a whole lap and a bit, then move consumer_pos back by exactly the ring size: every
      // header of the previous lap is still there and framed, so only the distance tells.
      const c = new Consumer(ring, () => undefined);
      c.consume();
      for (let i = 0; i < SIZE / FOOT; i++) {
        if (!ring.output(new Uint8Array(REC))) throw new Error('ring full');
        c.consume();
      }
      c.close();
      w[CONS_POS_INDEX] = ring.producerPos() - SIZE;
    },
    before: 0,
    position: (ring) => ring.producerPos() - SIZE,
    message: /corrupt positions: producer_pos \d+ is 4096 bytes ahead of consumer_pos \d+/,
    needsStrictSpan: true,
  },
);

/** A ring prepared and corrupted by `c`, with a snapshot of consumer_pos after the corruption. */
function corrupted(c: Case): { ring: RingBuffer; cons: number } {
  const { ring, words } = prepared(c.overwrite);
  c.corrupt(ring, words);
  // In the two detection-by-header cases the good records come first: the walk delivers them.
  return { ring, cons: ring.consumerPos() };
}

function checkError(t: import('ava').ExecutionContext, err: unknown, c: Case, ring: RingBuffer): void {
  t.true(err instanceof RingBufCorruptionError, String(err));
  const e = err as RingBufCorruptionError;
  t.is(e.code, 'ERR_RINGBUF_CORRUPT');
  t.regex(e.message, c.message);
  t.is(e.position, c.position(ring) >>> 0);
}

for (const c of cases) {
  testCase(c)(
    `Consumer: ${c.name} throws RingBufCorruptionError from every call, delivering only the records before it`,
    (t) => {
      const { ring, cons } = corrupted(c);
      const sizes: number[] = [];
      const consumer = new Consumer(
        ring,
        (_d, _o, size) => {
          sizes.push(size);
        },
        c.publish ? { publish: c.publish } : {},
      );
      t.teardown(() => consumer.close());
      checkError(
        t,
        t.throws(() => consumer.consume()),
        c,
        ring,
      );
      t.is(sizes.length, c.before, 'only the records before the bad spot were delivered');
      t.true(sizes.every((s) => s === REC));
      const stuck = ring.consumerPos();
      // Nothing delivered, nothing skipped: consumer_pos is where the corruption left it.
      if (c.before === 0) t.is(stuck, cons);
      // consumer_pos stays at the bad spot: every later call throws again, nothing is skipped.
      checkError(
        t,
        t.throws(() => consumer.consumeN(10)),
        c,
        ring,
      );
      checkError(
        t,
        t.throws(() => consumer.consumeRing(0)),
        c,
        ring,
      );
      checkError(
        t,
        t.throws(() => consumer.poll(0)),
        c,
        ring,
      );
      // poll(-1) neither returns at once nor sleeps: it throws.
      checkError(
        t,
        t.throws(() => consumer.poll(-1)),
        c,
        ring,
      );
      t.is(ring.consumerPos(), stuck);
      t.is(sizes.length, c.before);
      consumer.close();
    },
  );

  testCase(c)(`pollAsync: ${c.name} rejects with RingBufCorruptionError`, async (t) => {
    const { ring } = corrupted(c);
    let delivered = 0;
    const consumer = new Consumer(
      ring,
      () => {
        delivered++;
      },
      c.publish ? { publish: c.publish } : {},
    );
    t.teardown(() => consumer.close());
    checkError(t, await t.throwsAsync(within(consumer.pollAsync(-1), 5000, 'pollAsync(-1)')), c, ring);
    checkError(t, await t.throwsAsync(consumer.pollAsync(50)), c, ring);
    t.is(delivered, c.before);
    consumer.close();
  });

  if (c.publish !== undefined) continue;

  testCase(c)(`iterateRecords: ${c.name} rejects next() after the good records; a timer still fires`, async (t) => {
    const { ring } = corrupted(c);
    let fired = false;
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        fired = true;
        resolve();
      }, 1),
    );
    const it = iterateRecords(ring);
    t.teardown(() => it.stop());
    for (let i = 0; i < c.before; i++) {
      const r = await it.next();
      t.false(r.done);
      t.is(r.value?.data.length, REC);
    }
    checkError(t, await t.throwsAsync(within(it.next(), 5000, 'next()')), c, ring);
    // The iteration ended and freed the ring.
    t.true((await it.next()).done);
    new Consumer(ring, () => undefined).close();
    await timer;
    t.true(fired);
  });

  testCase(c)(
    `ConsumerRuntime: ${c.name} rejects done with RuntimeCorruptionError (ERR_RUNTIME_CORRUPT) and the report`,
    async (t) => {
      const { ring } = corrupted(c);
      const rt = await ConsumerRuntime.start({ rings: [ring], logLevel: 'silent' });
      // A failed assertion ends the test: stop the worker whatever happens (a no-op once it ended).
      t.teardown(() =>
        rt.stop({ drain: false, timeoutMs: 100 }).then(
          () => undefined,
          () => undefined,
        ),
      );
      const err = await t.throwsAsync(within(rt.done, 5000, 'done'), { instanceOf: RuntimeCorruptionError });
      t.is(err?.code, 'ERR_RUNTIME_CORRUPT');
      t.regex(err?.message ?? '', c.message);
      t.is(err?.ring, 0);
      t.is(err?.position, c.position(ring) >>> 0);
      t.true(err?.cause instanceof RingBufCorruptionError);
      t.is(err?.report?.reason, 'corrupt');
      t.is(err?.report?.delivered, c.before);
      t.is(rt.state, 'exited');
      // The worker freed its consumer slot.
      new Consumer(ring, () => undefined).close();
    },
  );
}

test(
  'iterateRecords: a pending next() lets timers fire, and a corruption found after a wakeup rejects ' + 'it',
  async (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: 5 });
    const words = new Int32Array(ring.buffer);
    const it = iterateRecords(ring);
    const pending = it.next();
    let settled = false;
    pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    // The iterator sleeps on an empty ring (Atomics.waitAsync); the event loop keeps running.
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.false(settled);
    // consumer_pos forced ahead of producer_pos, then a wakeup (as a producer's notify would send).
    words[CONS_POS_INDEX] = 64;
    wakeConsumer(ring.wake);
    const err = await t.throwsAsync(pending);
    t.true(err instanceof RingBufCorruptionError);
    t.regex(err?.message ?? '', /producer_pos 0 is behind consumer_pos 64/);
  },
);

test(
  'iterateRecords: consumer_pos moved off a record boundary while next() sleeps rejects it with ' +
    'RingBufCorruptionError, not ERR_RINGBUF_OFFSET',
  async (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: 5 });
    const words = new Int32Array(ring.buffer);
    const it = iterateRecords(ring);
    t.teardown(() => it.stop());
    const pending = it.next();
    // One record committed with NO_WAKEUP: the iterator stays asleep; then the stray store and a wakeup.
    ring.output(new Uint8Array(REC), 1);
    words[CONS_POS_INDEX] = 4;
    wakeConsumer(ring.wake);
    const err = await t.throwsAsync(within(pending, 5000, 'next()'));
    t.true(err instanceof RingBufCorruptionError, String(err));
    t.regex(err?.message ?? '', /consumer_pos 4 is not a record boundary/);
  },
);

for (const [label, overwrite, corrupt] of [
  ['consumer_pos off a record boundary', false, (w: Int32Array) => (w[CONS_POS_INDEX] = 4)],
  ['overwrite_pos off a record boundary', true, (w: Int32Array) => setOverwritePos(w, FOOT + 4)],
] as const) {
  test(`countLeftBehind: ${label} stops the count and reports corrupt (not ERR_RINGBUF_OFFSET)`, (t) => {
    const { ring, words } = prepared(overwrite);
    corrupt(words);
    const left = countLeftBehind(ring);
    t.true(left.corrupt);
    t.is(left.total, 0);
  });
}

test(
  'a ring whose consumer_pos was moved ahead, as the kernel selftest ringbuf_write does, still reserves; the ' +
    'consumer reports it',
  (t) => {
    // progs/test_ringbuf_write.c writes consumer_pos = 0x30000 before the producer runs: reserve and
    // query keep working (packages/ringbuf-core/test/kernel-selftests.test.ts); only a consumer that
    // reads the ring sees that the positions cannot be right.
    const ring = RingBuffer.create({ size: 0x40000, producerId: 5 });
    new Int32Array(ring.buffer)[CONS_POS_INDEX] = 0x30000;
    const off = ring.reserve(0x30000);
    t.is(off, 8);
    ring.discard(off);
    const consumer = new Consumer(ring, () => undefined);
    // producer_pos 0x30008 is 8 bytes ahead of consumer_pos 0x30000, but the header there is payload.
    t.throws(() => consumer.consume(), { instanceOf: RingBufCorruptionError });
    consumer.close();
  },
);
