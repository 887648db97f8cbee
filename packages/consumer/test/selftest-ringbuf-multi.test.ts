/**
 * Port of prog_tests/ringbuf_multi.c (prog test_ringbuf_multi.c), the parts that apply: two rings
 * polled by one consumer (they share a WakeGroup, our epoll), ring(i) lookup, a missing target
 * ring, one consumer per ring. Map-in-map and set_max_entries have no counterpart here.
 */
import test from 'ava';
import { RingBufError, RingBuffer, WakeGroup } from '@ringbuf/core';
import { Consumer } from '../src/index.js';
import { SAMPLE_SIZE, sampleSeq, sampleValue, writeSample } from './fixtures/selftest-sample.js';

const PAGE_SIZE = 4096;

/** progs/test_ringbuf_multi.c: look up ringbuf_arr[target_ring], reserve, seq = total++, submit. */
class TestRingbufMultiProg {
  total = 0;
  dropped = 0;
  skipped = 0;
  targetRing = 0;
  value = 0;
  constructor(private readonly ringbufArr: Array<RingBuffer | undefined>) {}

  trigger(): void {
    const rb = this.ringbufArr[this.targetRing];
    if (rb === undefined) {
      this.skipped++;
      return;
    }
    const off = rb.reserve(SAMPLE_SIZE);
    if (off < 0) {
      this.dropped++;
      return;
    }
    writeSample(rb.view, rb.data, off, process.pid, this.total++, this.value);
    rb.submit(off, 0);
  }
}

test(
  'ringbuf_multi: two rings in one wake group deliver seq 0 (333) from ring 1 and seq 1 (777) from ring 2; ' +
    'poll(-1) == 2',
  (t) => {
    const group = WakeGroup.create();
    const ringbuf1 = RingBuffer.create({ size: PAGE_SIZE, wakeGroup: group });
    const ringbuf2 = RingBuffer.create({ size: PAGE_SIZE, wakeGroup: group });
    const problems: string[] = [];
    const processSample = (ring: number) => (data: Uint8Array, off: number) => {
      const seq = sampleSeq(data, off);
      const value = sampleValue(data, off);
      switch (seq) {
        case 0:
          if (ring !== 1) problems.push(`seq 0 on ring ${ring}`);
          if (value !== 333) problems.push(`seq 0 value ${value}`);
          return 0;
        case 1:
          if (ring !== 2) problems.push(`seq 1 on ring ${ring}`);
          if (value !== 777) problems.push(`seq 1 value ${value}`);
          return 0;
        default:
          problems.push(`unexpected sample seq ${seq}, val ${value}`);
          return -1;
      }
    };

    const rb = new Consumer(ringbuf1, processSample(1));
    const ring0 = rb.ring(0);
    t.is(ring0, ringbuf1);
    t.is(rb.ring(1), undefined, 'ring(1) is an error before the second add');
    rb.add(ringbuf2, processSample(2));
    t.is(rb.ring(0), ring0, 'ring pointers stay stable across add');
    t.is(rb.ring(1), ringbuf2);

    const prog = new TestRingbufMultiProg([ringbuf1, undefined, ringbuf2, undefined]);
    prog.targetRing = 0;
    prog.value = 333;
    prog.trigger();
    prog.targetRing = 1;
    prog.value = 555;
    prog.trigger();
    prog.targetRing = 2;
    prog.value = 777;
    prog.trigger();

    t.is(rb.poll(-1), 2);
    t.true(rb.poll(0) >= 0);
    t.deepEqual(
      { dropped: prog.dropped, skipped: prog.skipped, total: prog.total },
      { dropped: 0, skipped: 1, total: 2 },
    );
    t.deepEqual(problems, []);
    t.is(rb.ringCounters(0)?.records, 1);
    t.is(rb.ringCounters(1)?.records, 1);
    rb.close();
  },
);

test('ringbuf_multi: a second consumer of the same ring throws ERR_RINGBUF_CONSUMER_EXISTS', (t) => {
  const group = WakeGroup.create();
  const ringbuf1 = RingBuffer.create({ size: PAGE_SIZE, wakeGroup: group });
  const rb = new Consumer(ringbuf1, () => 0);
  const err = t.throws(() => new Consumer(ringbuf1, () => 0), { instanceOf: RingBufError });
  t.is(err?.code, 'ERR_RINGBUF_CONSUMER_EXISTS');
  // Another thread's handle on the same buffer is the same ring.
  const attached = RingBuffer.attach(ringbuf1.share());
  t.is(
    t.throws(() => new Consumer(attached, () => 0), { instanceOf: RingBufError })?.code,
    'ERR_RINGBUF_CONSUMER_EXISTS',
  );
  rb.close();
  const again = new Consumer(attached, () => 0);
  t.is(again.ring(0), attached, 'after close the ring can be consumed again');
  again.close();
});

test('ringbuf_multi: adding a ring of another wake word throws ERR_RINGBUF_WAKE_GROUP and does not claim it', (t) => {
  const ringbuf1 = RingBuffer.create({ size: PAGE_SIZE, wakeGroup: WakeGroup.create() });
  const lone = RingBuffer.create({ size: PAGE_SIZE });
  const otherGroup = RingBuffer.create({ size: PAGE_SIZE, wakeGroup: WakeGroup.create() });
  const rb = new Consumer(ringbuf1, () => 0);
  t.is(t.throws(() => rb.add(lone, () => 0), { instanceOf: RingBufError })?.code, 'ERR_RINGBUF_WAKE_GROUP');
  t.is(t.throws(() => rb.add(otherGroup, () => 0), { instanceOf: RingBufError })?.code, 'ERR_RINGBUF_WAKE_GROUP');
  t.is(rb.ring(1), undefined);
  // The refused rings were not claimed: a consumer of their own can take them.
  const c2 = new Consumer(lone, () => 0);
  c2.close();
  rb.close();
});
