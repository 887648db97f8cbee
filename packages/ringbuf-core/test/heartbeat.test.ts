/**
 * The consumer heartbeat word (heartbeat.ts, layout.ts CONSUMER_HEARTBEAT_INDEX): what
 * stampConsumerHeartbeat stores and what consumerHeartbeatAgeMs answers, from any handle.
 */
import test from 'ava';
import {
  HEARTBEAT_IDLE_MS,
  HEARTBEAT_STALL_MS,
  HEARTBEAT_STAMP_MS,
  LINE_BYTES,
  RingBuffer,
  layout,
  monotonicMs,
} from '../src/index.js';

const SIZE = 4096;

test('a new ring reads -1 (never stamped) from every handle', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: 1 });
  t.is(ring.consumerHeartbeatAgeMs(), -1);
  t.is(RingBuffer.attach(ring.buffer, { producerId: 2 }).consumerHeartbeatAgeMs(), -1);
});

test('a stamp reads as its age from another handle; the age grows with the clock; clear goes back to -1', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: 1 });
  const other = RingBuffer.attach(ring.buffer, { producerId: 2 });
  ring.stampConsumerHeartbeat();
  const fresh = other.consumerHeartbeatAgeMs();
  t.true(fresh >= 0 && fresh < 1000, `age ${fresh}`);
  ring.stampConsumerHeartbeat(monotonicMs() - 5000);
  const old = other.consumerHeartbeatAgeMs();
  t.true(old >= 5000 && old < 6000, `age ${old}`);
  ring.clearConsumerHeartbeat();
  t.is(other.consumerHeartbeatAgeMs(), -1);
});

test(
  "a stamp ahead of the reader's clock reads as age 0; a stamp whose low 32 bits " +
    'are 0 is stored as 1, not as "never"',
  (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: 1 });
    ring.stampConsumerHeartbeat(monotonicMs() + 10_000);
    t.is(ring.consumerHeartbeatAgeMs(), 0);
    ring.stampConsumerHeartbeat(2 ** 32);
    t.is(Atomics.load(new Int32Array(ring.buffer), layout.CONSUMER_HEARTBEAT_INDEX), 1);
    t.not(ring.consumerHeartbeatAgeMs(), -1);
  },
);

test('ages are exact across the 2^32 ms wrap of the word (signed difference)', (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: 1 });
  const now = monotonicMs();
  // A stamp 3 s ago, whatever the word's wrap: the low 32 bits of now - 3000 differ from now's.
  ring.stampConsumerHeartbeat(now - 3000);
  const age = ring.consumerHeartbeatAgeMs();
  t.true(age >= 3000 && age < 4000, `age ${age}`);
  // The same distance computed from words on either side of 2^32.
  t.is(((5 | 0) - ((2 ** 32 - 2995) | 0)) | 0, 3000);
});

test('the heartbeat word has a line pair of its own in the control page, away from the producer words', (t) => {
  const at = layout.CONSUMER_HEARTBEAT_INDEX * 4;
  t.is(at % LINE_BYTES, 0);
  t.true(at + 4 <= layout.CONTROL_BYTES);
  for (const producerWord of [
    layout.PROD_POS_INDEX,
    layout.PENDING_POS_INDEX,
    layout.OVERWRITE_GEN_INDEX,
    layout.LOCK_INDEX,
    layout.CONS_POS_INDEX,
    layout.WAKE_WORD_INDEX,
  ]) {
    t.not(Math.floor((producerWord * 4) / LINE_BYTES), at / LINE_BYTES);
  }
});

test(
  'the intervals: stamps every few ms while running, re-stamps while asleep well ' + 'within the stall threshold',
  (t) => {
    t.true(HEARTBEAT_STAMP_MS >= 1 && HEARTBEAT_STAMP_MS <= 10);
    t.true(HEARTBEAT_STALL_MS >= 4 * HEARTBEAT_IDLE_MS);
  },
);
