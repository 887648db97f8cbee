/**
 * The batched claim/publish API (beyond the kernel; the Disruptor's next(n) / publish(lo, hi)):
 * reserveBatch, batchOffset, submitBatch, discardBatch. The strongest check is the equivalence: a
 * batch leaves the shared memory byte for byte as the same records reserved and committed one at a
 * time would, so the consumer, the query values, overwrite mode and recovery see ordinary records.
 */
import test from 'ava';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_OVERWRITE_POS,
  BPF_RB_PROD_POS,
  RESERVE_FAILED,
  RingBuffer,
  layout,
  recordFootprint,
  wakeNotifies,
} from '../src/index.js';
import { bytes, bytesButOverwriteSlots, consumeAll, prng } from './ring-helpers.js';

const SIZE = 4096;
const ID = 3;

test('a batch of 64 16-byte records is accounted as the kernel accounts 64 records (AVAIL_DATA, PROD_POS)', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID });
  const first = ring.reserveBatch(16, 64);
  t.is(first, 8);
  t.is(ring.query(BPF_RB_PROD_POS), 64 * 24);
  t.is(ring.query(BPF_RB_AVAIL_DATA), 64 * 24, 'BUSY records count as available data, as in the kernel');
  for (let i = 0; i < 64; i++) {
    const off = ring.batchOffset(first, i);
    t.is(off, 8 + i * 24);
    t.is(ring.headerAt(off - 8) >>> 0, (16 | layout.BPF_RINGBUF_BUSY_BIT) >>> 0);
    t.is(ring.headerOwnerAt(off - 8), ID);
    ring.view.setUint32(off, i, true);
  }
  ring.submitBatch(first, 64);
  for (let i = 0; i < 64; i++) t.is(ring.headerAt(i * 24), 16, `record ${i} committed`);
  t.is(ring.query(BPF_RB_PROD_POS), 64 * 24);
  t.is(ring.query(BPF_RB_AVAIL_DATA), 64 * 24);
  consumeAll(ring);
  t.is(ring.query(BPF_RB_AVAIL_DATA), 0);
  t.throws(
    () => ring.batchOffset(first, 0),
    { code: 'ERR_RINGBUF_OFFSET' },
    "a committed batch is no longer this handle's",
  );
});

test(
  'batchOffset answers for the batch still held, and refuses once its records are ' +
    'committed one by one or the batch was another',
  (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: ID });
    const a = ring.reserveBatch(16, 4);
    const b = ring.reserveBatch(32, 3);
    // Both batches are held: the last one (batchOffset's fast case) and the one before it.
    t.deepEqual(
      [0, 1, 2].map((i) => ring.batchOffset(b, i)),
      [b, b + 40, b + 80],
    );
    t.deepEqual(
      [0, 1, 2, 3].map((i) => ring.batchOffset(a, i)),
      [a, a + 24, a + 48, a + 72],
    );
    t.throws(() => ring.batchOffset(b, 3), { code: 'ERR_RINGBUF_OFFSET' }, 'a record index past the batch');
    t.throws(
      () => ring.batchOffset(String(b) as never, 0),
      { code: 'ERR_RINGBUF_OFFSET' },
      'a numeric string is not an offset',
    );
    // b's records committed one by one: b is no longer held, and neither answer comes from memory.
    for (let i = 0; i < 3; i++) ring.submit(b + i * 40);
    t.throws(() => ring.batchOffset(b, 0), { code: 'ERR_RINGBUF_OFFSET' });
    t.is(ring.batchOffset(a, 3), a + 72);
    ring.submitBatch(a, 4);
    t.throws(() => ring.batchOffset(a, 0), { code: 'ERR_RINGBUF_OFFSET' });
    // Nothing held: an offset just below a header offset is no batch's either.
    t.throws(() => ring.batchOffset(7, 0), { code: 'ERR_RINGBUF_OFFSET' });
    t.throws(() => ring.batchOffset(a - 1, 0), { code: 'ERR_RINGBUF_OFFSET' });
    // A batch that does not fit leaves the answer for the one still held.
    const c = ring.reserveBatch(16, 2);
    t.is(ring.reserveBatch(16, 170), -1);
    t.is(ring.batchOffset(c, 1), c + 24);
  },
);

test('a batch that does not fit returns -1 and changes nothing', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID });
  ring.reserve(2000);
  const before = bytes(ring);
  t.is(ring.reserveBatch(100, 20), RESERVE_FAILED);
  t.true(before.equals(bytes(ring)));
});

test('batch offsets wrap their headers to the start while each payload stays contiguous in the mirror tail', (t) => {
  // Start 56 bytes before the end: record 0 at 4040, record 1 straddles the end, record 2 at 32.
  const ring = RingBuffer.create({ size: SIZE, producerId: ID, startPos: SIZE - 56 });
  const fp = recordFootprint(40); // 48
  const first = ring.reserveBatch(40, 4);
  const offsets = [0, 1, 2, 3].map((i) => ring.batchOffset(first, i));
  t.deepEqual(offsets, [
    4040 + 8,
    ((4040 + fp) & (SIZE - 1)) + 8,
    ((4040 + 2 * fp) & (SIZE - 1)) + 8,
    ((4040 + 3 * fp) & (SIZE - 1)) + 8,
  ]);
  t.true(offsets[1]! + 40 > SIZE, 'record 1 runs past the end of the data area');
  for (let i = 0; i < 4; i++) ring.data.fill(0xa0 + i, offsets[i], offsets[i]! + 40);
  ring.submitBatch(first, 4);
  // A reader walking positions finds each payload whole at its offset.
  let pos = SIZE - 56;
  for (let i = 0; i < 4; i++) {
    const off = pos & (SIZE - 1);
    t.is(ring.headerAt(off), 40);
    t.true(
      ring.data.subarray(off + 8, off + 48).every((b) => b === 0xa0 + i),
      `payload ${i} intact`,
    );
    pos += fp;
  }
});

for (const overwrite of [false, true]) {
  test(
    `seeded: batches leave the ring byte-identical to the same records one at a time ` +
      `(overwrite slots compared by value; ` +
      `${overwrite ? 'overwrite mode' : 'normal mode'}, across 2^32)`,
    (t) => {
      const seed = (Date.now() ^ (overwrite ? 0x5bd1e995 : 0)) >>> 0;
      t.log(`seed ${seed}`);
      const rnd = prng(seed);
      const startPos = 2 ** 32 - 3 * SIZE;
      const a = RingBuffer.create({ size: SIZE, producerId: ID, overwrite, startPos });
      const b = RingBuffer.create({ size: SIZE, producerId: ID, overwrite, startPos });
      // Give both rings the same wake id so that their control areas can be compared whole.
      new Int32Array(b.buffer)[layout.WAKE_ID_INDEX] = new Int32Array(a.buffer)[layout.WAKE_ID_INDEX]!;
      for (let step = 0; step < 400; step++) {
        const size = Math.floor(rnd() * 200);
        const count = 1 + Math.floor(rnd() * 12);
        const discard = rnd() < 0.2;
        const firstA = a.reserveBatch(size, count);
        if (firstA < 0) {
          // It does not fit now: neither would the singles (checked on b without changing it).
          t.false(overwrite, `step ${step}: an overwrite ring refused a batch`);
          t.true(
            a.query(BPF_RB_AVAIL_DATA) + count * recordFootprint(size) > SIZE - 1,
            `step ${step}: refused a batch that fits`,
          );
          consumeAll(a);
          consumeAll(b);
          continue;
        }
        const singles: number[] = [];
        for (let i = 0; i < count; i++) {
          const off = b.reserve(size);
          if (off < 0) break;
          singles.push(off);
        }
        t.is(singles.length, count, `step ${step}: the batch fitted but ${count} singles did not`);
        for (let i = 0; i < count; i++) {
          const offA = a.batchOffset(firstA, i);
          const offB = singles[i] ?? -1;
          t.is(offA, offB, `step ${step}: record ${i} at the same offset`);
          for (let k = 0; k < size; k++) {
            const v = (step * 31 + i * 7 + k) & 0xff;
            a.data[offA + k] = v;
            b.data[offB + k] = v;
          }
        }
        if (discard) a.discardBatch(firstA, count);
        else a.submitBatch(firstA, count);
        for (const off of singles) {
          if (discard) b.discard(off);
          else b.submit(off);
        }
        if (!overwrite && rnd() < 0.7) {
          consumeAll(a);
          consumeAll(b);
        }
        if (!overwrite && a.query(BPF_RB_AVAIL_DATA) > SIZE / 2) {
          consumeAll(a);
          consumeAll(b);
        }
        const diff = bytesButOverwriteSlots(a).compare(bytesButOverwriteSlots(b));
        if (diff !== 0) {
          t.fail(`step ${step}: buffers differ`);
          return;
        }
        t.deepEqual(a.readOverwrite(), b.readOverwrite(), `step ${step}: [overwrite_pos, overwritten] differ`);
      }
      t.is(a.query(BPF_RB_PROD_POS), b.query(BPF_RB_PROD_POS));
      if (overwrite) t.is(a.query(BPF_RB_OVERWRITE_POS), b.query(BPF_RB_OVERWRITE_POS));
    },
  );
}

test('records of a batch may be committed one by one, and the rest with submitBatch from any record', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID });
  const first = ring.reserveBatch(8, 6);
  ring.submit(ring.batchOffset(first, 0));
  ring.discard(ring.batchOffset(first, 1));
  ring.submitBatch(ring.batchOffset(first, 2), 3);
  t.is(
    ring.headerAt(ring.batchOffset(first, 5) - 8) >>> 0,
    (8 | layout.BPF_RINGBUF_BUSY_BIT) >>> 0,
    'record 5 still BUSY',
  );
  ring.submit(ring.batchOffset(first, 5));
  const hdrs = [0, 1, 2, 3, 4, 5].map((i) => ring.headerAt(8 + i * 16 - 8));
  t.deepEqual(hdrs, [8, 8 | layout.BPF_RINGBUF_DISCARD_BIT, 8, 8, 8, 8]);
  t.throws(() => ring.submit(first), { code: 'ERR_RINGBUF_NOT_BUSY' });
  // Once every record is committed, the next reservation reuses nothing of the old batch's table.
  t.true(ring.reserve(8) >= 0);
});

test('the wake rule applies once per batch, as for its first record', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: ID });
  const i32 = new Int32Array(ring.buffer);
  const sleeping = (): void => {
    Atomics.store(i32, layout.WAKE_WORD_INDEX, layout.WAKE_SLEEPING);
  };
  // Consumer caught up (consumer_pos at the batch's first record) and asleep: one notify.
  let first = ring.reserveBatch(16, 8);
  sleeping();
  ring.submitBatch(first, 8);
  t.is(wakeNotifies(i32), 1);
  // NO_WAKEUP: none.
  first = ring.reserveBatch(16, 8);
  consumeAll(ring);
  // consumer_pos is now past the batch's start: place it at the batch's first record.
  ring.publishConsumerPos(ring.producerPos() - 8 * 24);
  sleeping();
  ring.submitBatch(first, 8, BPF_RB_NO_WAKEUP);
  t.is(wakeNotifies(i32), 1);
  // Consumer behind the batch (it has not read the previous records): no wake, self-pacing.
  ring.publishConsumerPos(0);
  first = ring.reserveBatch(16, 4);
  ring.submitBatch(first, 4);
  t.is(wakeNotifies(i32), 1);
  // FORCE_WAKEUP wakes whatever the position.
  first = ring.reserveBatch(16, 4);
  ring.discardBatch(first, 4, BPF_RB_FORCE_WAKEUP);
  t.is(wakeNotifies(i32), 2);
});

test('recovery of a producer that died mid-batch discards the rest of the batch and keeps what it committed', (t) => {
  const live = RingBuffer.create({ size: SIZE, producerId: 1 });
  const dead = RingBuffer.attach(live.buffer, { producerId: 2 });
  const first = dead.reserveBatch(16, 8);
  dead.submit(dead.batchOffset(first, 0));
  dead.submit(dead.batchOffset(first, 1));
  const result = live.recoverProducer(2);
  t.deepEqual(result, { lockRecovered: false, recordsDiscarded: 6 });
  for (let i = 0; i < 8; i++) {
    t.is(live.headerAt(i * 24), i < 2 ? 16 : 16 | layout.BPF_RINGBUF_DISCARD_BIT, `record ${i}`);
  }
  t.true(live.reserve(8) >= 0);
});

test(
  'recovery of a producer that died inside submitBatch after its plain commits ' +
    'keeps them and discards the BUSY first records',
  (t) => {
    const live = RingBuffer.create({ size: SIZE, producerId: 1 });
    const dead = RingBuffer.attach(live.buffer, { producerId: 2 });
    dead.reserveBatch(16, 5);
    // Plays submitBatch interrupted after its plain commits of records 4, 3 and 2 (last to first).
    const i32 = new Int32Array(live.buffer);
    for (const i of [4, 3, 2]) i32[layout.headerIndex(i * 24)] = 16;
    t.deepEqual(live.recoverProducer(2), { lockRecovered: false, recordsDiscarded: 2 });
    t.deepEqual(
      [0, 1, 2, 3, 4].map((i) => live.headerAt(i * 24)),
      [16 | layout.BPF_RINGBUF_DISCARD_BIT, 16 | layout.BPF_RINGBUF_DISCARD_BIT, 16, 16, 16],
    );
  },
);
