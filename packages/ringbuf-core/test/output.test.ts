/**
 * output(): the kernel's bpf_ringbuf_output (reserve, copy, commit). Payloads up to
 * OUTPUT_UNDER_LOCK_MAX bytes are copied under the reservation lock and published finished (no BUSY
 * phase, no commit RMW); longer ones go through reserve + copy + commit. Either way the ring must end
 * byte for byte as reserve + copy + submit of the same bytes leaves it, so the consumer, the query
 * values, overwrite mode and recovery cannot tell the paths apart.
 */
import test from 'ava';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_PROD_POS,
  OUTPUT_UNDER_LOCK_MAX,
  RingBuffer,
  layout,
  recordFootprint,
  wakeNotifies,
} from '../src/index.js';
import { bytes, bytesButLock, bytesButOverwriteSlots, consumeAll, prng, twins } from './ring-helpers.js';

const SIZE = 4096;
const ID = 3;

test('the threshold is a small record size (copying it under the lock is as short as the reservation)', (t) => {
  t.true(Number.isInteger(OUTPUT_UNDER_LOCK_MAX) && OUTPUT_UNDER_LOCK_MAX >= 16 && OUTPUT_UNDER_LOCK_MAX <= 512);
});

for (const overwrite of [false, true]) {
  test(
    `seeded: output leaves the ring byte-identical to reserve + copy + submit, both ` +
      `sides of the threshold (${overwrite ? 'overwrite mode' : 'normal mode'}, across 2^32)`,
    (t) => {
      const seed = (Date.now() ^ (overwrite ? 0x2545f491 : 0)) >>> 0;
      t.log(`seed ${seed}`);
      const rnd = prng(seed);
      const [a, b] = twins({ size: SIZE, producerId: ID, overwrite, startPos: 2 ** 32 - 3 * SIZE });
      let small = 0;
      let large = 0;
      for (let step = 0; step < 600; step++) {
        const size =
          rnd() < 0.7
            ? Math.floor(rnd() * (OUTPUT_UNDER_LOCK_MAX + 1))
            : OUTPUT_UNDER_LOCK_MAX + 1 + Math.floor(rnd() * 400);
        const payload = new Uint8Array(size);
        for (let k = 0; k < size; k++) payload[k] = (step * 31 + k * 7) & 0xff;
        const flags = rnd() < 0.3 ? BPF_RB_NO_WAKEUP : 0;
        const okA = a.output(payload, flags);
        const offB = b.reserve(size);
        t.is(okA, offB >= 0, `step ${step}: output and reserve agree on whether ${size} bytes fit`);
        if (offB >= 0) {
          b.data.set(payload, offB);
          b.submit(offB, flags);
          if (size <= OUTPUT_UNDER_LOCK_MAX) small++;
          else large++;
        }
        if (!overwrite && (offB < 0 || rnd() < 0.5 || a.query(BPF_RB_AVAIL_DATA) > SIZE / 2)) {
          consumeAll(a);
          consumeAll(b);
        }
        if (bytesButOverwriteSlots(a).compare(bytesButOverwriteSlots(b)) !== 0) {
          t.fail(`step ${step}: buffers differ after a ${size}-byte record`);
          return;
        }
        t.deepEqual(a.readOverwrite(), b.readOverwrite(), `step ${step}: [overwrite_pos, overwritten] differ`);
      }
      t.is(a.query(BPF_RB_PROD_POS), b.query(BPF_RB_PROD_POS));
      t.true(small > 100 && large > 50, `both paths taken (${small} small, ${large} large)`);
    },
  );
}

test(
  'seeded: a payload output again is copied as words, and the ring ends as reserve ' +
    '+ set + submit leave it (aligned, unaligned, odd lengths, views of the ring ' +
    'itself; one payload at a time, then mixed)',
  (t) => {
    const seed = (Date.now() ^ 0x5bd1e995) >>> 0;
    t.log(`seed ${seed}`);
    const rnd = prng(seed);
    const shared = new ArrayBuffer(256);
    const staging16 = new Uint8Array(16);
    const staging128 = new Uint8Array(128);
    const at4 = new Uint8Array(shared, 4, 20);
    const at1 = new Uint8Array(shared, 65, 16);
    const odd = new Uint8Array(shared, 128, 13);
    // Staging arrays reused across calls; `own` is 16 bytes of each twin's own data area, possibly
    // where the record goes: set() copies as memmove, and so must output (its twin outputs a fresh view
    // each time, which is never copied as words; reserve + set would differ where the source covers
    // the header that reserve writes first).
    const kinds: Array<{ label: string; of?: Uint8Array }> = [
      { label: '16 B, aligned', of: staging16 },
      { label: '128 B, aligned', of: staging128 },
      { label: '20 B at byteOffset 4', of: at4 },
      { label: '16 B at byteOffset 1 (unaligned)', of: at1 },
      { label: '13 B (not whole words)', of: odd },
      { label: "16 B of the ring's own data" },
    ];
    const run = (
      a: RingBuffer,
      b: RingBuffer,
      steps: number,
      pick: () => (typeof kinds)[number],
      used: Set<string>,
    ): boolean => {
      const ownA = a.data.subarray(24, 40);
      for (let step = 0; step < steps; step++) {
        const kind = pick();
        let okA: boolean;
        let okB: boolean;
        if (kind.of === undefined) {
          okA = a.output(ownA, 0);
          okB = b.output(b.data.subarray(24, 40), 0);
        } else {
          const p = kind.of;
          for (let k = 0; k < p.length; k++) p[k] = (step * 13 + k * 5) & 0xff;
          okA = a.output(p, 0);
          const offB = b.reserve(p.length);
          okB = offB >= 0;
          if (okB) {
            b.data.set(p, offB);
            b.submit(offB, 0);
          }
        }
        t.is(okA, okB, `step ${step} (${kind.label}): both agree on whether it fits`);
        if (okB) used.add(kind.label);
        if (!okB || rnd() < 0.3) {
          consumeAll(a);
          consumeAll(b);
        }
        if (bytes(a).compare(bytes(b)) !== 0) {
          t.fail(`step ${step}: buffers differ after a ${kind.label} payload`);
          return false;
        }
      }
      return true;
    };
    // One payload at a time, each on fresh handles: from its second use it is copied as words where
    // it can be.
    for (const kind of kinds) {
      const used = new Set<string>();
      if (!run(...twins({ size: SIZE, producerId: ID }), 150, () => kind, used)) return;
      t.true(used.has(kind.label), `${kind.label}: output`);
    }
    // Mixed on one pair: the payload object changes all the time (views are made at most every 1024
    // calls; the rest go through set).
    const used = new Set<string>();
    if (!run(...twins({ size: SIZE, producerId: ID }), 3000, () => kinds[Math.floor(rnd() * kinds.length)]!, used))
      return;
    t.is(used.size, kinds.length, 'every kind of payload was output');
  },
);

test(
  "a payload viewing the ring's own data is copied as memmove copies, even where " +
    'it overlaps the record it goes to',
  (t) => {
    const [a, b] = twins({ size: SIZE, producerId: ID });
    const pattern = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    a.data.set(pattern, 24);
    b.data.set(pattern, 24);
    const own = a.data.subarray(24, 40);
    // The first record lands at 0 (payload 8..24); the second, the same object output again, at 24:
    // its payload 32..48 overlaps its source 24..40 from above, where a forward word copy would
    // re-read bytes it has just written. The twin outputs fresh views, which are copied with set().
    for (let i = 0; i < 2; i++) {
      t.true(a.output(own, 0));
      t.true(b.output(b.data.subarray(24, 40), 0));
    }
    t.true(bytes(a).equals(bytes(b)));
  },
);

test('a payload output again is copied at its length of this call: shrunk, regrown, or detached', (t) => {
  const [a, b] = twins({ size: SIZE, producerId: ID });
  const resizable = new ArrayBuffer(16, { maxByteLength: 64 });
  const pa = new Uint8Array(resizable); // length-tracking: follows the buffer's length
  pa.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  const step = (): void => {
    t.true(a.output(pa, 0));
    const off = b.reserve(pa.length);
    b.data.set(pa, off);
    b.submit(off, 0);
    t.true(bytes(a).equals(bytes(b)), `ring equal after a ${pa.length}-byte payload`);
  };
  step();
  step(); // from here the word copy
  resizable.resize(8);
  step();
  resizable.resize(16);
  pa.fill(0x77, 8);
  step();
  step();
  resizable.resize(64);
  step();
  // Detached after the word copy was set up: refused, nothing reserved.
  structuredClone(resizable, { transfer: [resizable] });
  const before = bytes(a);
  t.throws(() => a.output(pa, 0), { code: 'ERR_RINGBUF_ARGUMENT' });
  t.true(before.equals(bytes(a)));
});

for (const [when, outputsBefore] of [
  ['on a fresh handle', 0],
  ['once the word copy is set up for it', 2],
] as const) {
  for (const length of [16, 400]) {
    test(
      `a fixed-length ${length}-byte view of a resizable ArrayBuffer shrunk under it ` +
        `is refused ${when}, before pending_pos or anything else moves`,
      (t) => {
        const ring = RingBuffer.create({ size: SIZE, producerId: ID });
        const resizable = new ArrayBuffer(length, { maxByteLength: 2 * length });
        const payload = new Uint8Array(resizable, 0, length); // fixed length: out of bounds once shrunk
        for (let k = 0; k < outputsBefore; k++) t.true(ring.output(payload, 0));
        // A committed record pending_pos has not passed yet: a reservation would advance it first.
        ring.submit(ring.reserve(8));
        resizable.resize(length / 2);
        t.is(payload.length, 0, 'an out-of-bounds view reads as empty');
        const before = bytes(ring);
        t.throws(() => ring.output(payload, 0), { code: 'ERR_RINGBUF_ARGUMENT' });
        t.true(before.equals(bytes(ring)), 'the ring is byte-identical');
        // Grown back, the same view is in bounds again and is copied whole.
        resizable.resize(length);
        payload.fill(0x5a);
        t.true(ring.output(payload, 0));
        consumeAll(ring);
      },
    );
  }
}

test('a small output is published finished: its header is never BUSY and names this producer', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID });
  t.true(ring.output(new Uint8Array([1, 2, 3, 4, 5]), 0));
  t.is(ring.headerAt(0), 5);
  t.is(ring.headerOwnerAt(0), ID);
  t.deepEqual([...ring.data.subarray(8, 13)], [1, 2, 3, 4, 5]);
  t.is(ring.query(BPF_RB_AVAIL_DATA), recordFootprint(5));
  // Nothing is left reserved: the handle holds no record to submit.
  t.throws(() => ring.submit(8), { code: 'ERR_RINGBUF_NOT_BUSY' });
});

test('a payload on a growable shared buffer is copied exactly its length when it was checked, both paths', (t) => {
  for (const size of [16, OUTPUT_UNDER_LOCK_MAX + 64]) {
    const ring = RingBuffer.create({ size: SIZE, producerId: ID });
    const shared = new SharedArrayBuffer(size, { maxByteLength: size * 4 });
    const payload = new Uint8Array(shared); // length-tracking: grows with the buffer
    payload.fill(0x5a);
    t.true(ring.output(payload, 0));
    t.is(ring.headerAt(0), size);
    t.true(ring.data.subarray(8, 8 + size).every((v) => v === 0x5a));
    t.true(
      ring.data.subarray(8 + size, 8 + recordFootprint(size) + 64).every((v) => v === 0),
      `size ${size}: nothing written past the record`,
    );
  }
});

test('a small output that cannot take the lock in time returns false and changes nothing', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID, lockTimeoutMs: 2 });
  const holder = RingBuffer.attach(ring.buffer, { producerId: ID + 1 });
  t.true(holder.tryHoldLockForFaultInjection());
  // The lock word may gain the waiters bit (the timed-out waiter announced itself); the rest stays.
  const before = bytesButLock(ring);
  t.false(ring.output(new Uint8Array(16), 0));
  t.true(before.equals(bytesButLock(ring)));
  t.is(ring.query(BPF_RB_PROD_POS), 0);
});

test('a small output that does not fit returns false and changes nothing', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID });
  t.not(ring.reserve(SIZE - 40), -1);
  const before = bytes(ring);
  t.false(ring.output(new Uint8Array(64), 0));
  t.true(before.equals(bytes(ring)));
});

test(
  'the wake rule holds for small outputs: caught-up sleeping consumer woken, ' +
    'NO_WAKEUP not, behind not, FORCE always',
  (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: ID });
    const i32 = new Int32Array(ring.buffer);
    const sleeping = (): void => {
      Atomics.store(i32, layout.WAKE_WORD_INDEX, layout.WAKE_SLEEPING);
    };
    sleeping();
    ring.output(new Uint8Array(16), 0);
    t.is(wakeNotifies(i32), 1, 'consumer_pos at the record: woken');
    consumeAll(ring);
    sleeping();
    ring.output(new Uint8Array(16), BPF_RB_NO_WAKEUP);
    t.is(wakeNotifies(i32), 1, 'NO_WAKEUP: not woken');
    sleeping();
    ring.output(new Uint8Array(16), 0);
    t.is(wakeNotifies(i32), 1, 'consumer behind this record: not woken (self-pacing)');
    sleeping();
    ring.output(new Uint8Array(16), BPF_RB_FORCE_WAKEUP);
    t.is(wakeNotifies(i32), 2, 'FORCE_WAKEUP: woken');
  },
);

test('a payload that lies about its length is copied and framed at its real length (set copies the real one)', (t) => {
  class Liar extends Uint8Array {
    override get length(): number {
      return 16;
    }
  }
  for (const real of [40, OUTPUT_UNDER_LOCK_MAX + 100]) {
    const ring = RingBuffer.create({ size: SIZE, producerId: ID });
    const liar = new Liar(real).fill(0x77);
    t.is(liar.length, 16);
    t.true(ring.output(liar, 0));
    t.is(ring.headerAt(0), real, `the header says ${real} bytes, not the 16 the array claims`);
    t.is(ring.query(BPF_RB_AVAIL_DATA), recordFootprint(real));
    t.true(
      ring.data.subarray(8 + real, 8 + real + 64).every((v) => v === 0),
      'nothing written past the record',
    );
    // An own `length` property lies the same way.
    const own = new Uint8Array(24).fill(0x33);
    Object.defineProperty(own, 'length', { get: () => 4 });
    t.true(ring.output(own, 0));
    t.is(ring.headerAt(recordFootprint(real)), 24);
  }
});

test('things that only look like a Uint8Array are refused before anything is reserved', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID });
  const before = bytes(ring);
  const fakes: unknown[] = [
    new Proxy(new Uint8Array(16), {}),
    Object.create(Uint8Array.prototype),
    Object.setPrototypeOf({ length: 16 }, Uint8Array.prototype),
  ];
  for (const fake of fakes) {
    t.throws(() => ring.output(fake as Uint8Array, 0), { code: 'ERR_RINGBUF_ARGUMENT' });
  }
  t.true(before.equals(bytes(ring)));
});
