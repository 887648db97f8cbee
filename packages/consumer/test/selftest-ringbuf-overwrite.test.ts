/**
 * The consumer side of prog_tests/ringbuf.c's `ringbuf_overwrite_mode` (beyond libbpf, which cannot
 * consume overwrite rings yet), and user_ringbuf's `discards_properly_ignored` on a kernel ring.
 */
import test from 'ava';
import { BPF_RB_CONS_POS, BPF_RB_PROD_POS, RingBuffer } from '@ringbuf/core';
import { Consumer } from '../src/index.js';

const PAGE_SIZE = 4096;

test(
  'ringbuf_overwrite_mode: a consumer afterwards delivers rec2, rec4 and rec5 (all 0xdd) and counts rec1 as ' + 'lost',
  (t) => {
    const size = PAGE_SIZE;
    const len1 = size / 2;
    const len2 = size / 4;
    const len3 = size - len1 - len2 - 3 * 8;
    const len4 = len3 - 8;
    const len5 = len3;
    const ring = RingBuffer.create({ size, overwrite: true });
    const rec1 = ring.reserve(len1);
    const rec2 = ring.reserve(len2);
    t.is(ring.reserve(len3), -1);
    const rec4 = ring.reserve(len4);
    ring.data.fill(0x11, rec1, rec1 + len1);
    ring.data.fill(0x22, rec2, rec2 + len2);
    ring.data.fill(0x44, rec4, rec4 + len4);
    ring.submit(rec1, 0);
    ring.submit(rec2, 0);
    ring.submit(rec4, 0);
    const rec5 = ring.reserve(len5);
    t.true(rec5 >= 0);
    ring.data.fill(0xdd, rec5, rec5 + len5);
    ring.submit(rec5, 0);
    t.true(rec5 - 8 + 8 + len5 > size, 'rec5 runs past the end of the data area into the mirror tail');

    const got: Array<{ size: number; fill: number; uniform: boolean }> = [];
    const consumer = new Consumer(ring, (data, off, sz) => {
      const bytes = data.subarray(off, off + sz);
      got.push({ size: sz, fill: bytes[0]!, uniform: bytes.every((b) => b === bytes[0]) });
    });
    t.is(consumer.consume(), 3);
    t.deepEqual(got, [
      { size: len2, fill: 0x22, uniform: true },
      { size: len4, fill: 0x44, uniform: true },
      { size: len5, fill: 0xdd, uniform: true },
    ]);
    t.is(consumer.ringCounters(0)?.lost, 1, 'rec1 was overwritten before it could be read');
    t.is(consumer.ringCounters(0)?.records, 3);
    t.is(ring.query(BPF_RB_CONS_POS), ring.query(BPF_RB_PROD_POS));
    t.is(consumer.consume(), 0);
    consumer.close();
  },
);

test(
  'discards_properly_ignored: discarded tokens fill the ring, the consumer skips them all, and a reserve ' +
    'succeeds afterwards',
  (t) => {
    const ring = RingBuffer.create({ size: PAGE_SIZE });
    let tokens = 0;
    for (;;) {
      const off = ring.reserve(8);
      if (off < 0) break;
      ring.discard(off, 0);
      tokens++;
      if (tokens > PAGE_SIZE) break;
    }
    t.is(tokens, 255);
    let read = 0;
    const consumer = new Consumer(ring, () => {
      read++;
    });
    t.is(read, 0);
    t.is(consumer.consume(), 0);
    t.is(read, 0);
    t.is(consumer.ringCounters(0)?.discarded, 255);
    t.true(ring.reserve(8) >= 0, 'a new reserve succeeds once the consumer has moved past the discards');
    consumer.close();
  },
);

test(
  'overwrite mode: payload bytes that look like a discarded header, over a record overwritten while the walk ' +
    'runs, are skipped, not followed',
  (t) => {
    // X (0), A (24), C (48), D (256), F (1264) fill 4096 bytes exactly; the last reservation overwrote X.
    const size = PAGE_SIZE;
    const ring = RingBuffer.create({ size, overwrite: true, producerId: 1 });
    for (const len of [16, 16, 200, 1000, 2824]) {
      const off = ring.reserve(len);
      ring.data.fill(0, off, off + len);
      ring.submit(off, 0);
    }
    t.is(ring.query(BPF_RB_PROD_POS), size);
    t.is(ring.overwritePos(), 24);
    // While A is being delivered, another producer outputs E (64 B at position 4096: data offsets 0..72),
    // overwriting A and C; its payload puts, where C's header was, the word of a discarded 400-byte
    // record from producer 1. overwrite_pos moves to D (256) before E's bytes are written.
    const other = RingBuffer.attach(ring.buffer, { producerId: 2 });
    const e = new Uint8Array(64);
    const words = new DataView(e.buffer);
    words.setUint32(40, (0x40000000 | 400) >>> 0, true);
    words.setUint32(44, 1, true);
    const seen: number[] = [];
    const consumer = new Consumer(ring, (_data, _off, len) => {
      seen.push(len);
      if (seen.length === 1) t.true(other.output(e, 0));
    });
    // Following that word would land inside D's zeroed payload (456), past overwrite_pos, and report
    // corruption; the walk must see overwrite_pos passed C and resume there.
    consumer.consume();
    t.is(ring.overwritePos(), 256);
    t.deepEqual(seen, [16, 1000, 2824, 64], 'A, then D, F and E: C was overwritten');
    t.is(consumer.ringCounters(0)!.lost, 2, 'X and C lost (A was delivered before it was overwritten)');
  },
);
