/**
 * The user ring's drain and wake semantics, single-threaded (kernel/bpf/ringbuf.c
 * bpf_user_ringbuf_drain, __bpf_user_ringbuf_peek, __bpf_user_ringbuf_sample_release), its wraps,
 * and crash recovery of a producer or a drainer simulated in one thread (the threaded kills are in
 * user-ring-threads.test.ts).
 */
import test from 'ava';
import {
  BPF_MAX_USER_RINGBUF_SAMPLES,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  RingBufCorruptionError,
  RingBufError,
  RingBufRangeError,
  UserRingBuffer,
  announceSleep,
  cancelSleep,
  layout,
} from '../src/index.js';

const SIZE = 4096;

function ring(id = 1, size = SIZE, startPos = 0): UserRingBuffer {
  return UserRingBuffer.create({ size, id, startPos });
}

function put(r: UserRingBuffer, value: number, size = 8): number {
  const at = r.reserve(size);
  if (at < 0) throw new Error('ring full');
  r.view.setUint32(at, value, true);
  r.submit(at);
  return at;
}

function collect(r: UserRingBuffer, flags = 0): { n: number; values: number[] } {
  const values: number[] = [];
  const n = r.drain((_d, offset) => {
    values.push(r.view.getUint32(offset, true));
    return 0;
  }, flags);
  return { n, values };
}

/** Announces a producer asleep for space, as reserveBlocking does before it waits. */
function fakeSleeper(r: UserRingBuffer, delta: number): void {
  Atomics.add(new Int32Array(r.buffer), layout.USER_SPACE_SLEEPERS_INDEX, delta);
}

test(
  'drain delivers committed records in order, returns the count, and publishes ' + 'consumer_pos after every record',
  (t) => {
    const r = ring();
    for (let i = 0; i < 5; i++) put(r, 100 + i, 8 + 8 * i);
    const seen: number[] = [];
    let expectPos = 0;
    const n = r.drain((_d, offset, size) => {
      t.is(r.consumerPos(), expectPos, 'every earlier record was released before this callback');
      seen.push(r.view.getUint32(offset, true));
      expectPos += layout.recordFootprint(size);
      return 0;
    });
    t.is(n, 5);
    t.deepEqual(seen, [100, 101, 102, 103, 104]);
    t.is(r.consumerPos(), r.producerPos());
    t.is(
      r.drain(() => 0),
      0,
      'an empty ring drains nothing',
    );
  },
);

test(
  'drain skips DISCARD records, checking DISCARD before BUSY (a header with both ' +
    'bits is skipped), and stops at BUSY',
  (t) => {
    const r = ring();
    put(r, 1);
    const d = r.reserve(8);
    r.discard(d);
    const both = r.reserve(8);
    const i32 = new Int32Array(r.buffer);
    // A header with BUSY and DISCARD: the kernel tests DISCARD first, so it is skipped.
    i32[layout.headerIndex(both - 8)] = 8 | layout.BUSY_BIT_I32 | layout.BPF_RINGBUF_DISCARD_BIT;
    put(r, 2);
    const busy = r.reserve(8);
    put(r, 3);
    const first = collect(r);
    t.deepEqual(first.values, [1, 2]);
    t.is(first.n, 2, 'delivered records only');
    t.is(r.consumerPos() & r.mask, busy - 8, 'stopped at the BUSY record');
    r.submit(busy);
    t.deepEqual(collect(r).values, [0, 3]);
  },
);

test('a callback returning 1 stops the drain after its record', (t) => {
  const r = ring();
  for (let i = 0; i < 4; i++) put(r, i);
  let calls = 0;
  t.is(
    r.drain(() => {
      calls++;
      return calls === 2 ? 1 : 0;
    }),
    2,
  );
  t.is(r.consumerPos(), 2 * 16);
  t.deepEqual(collect(r).values, [2, 3]);
});

test(
  'a callback that returns anything but 0 or 1 has its record consumed, the drain ' +
    'ends with ERR_RINGBUF_ARGUMENT, the busy word freed',
  (t) => {
    for (const bad of [2, -1, undefined, '0', 0n, null, true]) {
      const r = ring();
      put(r, 1);
      put(r, 2);
      const err = t.throws(() => r.drain(() => bad as unknown as number), { instanceOf: RingBufRangeError });
      t.is(err?.code, 'ERR_RINGBUF_ARGUMENT');
      t.is(r.consumerPos(), 16, `${String(bad)}: the first record is consumed, the second is not`);
      t.is(r.drainer(), 0);
      t.deepEqual(collect(r).values, [2]);
    }
  },
);

test('a callback that throws has its record consumed; the error propagates and the busy word is freed', (t) => {
  const r = ring();
  put(r, 1);
  put(r, 2);
  const boom = new Error('boom');
  t.is(
    t.throws(() =>
      r.drain(() => {
        throw boom;
      }),
    ),
    boom,
  );
  t.is(r.consumerPos(), 16);
  t.is(r.drainer(), 0);
  t.deepEqual(collect(r).values, [2]);
});

test(
  'one drainer at a time: a drain from inside a drain throws ERR_RINGBUF_BUSY at ' + 'once and the outer drain goes on',
  (t) => {
    const r = ring(1);
    const other = UserRingBuffer.attach(r.buffer, { id: 2 });
    for (let i = 0; i < 3; i++) put(r, i);
    const codes: string[] = [];
    const n = r.drain(() => {
      t.is(r.drainer(), 1, 'the busy word names the drainer');
      try {
        other.drain(() => 0);
      } catch (err) {
        codes.push((err as RingBufError).code);
      }
      return 0;
    });
    t.is(n, 3);
    t.deepEqual(codes, ['ERR_RINGBUF_BUSY', 'ERR_RINGBUF_BUSY', 'ERR_RINGBUF_BUSY']);
    t.is(r.drainer(), 0);
  },
);

test('a drain visits at most BPF_MAX_USER_RINGBUF_SAMPLES (128 Ki) records, discarded ones included', (t) => {
  t.is(BPF_MAX_USER_RINGBUF_SAMPLES, 131072);
  const r = ring(1, 2 * 1024 * 1024);
  const total = BPF_MAX_USER_RINGBUF_SAMPLES + 10;
  for (let i = 0; i < total; i++) {
    const at = r.reserve(0);
    if (i % 2 === 1) r.discard(at);
    else r.submit(at);
  }
  t.is(
    r.drain(() => 0),
    BPF_MAX_USER_RINGBUF_SAMPLES / 2,
    'half of the 128 Ki visited were delivered',
  );
  t.is(r.consumerPos(), BPF_MAX_USER_RINGBUF_SAMPLES * 8);
  t.is(
    r.drain(() => 0),
    5,
  );
  t.is(r.consumerPos(), r.producerPos());
});

test(
  'corruption in the middle: the records before it stay consumed, the drain throws ' +
    'RingBufCorruptionError, the busy word is freed',
  (t) => {
    const r = ring();
    put(r, 1);
    put(r, 2);
    const at = r.reserve(8);
    r.submit(at);
    const i32 = new Int32Array(r.buffer);
    i32[layout.headerIndex(at - 8)] = 64; // longer than what was produced after it
    const seen: number[] = [];
    const err = t.throws(
      () =>
        r.drain((_d, o) => {
          seen.push(r.view.getUint32(o, true));
          return 0;
        }),
      { instanceOf: RingBufCorruptionError },
    );
    t.is(err?.position, 32);
    t.deepEqual(seen, [1, 2]);
    t.is(r.consumerPos(), 32);
    t.is(r.drainer(), 0);
  },
);

test(
  'producer_pos behind consumer_pos, or more than a ring ahead, is corruption ' +
    '(beyond the kernel, which reads either as no data or misframing)',
  (t) => {
    for (const prod of [-8, SIZE + 16]) {
      const r = ring();
      const i32 = new Int32Array(r.buffer);
      i32[layout.headerIndex(0)] = 0;
      Atomics.store(i32, layout.USER_PROD_POS_INDEX, prod);
      t.throws(() => r.drain(() => 0), { instanceOf: RingBufCorruptionError }, `producer_pos ${prod}`);
      t.is(r.consumerPos(), 0);
    }
  },
);

test('records wrap across the end of the data area contiguously (the mirror tail) and positions wrap at 2^32', (t) => {
  const r = ring(1, SIZE, 2 ** 32 - 3 * SIZE);
  const rnd = (i: number): number => (i * 37 + 11) % 200;
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 200; round++) {
    for (;;) {
      const size = 8 + rnd(next);
      const at = r.reserve(size);
      if (at < 0) break;
      t.true(at + size <= r.data.length);
      r.view.setUint32(at, next, true);
      for (let i = 4; i < size; i++) r.data[at + i] = (next + i) & 0xff;
      r.submit(at);
      next++;
    }
    r.drain((data, offset, size) => {
      const v = r.view.getUint32(offset, true);
      if (v !== expect) t.fail(`record ${v}, expected ${expect}`);
      for (let i = 4; i < size; i++) if (data[offset + i] !== ((v + i) & 0xff)) t.fail(`byte ${i} of record ${v}`);
      expect++;
      return round % 3 === 0 && expect % 5 === 0 ? 1 : 0;
    });
  }
  t.true(expect > 1000);
  t.true(r.producerPos() >= 0 && r.producerPos() < SIZE * 300, 'producer_pos wrapped past 2^32');
});

test(
  'the drainer -> producers wake rule: FORCE_WAKEUP always, else only when the ' +
    'drain consumed a record and NO_WAKEUP is unset; never without a sleeper',
  (t) => {
    const rows: Array<
      [name: string, records: 'none' | 'committed' | 'discarded', flags: number, sleeper: boolean, notifies: number]
    > = [
      ['records, flags 0, no sleeper', 'committed', 0, false, 0],
      ['FORCE, no sleeper', 'none', BPF_RB_FORCE_WAKEUP, false, 0],
      ['records, flags 0, a sleeper', 'committed', 0, true, 1],
      ['discarded records only, flags 0, a sleeper', 'discarded', 0, true, 1],
      ['no records, flags 0, a sleeper', 'none', 0, true, 0],
      ['no records, FORCE, a sleeper', 'none', BPF_RB_FORCE_WAKEUP, true, 1],
      ['records, NO_WAKEUP, a sleeper', 'committed', BPF_RB_NO_WAKEUP, true, 0],
      ['records, NO_WAKEUP | FORCE, a sleeper', 'committed', BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP, true, 1],
    ];
    for (const [name, records, flags, sleeper, notifies] of rows) {
      const r = ring();
      if (records !== 'none') {
        const at = r.reserve(8);
        if (records === 'committed') r.submit(at);
        else r.discard(at);
      }
      if (sleeper) fakeSleeper(r, 1);
      r.drain(() => 0, flags);
      t.is(r.notifies().space, notifies, name);
    }
  },
);

test(
  'the producers -> drainer wake rule: a submit or discard wakes a sleeping ' +
    'drainer only for the record at consumer_pos',
  (t) => {
    const r = ring();
    const a = r.reserve(8);
    const b = r.reserve(8);
    const c = r.reserve(8);
    r.submit(b);
    t.is(r.notifies().data, 0, 'the drainer does not sleep: no notify');
    announceSleep(r.i32);
    r.submit(c);
    t.is(r.notifies().data, 0, 'not the record at consumer_pos: no notify');
    r.discard(a);
    t.is(r.notifies().data, 1, 'the record at consumer_pos: one notify');
    t.is(collect(r).n, 2);
    announceSleep(r.i32);
    put(r, 9);
    t.is(r.notifies().data, 2, 'an empty ring: the next record is at consumer_pos');
    cancelSleep(r.i32);
  },
);

test(
  'waitForData returns at once when a record is ready, and after its timeout ' +
    '(false) when the record at consumer_pos is BUSY',
  (t) => {
    const r = ring();
    t.false(r.waitForData(0));
    const a = r.reserve(8);
    t.false(r.waitForData(5), 'a BUSY record is not data');
    r.submit(a);
    t.true(r.waitForData(-1));
  },
);

test('reserveBlocking(size, 0) makes one try and never announces a sleeper; on free space it returns at once', (t) => {
  const r = ring();
  t.true(r.reserveBlocking(SIZE - 8, 0) >= 0);
  t.is(r.reserveBlocking(0, 0), -1);
  t.is(r.sleepingProducers(), 0);
  const s = ring();
  t.true(s.reserveBlocking(8, -1) >= 0);
});

test(
  "recoverProducer discards a dead producer's BUSY records (the drain then goes " +
    'on) and frees the lock it died holding',
  (t) => {
    const r = ring(1);
    const dead = UserRingBuffer.attach(r.buffer, { id: 5 });
    put(r, 1);
    dead.reserve(8); // dies between reserve and submit
    put(r, 2);
    dead.reserve(16);
    t.deepEqual(collect(r).values, [1], "the drain stops at the dead producer's BUSY record");
    t.true(dead.tryHoldLockForFaultInjection());
    t.is(r.lockHolder(), 5);
    const result = r.recoverProducer(5);
    t.deepEqual(result, { lockRecovered: true, recordsDiscarded: 2 });
    t.is(r.lockHolder(), 0);
    t.deepEqual(collect(r).values, [2]);
    t.is(r.consumerPos(), r.producerPos());
    t.deepEqual(r.recoveryCounts(), { records: 2, drains: 0 });
  },
);

test('recoverDrainer frees the busy word only for the id that holds it, and wakes producers asleep for space', (t) => {
  const r = ring(1);
  put(r, 1);
  Atomics.store(r.i32, layout.USER_DRAIN_BUSY_INDEX, 9); // drainer 9 died mid-drain
  t.throws(() => r.drain(() => 0), { instanceOf: RingBufError, message: /another drain/ });
  t.false(r.recoverDrainer(8));
  fakeSleeper(r, 1);
  t.true(r.recoverDrainer(9));
  t.is(r.notifies().space, 1, 'producers asleep for space are woken');
  t.is(
    r.drain(() => 0),
    1,
  );
  t.deepEqual(r.recoveryCounts(), { records: 0, drains: 1 });
});

test(
  'claimExclusive: the holder reserves without the lock, every other handle fails ' +
    'at once, releaseExclusive gives it back',
  (t) => {
    const r = ring(1);
    const other = UserRingBuffer.attach(r.buffer, { id: 2, lockTimeoutMs: 10_000 });
    t.true(r.claimExclusive());
    t.true(r.isExclusive);
    t.is(r.lockHolder(), 1);
    const a = r.reserve(8);
    r.view.setUint32(a, 41, true);
    r.submit(a);
    t.is(other.reserve(8), -1, 'another handle fails at once');
    t.is(other.reserveBlocking(8, 0), -1);
    t.is(other.lockStats.waits, 0, 'without waiting for a release that would never come');
    t.is(other.lockStats.timeouts, 0);
    t.deepEqual(collect(r).values, [41]);
    t.is(r.lockHolder(), 1, 'the holder keeps the lock across its reservations');
    r.releaseExclusive();
    t.false(r.isExclusive);
    t.is(r.lockHolder(), 0);
    put(other, 42);
    t.deepEqual(collect(r).values, [42]);
  },
);

test('a dead exclusive holder is recovered as any: its lock freed, its BUSY record discarded', (t) => {
  const r = ring(1);
  const dead = UserRingBuffer.attach(r.buffer, { id: 5 });
  t.true(dead.claimExclusive());
  put(dead, 1);
  dead.reserve(8); // dies holding the ring and a reservation
  t.deepEqual(r.recoverProducer(5), { lockRecovered: true, recordsDiscarded: 1 });
  t.deepEqual(collect(r).values, [1]);
  put(r, 2);
  t.deepEqual(collect(r).values, [2]);
});

test(
  'the user ring layout: its own magic, the lock and wake lines at the kernel ' +
    "ring's offsets, every writer on its own line pair, data on the second page",
  (t) => {
    t.is(layout.USER_RING_MAGIC, 0x52554252);
    t.not(layout.USER_RING_MAGIC, layout.RING_MAGIC);
    const bytes = (index: number): number => index * 4;
    t.deepEqual(
      {
        magic: bytes(layout.USER_MAGIC_INDEX),
        cons: bytes(layout.USER_CONS_POS_INDEX),
        prod: bytes(layout.USER_PROD_POS_INDEX),
        lock: bytes(layout.USER_LOCK_INDEX),
        wake: bytes(layout.USER_WAKE_WORD_INDEX),
        sleepers: bytes(layout.USER_SPACE_SLEEPERS_INDEX),
        busy: bytes(layout.USER_DRAIN_BUSY_INDEX),
        recovered: bytes(layout.USER_RECOVERED_RECORDS_INDEX),
        data: layout.USER_DATA_OFFSET,
      },
      { magic: 0, cons: 128, prod: 256, lock: 384, wake: 512, sleepers: 640, busy: 768, recovered: 896, data: 4096 },
    );
    t.is(layout.USER_LOCK_INDEX, layout.LOCK_INDEX);
    t.is(layout.USER_WAKE_WORD_INDEX, layout.WAKE_WORD_INDEX);
    t.is(layout.USER_WAKE_NOTIFIES_INDEX, layout.WAKE_NOTIFIES_INDEX);
    t.is(layout.userRingBufferBytes(4096), 4096 + 2 * 4096);
    t.is(layout.userMaxPayloadOf(4096), 4088);
  },
);
