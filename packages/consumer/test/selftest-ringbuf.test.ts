/**
 * Ports of tools/testing/selftests/bpf/prog_tests/ringbuf.c subtests `ringbuf`, `ringbuf_n` and
 * `ringbuf_map_key`, with the kernel's expected values (page_size = 4096). The BPF programs are
 * functions (fixtures/selftest-sample.ts); the background polling thread is a worker.
 */
import test from 'ava';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, RingBuffer, layout, wakeNotifies } from '@ringbuf/core';
import { Consumer } from '../src/index.js';
import {
  CTL_BAD_VALUES,
  CTL_COUNT,
  CTL_RESULT,
  CTL_RETURNED,
  CTL_WORDS,
  EDONE,
  REC_SZ,
  SAMPLE_SIZE,
  SAMPLE_VALUE,
  TestRingbufProg,
  sampleSeq,
  sampleValue,
  writeSample,
} from './fixtures/selftest-sample.js';

const PAGE_SIZE = 4096;

/** prog_tests/ringbuf.c's process_sample(): counts samples, checks seq 0 and 1. */
function makeProcessSample(): {
  cb: (data: Uint8Array, off: number) => number;
  count: () => number;
  reset: () => void;
  bad: string[];
} {
  let count = 0;
  const bad: string[] = [];
  return {
    bad,
    count: () => count,
    reset: () => {
      count = 0;
    },
    cb: (data, off) => {
      count++;
      const seq = sampleSeq(data, off);
      const value = sampleValue(data, off);
      switch (seq) {
        case 0:
          if (value !== 333) bad.push(`seq 0 value ${value}`);
          return 0;
        case 1:
          if (value !== 777) bad.push(`seq 1 value ${value}`);
          return -EDONE;
        default:
          return 0;
      }
    },
  };
}

/** Steps 2–5 of the `ringbuf` subtest; returns what the test asserts. */
function stepsTwoToFive(ring: RingBuffer, prog: TestRingbufProg) {
  const ps = makeProcessSample();
  const consumer = new Consumer(ring, ps.cb);
  prog.triggerSamples();
  const afterFirst = { avail: prog.availData, ringSize: prog.ringSize, cons: prog.consPos, prod: prog.prodPos };
  const poll1 = consumer.poll(-1);
  const count1 = ps.count();
  ps.reset();
  const poll2 = consumer.poll(0);
  const count2 = ps.count();
  const bpf1 = { dropped: prog.dropped, total: prog.total, discarded: prog.discarded };
  prog.triggerSamples();
  const consAfterSecond = prog.consPos;
  ps.reset();
  const poll3 = consumer.poll(-1);
  const count3 = ps.count();
  consumer.close();
  return { consumer, afterFirst, poll1, count1, poll2, count2, bpf1, consAfterSecond, poll3, count3, bad: ps.bad };
}

test(
  'ringbuf: a trigger pair writes 3 records (avail 120, prod 120), poll(-1) returns -EDONE after 2 samples, ' +
    'poll(0) returns 0, the next pair polls > 0',
  (t) => {
    const ring = RingBuffer.create({ size: PAGE_SIZE });
    const prog = new TestRingbufProg(ring);
    const r = stepsTwoToFive(ring, prog);
    t.is(REC_SZ, 40);
    // "2 submitted + 1 discarded records"
    t.deepEqual(r.afterFirst, { avail: 3 * REC_SZ, ringSize: PAGE_SIZE, cons: 0, prod: 3 * REC_SZ });
    t.is(r.poll1, -EDONE);
    t.is(r.count1, 2, 'the discarded record is skipped');
    t.is(r.poll2, 0);
    t.is(r.count2, 0);
    t.deepEqual(r.bpf1, { dropped: 0, total: 2, discarded: 1 });
    t.is(r.consAfterSecond, 3 * REC_SZ);
    t.true(r.poll3 > 0);
    t.is(r.count3, 2);
    t.deepEqual(r.bad, []);
  },
);

/** Resolves when `pred()` holds; rejects after `limitMs` (a bound, not a correctness condition). */
async function until(pred: () => boolean, limitMs: number, what: string): Promise<void> {
  const end = Date.now() + limitMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await delay(1);
  }
}

test(
  'ringbuf: NO_WAKEUP and a consumer that is behind keep the polling worker asleep; FORCE_WAKEUP wakes it; 6 ' +
    'samples in all',
  async (t) => {
    const ring = RingBuffer.create({ size: PAGE_SIZE });
    const prog = new TestRingbufProg(ring);
    stepsTwoToFive(ring, prog);
    const i32 = new Int32Array(ring.buffer);
    const control = new SharedArrayBuffer(CTL_WORDS * 4);
    const ctl = new Int32Array(control);

    // Step 6: the background thread polls with a 10 s timeout.
    const worker = new Worker(new URL('./fixtures/selftest-ringbuf-poller.js', import.meta.url), {
      workerData: { share: ring.share(), control },
    });
    t.teardown(() => worker.terminate());
    const done = once(worker, 'message');
    worker.on('error', (e) => t.fail(`poller worker failed: ${String(e)}`));
    const asleep = (): boolean => Atomics.load(i32, layout.WAKE_WORD_INDEX) === layout.WAKE_SLEEPING;
    await until(asleep, 10_000, 'the worker announces it sleeps');
    const notifies0 = wakeNotifies(i32);

    prog.flags = BPF_RB_NO_WAKEUP;
    prog.triggerSamples();
    // Only a chance for a wrong wakeup to show; the checks below do not depend on it.
    await delay(20);
    t.true(asleep(), 'NO_WAKEUP: the wake word still says SLEEPING');
    t.is(wakeNotifies(i32), notifies0, 'NO_WAKEUP: no notification sent');
    t.is(Atomics.load(ctl, CTL_RETURNED), 0, 'NO_WAKEUP: poll has not returned');
    t.is(Atomics.load(ctl, CTL_COUNT), 0);
    t.deepEqual(
      { dropped: prog.dropped, total: prog.total, discarded: prog.discarded },
      { dropped: 0, total: 2, discarded: 1 },
    );

    // Step 7: no notification should be triggered, because the consumer is now behind.
    prog.flags = 0;
    prog.triggerSamples();
    await delay(20);
    t.true(asleep(), 'flags 0 while behind: the wake word still says SLEEPING');
    t.is(wakeNotifies(i32), notifies0, 'flags 0 while behind: no notification sent');
    t.is(Atomics.load(ctl, CTL_RETURNED), 0, 'flags 0 while behind: poll has not returned');
    t.is(Atomics.load(ctl, CTL_COUNT), 0);
    t.deepEqual(
      { dropped: prog.dropped, total: prog.total, discarded: prog.discarded },
      { dropped: 0, total: 2, discarded: 1 },
    );

    // Step 8: reset counters; 333 with flags 0, then 777 with FORCE_WAKEUP.
    prog.dropped = prog.total = prog.discarded = 0;
    prog.trigger(333);
    t.true(asleep(), 'a flags-0 commit that is not at consumer_pos does not wake');
    prog.flags = BPF_RB_FORCE_WAKEUP;
    prog.trigger(777);
    t.is(wakeNotifies(i32), notifies0 + 1, 'FORCE_WAKEUP sends exactly one notification');
    await done;
    t.is(Atomics.load(ctl, CTL_RETURNED), 1);
    t.true(Atomics.load(ctl, CTL_RESULT) > 0, 'the woken poll returns > 0');
    t.deepEqual(
      { dropped: prog.dropped, total: prog.total, discarded: prog.discarded },
      { dropped: 0, total: 2, discarded: 1 },
    );

    // Step 9: consume whatever the woken poll left behind.
    const ps = makeProcessSample();
    const consumer = new Consumer(ring, ps.cb);
    t.true(consumer.consume() >= 0);
    t.true(consumer.consumeRing(0) >= 0);
    consumer.close();
    t.is(Atomics.load(ctl, CTL_COUNT) + ps.count(), 6, '3 rounds, 2 samples each');
    t.is(Atomics.load(ctl, CTL_BAD_VALUES), 0);
    t.deepEqual(ps.bad, []);
  },
);

test('ringbuf_n: 32 samples of value 42 are consumed exactly 4 at a time by consumeN(4), eight times', (t) => {
  const ring = RingBuffer.create({ size: PAGE_SIZE });
  // progs/test_ringbuf_n.c: struct { int pid; long value; char comm[16]; }, 32 bytes.
  const N_SAMPLES = 32;
  for (let i = 0; i < N_SAMPLES; i++) {
    const off = ring.reserve(SAMPLE_SIZE);
    t.true(off >= 0);
    ring.view.setInt32(off, process.pid, true);
    ring.view.setBigInt64(off + SAMPLE_VALUE, 42n, true);
    ring.submit(off, 0);
  }
  const values: number[] = [];
  const consumer = new Consumer(ring, (data, off) => {
    values.push(sampleValue(data, off));
    return 0;
  });
  const results: number[] = [];
  for (let i = 0; i < N_SAMPLES / 4; i++) results.push(consumer.consumeN(4));
  t.deepEqual(results, [4, 4, 4, 4, 4, 4, 4, 4]);
  t.is(values.length, N_SAMPLES);
  t.true(values.every((v) => v === 42));
  t.is(consumer.consumeN(4), 0, 'nothing is left');
  consumer.close();
});

test('ringbuf_map_key: a sample used as a map key finds seq 1 and value 42, and poll(-1) returns -EDONE', (t) => {
  const ring = RingBuffer.create({ size: PAGE_SIZE });
  const hashMap = new Map<string, number>();
  let seq = 0;
  // progs/test_ringbuf_map_key.c: reserve, fill, seq = ++seq, value 42, use as a hash key, submit.
  const off = ring.reserve(SAMPLE_SIZE);
  writeSample(ring.view, ring.data, off, process.pid, ++seq, 42);
  hashMap.set(Buffer.from(ring.data.subarray(off, off + SAMPLE_SIZE)).toString('hex'), seq);
  ring.submit(off, 0);
  t.is(seq, 1);
  const seen: Array<[number, number, number | undefined]> = [];
  const consumer = new Consumer(ring, (data, o) => {
    const s = sampleSeq(data, o);
    if (s !== 1) return 0;
    seen.push([s, sampleValue(data, o), hashMap.get(Buffer.from(data.subarray(o, o + SAMPLE_SIZE)).toString('hex'))]);
    return -EDONE;
  });
  t.is(consumer.poll(-1), -EDONE);
  t.deepEqual(seen, [[1, 42, 1]]);
  consumer.close();
});
