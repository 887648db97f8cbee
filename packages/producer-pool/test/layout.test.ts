import test from 'ava';
import { LINE_BYTES } from '@ringbuf/core';
import * as L from '../src/stats-layout.js';

// The module header's diagrams, as byte offsets: a change to the layout must change them too.
test('the stats block matches its diagram: three line pairs, the record loop’s words together', (t) => {
  t.deepEqual(
    [L.PRODUCER_ID_INDEX, L.SLOT_INDEX, L.DIE_METHOD_INDEX, L.DIE_POINT_INDEX].map((i) => i * 4),
    [0, 4, 8, 12],
  );
  t.deepEqual(
    [L.STATE_INDEX, L.THREAD_ID_INDEX].map((i) => i * 4),
    [LINE_BYTES, LINE_BYTES + 4],
  );
  t.deepEqual(
    [L.LAST_SEQ_PLUS1_INDEX, L.STAGE_INDEX].map((i) => i * 4),
    [2 * LINE_BYTES, 2 * LINE_BYTES + 4],
  );
  const counters = [
    L.ATTEMPTED_F64,
    L.COMMITTED_F64,
    L.DISCARDED_F64,
    L.DROPPED_F64,
    L.ABANDONED_F64,
    L.LOCK_WAITS_F64,
    L.LOCK_TIMEOUTS_F64,
    L.LOCK_CONTENDED_F64,
    L.START_US_F64,
    L.END_US_F64,
    L.MAX_LAG_US_F64,
    L.TARGET_F64,
  ];
  t.deepEqual(
    counters.map((i) => i * 8),
    counters.map((_, k) => 2 * LINE_BYTES + 8 + 8 * k),
    'Float64 counters follow the two Int32 words of the record loop’s line pair',
  );
  t.true(
    counters.every((i) => (i + 1) * 8 <= 3 * LINE_BYTES),
    'every counter inside its line pair',
  );
  t.is(L.STATS_BYTES, 3 * LINE_BYTES);
});

test('the pool control block matches its diagram: one line pair per independently written word', (t) => {
  t.deepEqual(
    [L.STOP_INDEX, L.STOP_SLEEPERS_INDEX, L.TOKEN_INDEX, L.TOKEN_WAITERS_INDEX].map((i) => i * 4),
    [0, LINE_BYTES, 2 * LINE_BYTES, 3 * LINE_BYTES],
  );
  t.is(L.POOL_CONTROL_BYTES, 4 * LINE_BYTES);
});
