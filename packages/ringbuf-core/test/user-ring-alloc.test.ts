/**
 * The user ring's hot paths allocate nothing: reserve + submit + drain of many records, and
 * waitForData's re-checks and sleep. Measured as the young generation's use before and after a loop
 * that runs right after a full collection, so that no scavenge can fall inside it and hide what it
 * allocated (a young generation holds far more than the bounds below). A bench drainer whose waitForData read
 * the clock in its re-check loop allocated 16-48 bytes a wait and ran scavenges in the measured
 * window; one test per path, single-threaded.
 */
import test from 'ava';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { UserRingBuffer, USER_RINGBUF_CONTINUE } from '../src/index.js';

setFlagsFromString('--expose-gc');
/** A full collection (ava's workers cannot take --expose-gc on the command line). */
const collect = runInNewContext('gc') as () => void;

/** Bytes in use in the young generation, where short-lived garbage is allocated. */
function youngUsed(): number {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_used_size;
  throw new Error('no new_space in getHeapSpaceStatistics()');
}

/**
 * Bytes `body` allocated in the young generation, from an empty one. Only the young generation is
 * counted: the JIT's code and metadata for a function it optimizes meanwhile go to the old spaces.
 */
function heapGrowth(body: () => void): number {
  collect();
  const before = youngUsed();
  body();
  return youngUsed() - before;
}

/** What heapGrowth counts for an empty body: the statistics' own objects (some 2 KB). */
function measureOverhead(): number {
  heapGrowth(() => {});
  return heapGrowth(() => {});
}

test.serial('reserve + submit + drain of 64,000 records allocates nothing measurable (under 1 KB in all)', (t) => {
  const r = UserRingBuffer.create({ size: 64 * 1024, id: 1 });
  const words = new Int32Array(r.buffer, r.data.byteOffset, r.data.byteLength >> 2);
  let seen = 0;
  let sum = 0;
  // Made once: the callback is the caller's, not the path under test.
  const onRecord = (data: Uint8Array, offset: number, size: number): number => {
    seen++;
    sum = (sum + words[offset >> 2]! + size + (data.length & 0)) | 0;
    return USER_RINGBUF_CONTINUE;
  };
  const round = (records: number): number => {
    for (let i = 0; i < records; i++) {
      const at = r.reserve(16);
      if (at < 0) throw new Error('the ring filled up');
      words[at >> 2] = i;
      r.submit(at);
    }
    return r.drain(onRecord, 0);
  };
  for (let k = 0; k < 50; k++) round(1000); // warm-up: the JIT's own garbage is not the path's
  const rounds = 64;
  let delivered = 0;
  const overhead = measureOverhead();
  const grown =
    heapGrowth(() => {
      for (let k = 0; k < rounds; k++) delivered += round(1000);
    }) - overhead;
  t.is(delivered, rounds * 1000, 'every record drained');
  t.is(seen, 114 * 1000);
  t.log(`heap growth over ${rounds * 1000} records: ${grown} bytes (less ${overhead} for the measurement)`);
  t.true(grown < 1024, `${grown} bytes for ${rounds * 1000} records`);
});

test.serial('waitForData on a BUSY head (its re-checks, then a 1 ms sleep) allocates nothing measurable', (t) => {
  const r = UserRingBuffer.create({ size: 4096, id: 1 });
  // A reserved, uncommitted record at consumer_pos: not data, so every call re-checks and sleeps.
  const held = r.reserve(8);
  t.true(held >= 0);
  for (let k = 0; k < 5; k++) t.false(r.waitForData(1)); // warm-up
  const calls = 40;
  let found = 0;
  const overhead = measureOverhead();
  const grown =
    heapGrowth(() => {
      for (let k = 0; k < calls; k++) if (r.waitForData(1)) found++;
    }) - overhead;
  t.is(found, 0, 'a BUSY record is not data');
  t.log(`heap growth over ${calls} waits: ${grown} bytes (less ${overhead} for the measurement)`);
  // Before the fix: 40-60 KB here (a clock read per re-check, boxed until the JIT inlines it all).
  t.true(grown < 1024, `${grown} bytes for ${calls} waits`);
  r.submit(held);
  t.true(r.waitForData(0), 'the committed record is data');
});
