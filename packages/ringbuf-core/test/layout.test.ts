/**
 * The layout discipline: SharedLayout hands out cumulative offsets with every line() on a fresh pair
 * of 64-byte lines, and the ring's own layout built with it keeps the byte offsets of layout
 * version 1 (a ring's buffer is read by other threads: its offsets are a protocol, not a detail).
 */
import test from 'ava';
import { LINE_BYTES, SharedLayout, layout } from '../src/index.js';

test(
  'SharedLayout: words follow each other, line() starts a new 128-byte pair, ' +
    'float64s are 8-aligned, bytes() rounds up',
  (t) => {
    const b = new SharedLayout();
    t.is(b.int32(), 0);
    t.is(b.int32(), 1);
    t.is(b.line().int32(), LINE_BYTES / 4);
    t.is(b.line().line().int32(), (2 * LINE_BYTES) / 4, 'line() twice moves once');
    t.is(b.float64(), (2 * LINE_BYTES + 8) / 8, 'a float64 after one int32 skips to the next 8-byte boundary');
    t.is(b.float64s(3), (2 * LINE_BYTES + 16) / 8);
    t.is(b.here(), 2 * LINE_BYTES + 40);
    t.is(b.bytes(), 3 * LINE_BYTES);
    t.is(new SharedLayout(64).int32(), 16);
    t.is(new SharedLayout().at(4096).int32s(0), 1024);
  },
);

test('the ring layout keeps the byte offsets of layout version 1', (t) => {
  t.is(layout.LAYOUT_VERSION, 1);
  const bytes = (index: number): number => index * 4;
  t.deepEqual(
    {
      magic: bytes(layout.MAGIC_INDEX),
      version: bytes(layout.VERSION_INDEX),
      flags: bytes(layout.FLAGS_INDEX),
      size: bytes(layout.SIZE_INDEX),
      mirror: bytes(layout.MIRROR_INDEX),
      wakeId: bytes(layout.WAKE_ID_INDEX),
      consPos: bytes(layout.CONS_POS_INDEX),
      consumed: bytes(layout.CONSUMED_RECORDS_INDEX),
      prodPos: bytes(layout.PROD_POS_INDEX),
      pendPos: bytes(layout.PENDING_POS_INDEX),
      overwriteGen: bytes(layout.OVERWRITE_GEN_INDEX),
      overwriteSlots: bytes(layout.OVERWRITE_SLOTS_INDEX),
      lock: bytes(layout.LOCK_INDEX),
      wake: bytes(layout.WAKE_WORD_INDEX),
      notifies: bytes(layout.WAKE_NOTIFIES_INDEX),
      claim: bytes(layout.CLAIM_INDEX),
      recoveredLocks: bytes(layout.RECOVERED_LOCKS_INDEX),
      recoveredRecords: bytes(layout.RECOVERED_RECORDS_INDEX),
      heartbeat: bytes(layout.CONSUMER_HEARTBEAT_INDEX),
      data: layout.DATA_OFFSET,
      wakeGroupBytes: layout.WAKE_GROUP_BYTES,
    },
    {
      magic: 0,
      version: 4,
      flags: 8,
      size: 12,
      mirror: 16,
      wakeId: 20,
      consPos: 128,
      consumed: 132,
      prodPos: 256,
      pendPos: 260,
      overwriteGen: 264,
      overwriteSlots: 268,
      lock: 384,
      wake: 512,
      notifies: 516,
      claim: 640,
      recoveredLocks: 768,
      recoveredRecords: 772,
      // Added after every version-1 word, none moved: still version 1 (a version-1 ring made
      // before it reads 0 there, "never stamped").
      heartbeat: 896,
      data: 4096,
      wakeGroupBytes: 640,
    },
  );
  t.is(layout.DATA_INDEX * 4, layout.DATA_OFFSET);
});
