/**
 * Crash recovery as the consumer sees it: a producer that dies with reservations outstanding
 * blocks the consumer (head-of-line, as in the kernel), and `recoverProducer(deadId)` discards
 * exactly its BUSY records so the consumer moves on. One test uses a worker that really exits.
 */
import test from 'ava';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { BPF_RB_CONS_POS, BPF_RB_PROD_POS, RingBuffer, layout } from '@ringbuf/core';
import { Consumer } from '../src/index.js';

const SIZE = 4096;
const LIVE = 20;
const DEAD = 21;

function collector() {
  const got: Array<[number, number]> = [];
  const cb = (data: Uint8Array, off: number): void => {
    const v = new DataView(data.buffer, data.byteOffset);
    got.push([v.getUint32(off, true), v.getUint32(off + 4, true)]);
  };
  return { got, cb };
}

function put(ring: RingBuffer, id: number, seq: number): number {
  const off = ring.reserve(16);
  ring.view.setUint32(off, id, true);
  ring.view.setUint32(off + 4, seq, true);
  return off;
}

test("the consumer stops at a dead producer's BUSY record and moves on after recoverProducer discards it", (t) => {
  const ring = RingBuffer.create({ size: SIZE, producerId: LIVE, lockTimeoutMs: 20 });
  const dead = RingBuffer.attach(ring.buffer, { producerId: DEAD });
  const { got, cb } = collector();
  const consumer = new Consumer(ring, cb);

  ring.submit(put(ring, LIVE, 0));
  dead.submit(put(dead, DEAD, 0));
  put(dead, DEAD, 1); // dies with this one BUSY
  ring.submit(put(ring, LIVE, 1));
  const liveBusy = put(ring, LIVE, 2);
  ring.submit(put(ring, LIVE, 3));
  // ...and inside a later reserve, holding the lock.
  Atomics.store(new Int32Array(ring.buffer), layout.LOCK_INDEX, DEAD << 1);
  t.is(ring.reserve(16), -1, 'the lock is stuck');
  t.is(ring.lockStats.timeouts, 1);

  t.is(consumer.consume(), 2);
  t.deepEqual(got, [
    [LIVE, 0],
    [DEAD, 0],
  ]);
  t.is(consumer.ringCounters(0)?.busyStalls, 1, 'head-of-line: stopped at the dead record');

  t.deepEqual(ring.recoverProducer(DEAD), { lockRecovered: true, recordsDiscarded: 1 });
  t.is(consumer.consume(), 1, 'moves past the discarded record, then stops at the live BUSY one');
  t.deepEqual(got.slice(2), [[LIVE, 1]]);
  t.is(consumer.ringCounters(0)?.discarded, 1);

  ring.submit(liveBusy);
  ring.submit(put(ring, LIVE, 4));
  t.is(consumer.consume(), 3);
  t.deepEqual(got.slice(3), [
    [LIVE, 2],
    [LIVE, 3],
    [LIVE, 4],
  ]);
  consumer.close();
});

test(
  'a worker producer that really exits with BUSY records and the lock held is recovered by id, and nothing ' +
    'committed is lost',
  async (t) => {
    const ring = RingBuffer.create({ size: SIZE, producerId: LIVE, lockTimeoutMs: 20 });
    const { got, cb } = collector();
    const consumer = new Consumer(ring, cb);
    ring.submit(put(ring, LIVE, 0));

    const worker = new Worker(new URL('./fixtures/selftest-dying-producer.js', import.meta.url), {
      workerData: { share: ring.share(), producerId: DEAD, committed: 3, busy: 2, holdLock: true },
    });
    const exited = once(worker, 'exit');
    t.is(((await once(worker, 'message')) as [string])[0], 'dying');
    const [code] = (await exited) as [number];
    t.is(code, 1);

    t.is(ring.lockHolder(), DEAD, 'the dead worker still holds the lock');
    t.is(ring.reserve(16), -1);
    t.is(consumer.consume(), 4, 'everything committed before the first BUSY record');
    const result = ring.recoverProducer(DEAD);
    t.deepEqual(result, { lockRecovered: true, recordsDiscarded: 2 });
    t.deepEqual(ring.recoveryCounts(), { locks: 1, records: 2 });
    t.is(ring.lockHolder(), 0);

    ring.submit(put(ring, LIVE, 1));
    t.is(consumer.consume(), 1);
    t.deepEqual(got, [
      [LIVE, 0],
      [DEAD, 0],
      [DEAD, 1],
      [DEAD, 2],
      [LIVE, 1],
    ]);
    t.is(consumer.ringCounters(0)?.discarded, 2);
    t.is(ring.query(BPF_RB_CONS_POS), ring.query(BPF_RB_PROD_POS));
    consumer.close();
  },
);
