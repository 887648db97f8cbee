/**
 * claimExclusive / releaseExclusive (beyond the kernel: Agrona's one-to-one ring beside its
 * many-to-one): one handle keeps the reservation lock, so its reservations skip the lock's two
 * atomic operations. What it writes must be byte for byte what a locking producer writes; every other
 * producer must fail at once (never wait out its lock timeout); recovery of a dead exclusive producer
 * must free the lock as for any dead holder.
 */
import test from 'ava';
import { BPF_RB_AVAIL_DATA, BPF_RB_PROD_POS, RESERVE_FAILED, RingBuffer, layout, monotonicMs } from '../src/index.js';
import { bytes, bytesButLock, prng, twins } from './ring-helpers.js';

const SIZE = 4096;
const ID = 7;

function lockWord(ring: RingBuffer): number {
  return Atomics.load(new Int32Array(ring.buffer), layout.LOCK_INDEX);
}

test('claimExclusive takes the lock for good, marked exclusive, with this handle as its owner', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID });
  t.false(ring.isExclusive);
  t.true(ring.claimExclusive());
  t.true(ring.claimExclusive(), 'a second claim by the holder is a no-op');
  t.true(ring.isExclusive);
  t.is(lockWord(ring), (ID << 1) | layout.LOCK_EXCLUSIVE_BIT);
  t.is(ring.lockHolder(), ID);
  const off = ring.reserve(16);
  t.not(off, RESERVE_FAILED);
  ring.submit(off);
  t.true(ring.output(new Uint8Array(16), 0));
  t.is(lockWord(ring), (ID << 1) | layout.LOCK_EXCLUSIVE_BIT, 'reservations leave the lock as it was');
  ring.releaseExclusive();
  t.false(ring.isExclusive);
  t.is(lockWord(ring), 0);
});

test('other producers fail at once while a handle holds the ring exclusively, and change nothing', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID });
  ring.output(new Uint8Array(24).fill(1), 0);
  t.true(ring.claimExclusive());
  const other = RingBuffer.attach(ring.buffer, { producerId: ID + 1, lockTimeoutMs: 250 });
  const before = bytes(ring);
  const started = monotonicMs();
  t.is(other.reserve(16), RESERVE_FAILED);
  t.is(other.tryReserve(16), RESERVE_FAILED);
  t.is(other.reserveBatch(16, 4), RESERVE_FAILED);
  t.false(other.output(new Uint8Array(16), 0));
  t.false(other.output(new Uint8Array(1000), 0));
  t.false(other.claimExclusive());
  t.true(monotonicMs() - started < 200, 'no call waited out the 250 ms lock timeout');
  t.true(before.equals(bytes(ring)), 'the failed calls left every byte as it was');
  ring.releaseExclusive();
  t.not(other.reserve(16), RESERVE_FAILED, 'released: the others reserve again');
});

test('seeded: an exclusive producer leaves the ring byte-identical to a locking one (lock word aside)', (t) => {
  const seed = Date.now() >>> 0;
  t.log(`seed ${seed}`);
  const rnd = prng(seed);
  const [a, b] = twins({ size: SIZE, producerId: ID, startPos: 2 ** 32 - 2 * SIZE });
  t.true(a.claimExclusive());
  for (let step = 0; step < 500; step++) {
    const size = Math.floor(rnd() * 300);
    const how = rnd();
    if (how < 0.4) {
      const payload = new Uint8Array(size).fill(step & 0xff);
      t.is(a.output(payload, 0), b.output(payload, 0), `step ${step}: output agrees`);
    } else if (how < 0.8) {
      const offA = a.reserve(size);
      const offB = b.reserve(size);
      t.is(offA, offB, `step ${step}: same offset`);
      if (offA >= 0) {
        a.data.fill(step & 0xff, offA, offA + size);
        b.data.fill(step & 0xff, offB, offB + size);
        if (rnd() < 0.2) {
          a.discard(offA);
          b.discard(offB);
        } else {
          a.submit(offA);
          b.submit(offB);
        }
      }
    } else {
      const count = 1 + Math.floor(rnd() * 6);
      const fa = a.reserveBatch(size, count);
      const fb = b.reserveBatch(size, count);
      t.is(fa, fb, `step ${step}: same batch offset`);
      if (fa >= 0) {
        a.submitBatch(fa, count);
        b.submitBatch(fb, count);
      }
    }
    if (rnd() < 0.5 || a.query(BPF_RB_AVAIL_DATA) > SIZE / 2) {
      a.publishConsumerPos(a.producerPos());
      b.publishConsumerPos(b.producerPos());
    }
    if (bytesButLock(a).compare(bytesButLock(b)) !== 0) {
      t.fail(`step ${step}: buffers differ`);
      return;
    }
  }
  t.is(a.query(BPF_RB_PROD_POS), b.query(BPF_RB_PROD_POS));
  t.true(a.isExclusive);
});

test('a dead exclusive producer is recovered as any dead lock holder: lock freed, its BUSY records discarded', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID });
  t.true(ring.claimExclusive());
  const committed = ring.reserve(16);
  ring.submit(committed);
  ring.reserve(32); // left BUSY: the producer "dies" here
  const survivor = RingBuffer.attach(ring.buffer, { producerId: ID + 1 });
  t.is(survivor.reserve(8), RESERVE_FAILED, 'before recovery the ring is still held');
  const result = survivor.recoverProducer(ID);
  t.deepEqual(result, { lockRecovered: true, recordsDiscarded: 1 });
  t.is(lockWord(ring), 0);
  t.is(ring.headerAt(0), 16, 'the committed record stays committed');
  t.is(ring.headerAt(24) >>> 0, (32 | layout.BPF_RINGBUF_DISCARD_BIT) >>> 0, 'the BUSY one is discarded');
  t.not(survivor.reserve(8), RESERVE_FAILED);
});

test('an exclusive handle recovers another dead producer without taking the lock it already holds', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID });
  const dead = RingBuffer.attach(ring.buffer, { producerId: ID + 2 });
  dead.reserve(16); // BUSY, never committed
  t.true(ring.claimExclusive());
  t.deepEqual(ring.recoverProducer(ID + 2), { lockRecovered: false, recordsDiscarded: 1 });
  t.is(lockWord(ring), (ID << 1) | layout.LOCK_EXCLUSIVE_BIT, 'still held exclusively');
  t.not(ring.reserve(16), RESERVE_FAILED);
});

test('claimExclusive fails (false) when another producer holds the lock past the timeout', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID, lockTimeoutMs: 5 });
  const holder = RingBuffer.attach(ring.buffer, { producerId: ID + 1 });
  t.true(holder.tryHoldLockForFaultInjection());
  t.false(ring.claimExclusive());
  t.false(ring.isExclusive);
  t.is(ring.lockHolder(), ID + 1);
});
