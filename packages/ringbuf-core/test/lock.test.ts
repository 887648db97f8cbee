/**
 * The reservation lock and crash recovery. A "dead owner" is played by writing its tag
 * (`id << 1`) into the lock word, exactly what a producer that died inside reserve leaves behind.
 * No test here depends on timing for correctness: timeouts are only required to end.
 */
import test from 'ava';
import { BPF_RB_PROD_POS, RingBuffer, layout } from '../src/index.js';

const SIZE = 4096;
const DEAD = 41;
const LIVE = 42;

function holdLockAs(ring: RingBuffer, id: number): void {
  // Plays a producer that took the lock and died before releasing it.
  Atomics.store(new Int32Array(ring.buffer), layout.LOCK_INDEX, id << 1);
}

test('lockHolder() shows the owner while the lock is held and 0 when it is free', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: LIVE });
  t.is(ring.lockHolder(), 0);
  holdLockAs(ring, DEAD);
  t.is(ring.lockHolder(), DEAD);
  Atomics.store(new Int32Array(ring.buffer), layout.LOCK_INDEX, 0);
  t.is(ring.lockHolder(), 0);
  t.true(ring.reserve(8) >= 0);
  t.is(ring.lockHolder(), 0, 'reserve releases the lock');
});

test('tryReserve returns -1 at once when the lock word is held, and changes nothing', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: LIVE });
  holdLockAs(ring, DEAD);
  const before = Buffer.from(new Uint8Array(ring.buffer).slice());
  t.is(ring.tryReserve(8), -1);
  t.true(before.equals(Buffer.from(new Uint8Array(ring.buffer).slice())));
  t.deepEqual(ring.lockStats, { contended: 0, waits: 0, timeouts: 0 });
  t.is(ring.lockHolder(), DEAD);
});

test('reserve gives up after lockTimeoutMs, returns -1 and counts a timeout', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: LIVE, lockTimeoutMs: 20 });
  holdLockAs(ring, DEAD);
  t.is(ring.reserve(8), -1);
  t.is(ring.lockStats.timeouts, 1);
  t.is(ring.lockStats.contended, 1);
  t.is(ring.query(BPF_RB_PROD_POS), 0);
  t.is(ring.lockHolder(), DEAD, 'the dead owner still holds it (a waiter may have set the waiters bit)');
  t.false(ring.output(new Uint8Array(8)), 'output fails the same way (-EAGAIN)');
  t.is(ring.lockStats.timeouts, 2);
});

test('reserve with lockTimeoutMs 0 fails at once on a held lock', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: LIVE, lockTimeoutMs: 0 });
  holdLockAs(ring, DEAD);
  t.is(ring.reserve(8), -1);
  t.is(ring.lockStats.timeouts, 1);
});

test("recoverProducer(deadId) frees the lock and discards only that id's BUSY records", (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: LIVE });
  const dead = RingBuffer.attach(ring.buffer, { producerId: DEAD });
  const other = RingBuffer.attach(ring.buffer, { producerId: DEAD + 100 });
  const i32 = new Int32Array(ring.buffer);
  const hdr = (off: number): number => i32[layout.headerIndex(off - 8)]! >>> 0;

  const deadCommitted = dead.reserve(16);
  dead.submit(deadCommitted);
  const deadBusy1 = dead.reserve(24);
  const liveBusy = ring.reserve(8);
  const otherBusy = other.reserve(32);
  const deadBusy2 = dead.reserve(40);
  const deadDiscarded = dead.reserve(8);
  dead.discard(deadDiscarded);
  holdLockAs(ring, DEAD);

  const result = ring.recoverProducer(DEAD);
  t.deepEqual(result, { lockRecovered: true, recordsDiscarded: 2 });
  t.is(ring.lockHolder(), 0);
  t.deepEqual(ring.recoveryCounts(), { locks: 1, records: 2 });
  // The dead producer's BUSY records are now discarded, with their lengths intact.
  t.is(hdr(deadBusy1), 24 | layout.BPF_RINGBUF_DISCARD_BIT);
  t.is(hdr(deadBusy2), 40 | layout.BPF_RINGBUF_DISCARD_BIT);
  // Everything else is as it was.
  t.is(hdr(deadCommitted), 16, 'a committed record of the dead producer stays committed');
  t.is(hdr(deadDiscarded), 8 | layout.BPF_RINGBUF_DISCARD_BIT);
  t.is(hdr(liveBusy), (8 | layout.BPF_RINGBUF_BUSY_BIT) >>> 0, "a live producer's reservation stays BUSY");
  t.is(hdr(otherBusy), (32 | layout.BPF_RINGBUF_BUSY_BIT) >>> 0);
  // The live producers can still commit theirs; the dead handle's late submit is refused.
  ring.submit(liveBusy);
  other.discard(otherBusy);
  t.is(t.throws(() => dead.submit(deadBusy1))?.message.includes('not reserved'), true);
  t.true(ring.reserve(8) >= 0, 'the lock works again');
});

test('recoverProducer of an id that holds nothing changes nothing but is allowed', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: LIVE });
  const off = ring.reserve(8);
  const before = Buffer.from(new Uint8Array(ring.buffer).slice());
  t.deepEqual(ring.recoverProducer(DEAD), { lockRecovered: false, recordsDiscarded: 0 });
  const after = Buffer.from(new Uint8Array(ring.buffer).slice());
  t.true(before.equals(after));
  ring.submit(off);
});

test('recoverProducer does not free a lock held by another id', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: LIVE, lockTimeoutMs: 10 });
  holdLockAs(ring, DEAD + 1);
  const result = ring.recoverProducer(DEAD);
  t.false(result.lockRecovered);
  t.is(result.recordsDiscarded, -1, 'it could not take the lock in time');
  t.is(ring.lockHolder(), DEAD + 1);
  t.is(ring.lockStats.timeouts, 1);
});
