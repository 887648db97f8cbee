/**
 * Ports of the kernel selftests that need only the producer side (tools/testing/selftests/bpf/
 * prog_tests/ringbuf.c and user_ringbuf.c, with their progs), with the kernel's expected values.
 * The BPF programs become plain functions doing exactly what the progs do. page_size = 4096.
 * Selftests that need a consumer live in packages/consumer/test/selftest-*.test.ts.
 */
import test from 'ava';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_OVERWRITE_POS,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  RingBufRangeError,
  RingBuffer,
  layout,
} from '../src/index.js';

const PAGE_SIZE = 4096;

// ---- ringbuf_write (progs/test_ringbuf_write.c): the pending_pos regression test (P-pend, 2024) ----

interface WriteProgState {
  passed: number;
  discarded: number;
}

/** progs/test_ringbuf_write.c: two 0x30000-byte reservations; the second must never succeed. */
function triggerWrite(ring: RingBuffer, st: WriteProgState): void {
  const s1 = ring.reserve(0x30000);
  if (s1 < 0) return;
  const s2 = ring.reserve(0x30000);
  if (s2 < 0) {
    ring.discard(s1, 0);
    st.discarded++;
    return;
  }
  st.passed++;
  // The prog writes into s2 (would scribble over s1's header without the fix), then discards both.
  ring.view.setInt32(s2 + 4084, 256, true);
  ring.discard(s2, 0);
  ring.discard(s1, 0);
}

test('ringbuf_write: a second 0x30000 reservation fails twice when consumer_pos was moved ahead to 0x30000', (t) => {
  const ring = RingBuffer.create({ size: 0x40000 });
  const i32 = new Int32Array(ring.buffer);
  // As the selftest mmaps the consumer page RW and writes `*cons = 0x30000` before attaching.
  i32[layout.CONS_POS_INDEX] = 0x30000;
  const st: WriteProgState = { passed: 0, discarded: 0 };
  triggerWrite(ring, st);
  triggerWrite(ring, st);
  t.is(st.discarded, 2);
  t.is(st.passed, 0);
});

test('ringbuf_write: the worked numbers of the spec hold step by step', (t) => {
  const ring = RingBuffer.create({ size: 0x40000 });
  const i32 = new Int32Array(ring.buffer);
  i32[layout.CONS_POS_INDEX] = 0x30000;
  const mask = ring.mask;
  t.is(mask, 0x3ffff);

  // s1: len 0x30008; new - cons = 8, new - pend = 0x30008: succeeds.
  const s1 = ring.reserve(0x30000);
  t.is(s1, layout.BPF_RINGBUF_HDR_SZ);
  t.is(ring.query(BPF_RB_PROD_POS), 0x30008);
  // s2: new = 0x60010, pend = 0 (s1 busy): 0x60010 > mask, fails...
  t.is(ring.reserve(0x30000), -1);
  t.is(i32[layout.PENDING_POS_INDEX], 0);
  // ...although the consumer-only check (the pre-2024 kernel) would have let it through.
  t.true(0x60010 - 0x30000 <= mask);
  t.is(ring.query(BPF_RB_PROD_POS), 0x30008, 'a failed reservation leaves producer_pos alone');
  ring.discard(s1, 0);

  // Second trigger: the pending loop skips the discarded s1 (pend = 0x30008); s1' succeeds.
  const s1b = ring.reserve(0x30000);
  t.is(s1b, 0x30008 + layout.BPF_RINGBUF_HDR_SZ);
  t.is(i32[layout.PENDING_POS_INDEX], 0x30008);
  t.is(ring.query(BPF_RB_PROD_POS), 0x60010);
  // s2': new = 0x90018 exceeds both cons (0x30000) and pend (0x30008) by more than mask.
  t.true(0x90018 - 0x30000 > mask && 0x90018 - 0x30008 > mask);
  t.is(ring.reserve(0x30000), -1);
  t.is(ring.query(BPF_RB_PROD_POS), 0x60010);
  ring.discard(s1b, 0);
});

// ---- ringbuf_overwrite_mode (progs/test_ringbuf_overwrite.c, BPF_F_RB_OVERWRITE) ----

test(
  'ringbuf_overwrite_mode: reserve fails only when the pending span would exceed ' +
    'the mask, and the query values match',
  (t) => {
    const size = PAGE_SIZE;
    const len1 = PAGE_SIZE / 2;
    const len2 = PAGE_SIZE / 4;
    const len3 = size - len1 - len2 - 3 * 8;
    const len4 = len3 - 8;
    const len5 = len3;
    t.deepEqual([len1, len2, len3, len4, len5], [2048, 1024, 1000, 992, 1000]);

    const ring = RingBuffer.create({ size, overwrite: true });
    const fails = [0, 0, 0, 0, 0];
    const rec1 = ring.reserve(len1);
    if (rec1 < 0) fails[0] = 1;
    const rec2 = ring.reserve(len2);
    if (rec2 < 0) fails[1] = 1;
    // The pending span would be exactly `size`, which is more than mask.
    const rec3 = ring.reserve(len3);
    if (rec3 < 0) fails[2] = 1;
    else ring.discard(rec3, 0);
    const rec4 = ring.reserve(len4);
    if (rec4 < 0) fails[3] = 1;
    ring.submit(rec1, 0);
    ring.submit(rec2, 0);
    ring.submit(rec4, 0);
    // rec5 overwrites rec1 (committed): allowed in overwrite mode.
    const rec5 = ring.reserve(len5);
    if (rec5 < 0) fails[4] = 1;
    else {
      ring.data.fill(0xdd, rec5, rec5 + len5);
      ring.submit(rec5, 0);
    }

    t.deepEqual(fails, [0, 0, 1, 0, 0]);
    t.is(ring.query(BPF_RB_RING_SIZE), size);
    t.is(ring.query(BPF_RB_AVAIL_DATA), len2 + len4 + len5 + 3 * 8);
    t.is(ring.query(BPF_RB_CONS_POS), 0);
    t.is(ring.query(BPF_RB_PROD_POS), len1 + len2 + len4 + len5 + 4 * 8);
    t.is(ring.query(BPF_RB_OVERWRITE_POS), len1 + 8);
    t.deepEqual(
      [ring.query(BPF_RB_AVAIL_DATA), ring.query(BPF_RB_PROD_POS), ring.query(BPF_RB_OVERWRITE_POS)],
      [3040, 5096, 2056],
    );
  },
);

test(
  "overwrite mode: the commit message's example (A, B, C reserved; D overwrites A " + "and B's front; E fails on C)",
  (t) => {
    const ring = RingBuffer.create({ size: PAGE_SIZE, overwrite: true });
    // Footprints 512, 1024, 2048: payloads are 8 bytes less.
    const a = ring.reserve(504);
    const b = ring.reserve(1016);
    const c = ring.reserve(2040);
    t.true(a >= 0 && b >= 0 && c >= 0);
    t.is(ring.query(BPF_RB_PROD_POS), 3584);
    ring.submit(a, 0);
    ring.submit(b, 0);
    const d = ring.reserve(1528);
    t.true(d >= 0);
    t.is(ring.query(BPF_RB_PROD_POS), 5120);
    t.is(ring.query(BPF_RB_OVERWRITE_POS), 1536);
    t.is(ring.reserve(1016), -1, 'E would overwrite the first 512 bytes of C, still being written');
    t.is(ring.query(BPF_RB_PROD_POS), 5120);
  },
);

// ---- oversize records (P-deny and the size - 16 rule) ----

test('reserve of a 4080-byte payload succeeds in an empty 4096-byte ring (footprint 4088 <= mask)', (t) => {
  const ring = RingBuffer.create({ size: PAGE_SIZE });
  t.is(ring.maxPayload, 4080);
  const off = ring.reserve(4080);
  t.is(off, 8);
  t.is(ring.query(BPF_RB_PROD_POS), 4088);
  ring.submit(off, 0);
});

for (const size of [4081, 4088, 4096, 0x3fffffff, 0x40000000]) {
  test(
    `reserve of a ${size}-byte payload throws ERR_RINGBUF_RECORD_SIZE in a 4096-byte ` +
      `ring (a record that can never fit)`,
    (t) => {
      const ring = RingBuffer.create({ size: PAGE_SIZE });
      const err = t.throws(() => ring.reserve(size), { instanceOf: RingBufRangeError });
      t.is(err?.code, 'ERR_RINGBUF_RECORD_SIZE');
      const err2 = t.throws(() => ring.tryReserve(size), { instanceOf: RingBufRangeError });
      t.is(err2?.code, 'ERR_RINGBUF_RECORD_SIZE');
      t.is(ring.query(BPF_RB_PROD_POS), 0);
    },
  );
}

test(
  'user_ringbuf sample_full_ring_buffer: reserve(size - 8) fills a user ringbuf ' + 'but can never fit a kernel ring',
  (t) => {
    const ring = RingBuffer.create({ size: PAGE_SIZE });
    // user_ring_buffer__reserve allows total == size; the kernel ring needs new - cons <= mask.
    const err = t.throws(() => ring.reserve(PAGE_SIZE - 8), { instanceOf: RingBufRangeError });
    t.is(err?.code, 'ERR_RINGBUF_RECORD_SIZE');
  },
);

test('a 4096-byte ring fills at exactly 102 40-byte records (floor(mask / 40)), and output fails on the 103rd', (t) => {
  const ring = RingBuffer.create({ size: PAGE_SIZE });
  const recSz = 40;
  const expected = Math.floor(ring.mask / recSz);
  t.is(expected, 102, 'the mask rule costs nothing here: 102 * 40 = 4080 <= 4095 and 103 * 40 > 4096');
  const sample = new Uint8Array(32);
  let written = 0;
  // user_ringbuf's overfill writes 102 * 5 samples and stops at the first failure.
  for (let i = 0; i < 102 * 5; i++) {
    if (!ring.output(sample, 0)) break;
    written++;
  }
  t.is(written, 102);
  t.is(ring.query(BPF_RB_PROD_POS), 102 * recSz);
  t.is(ring.query(BPF_RB_AVAIL_DATA), 4080);
});

test(
  'a 4096-byte ring holds 255 8-byte tokens (the user ringbuf holds 256): the mask ' + 'rule keeps one footprint free',
  (t) => {
    const ring = RingBuffer.create({ size: PAGE_SIZE });
    let n = 0;
    // discards_properly_ignored: reserve and discard until reserve fails; discarded space is not free.
    for (;;) {
      const off = ring.reserve(8);
      if (off < 0) break;
      ring.discard(off, 0);
      n++;
      if (n > 1000) break;
    }
    t.is(n, Math.floor(ring.mask / 16));
    t.is(n, 255);
  },
);

// ---- map creation size rules (ringbuf_map_alloc) ----

const badSizes: Array<[string, unknown]> = [
  ['0', 0],
  ['negative', -4096],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['1.5 pages', 6144],
  ['not a power of two (3 pages)', 3 * PAGE_SIZE],
  ['a power of two below one page (2048)', 2048],
  ['not a multiple of 4096 (page_size + 1)', PAGE_SIZE + 1],
  ['fractional', 4096.5],
  ['above 2^30', 2 ** 31],
  ['2^32', 2 ** 32],
  ['a string', '4096'],
  ['undefined', undefined],
];
for (const [name, size] of badSizes) {
  test(`create refuses a ring size that is ${name} with ERR_RINGBUF_SIZE`, (t) => {
    const err = t.throws(() => RingBuffer.create({ size: size as number }), { instanceOf: RingBufRangeError });
    t.is(err?.code, 'ERR_RINGBUF_SIZE');
  });
}

for (const size of [PAGE_SIZE, 2 * PAGE_SIZE, 0x40000, 2 ** 20]) {
  test(`create accepts ${size}, a power of two multiple of 4096, and reports it as ring_size`, (t) => {
    const ring = RingBuffer.create({ size });
    t.is(ring.size, size);
    t.is(ring.mask, size - 1);
    t.is(ring.query(BPF_RB_RING_SIZE), size);
    t.is(ring.query(BPF_RB_AVAIL_DATA), 0);
    t.is(ring.query(BPF_RB_CONS_POS), 0);
    t.is(ring.query(BPF_RB_PROD_POS), 0);
  });
}

test('query of an unknown field returns 0, as the kernel does', (t) => {
  const ring = RingBuffer.create({ size: PAGE_SIZE });
  ring.output(new Uint8Array(32), 0);
  t.is(ring.query(5), 0);
  t.is(ring.query(-1), 0);
  t.is(ring.query(BPF_RB_PROD_POS), 40);
});
