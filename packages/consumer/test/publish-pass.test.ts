/**
 * ConsumerOptions.publish: 'record' (libbpf's ringbuf_process_ring: consumer_pos after every record)
 * against 'pass' (the kernel bench's ringbuf_custom_process_ring: once per pass). Both must deliver
 * the same records and leave the same consumer_pos after every call, whatever stops the pass: the
 * end of the data, a BUSY record, consumeN's count, a negative return, a throwing callback.
 */
import test from 'ava';
import { RingBuffer, recordFootprint } from '@ringbuf/core';
import { Consumer, type ConsumerOptions } from '../src/index.js';

function filled(records: number[]): RingBuffer {
  const ring = RingBuffer.create({ size: 4096, producerId: 2 });
  for (const size of records) ring.output(new Uint8Array(size).fill(size), 0);
  return ring;
}

const SIZES = [8, 16, 24, 40, 8, 16];
const total = SIZES.reduce((a, s) => a + recordFootprint(s), 0);

for (const publish of ['record', 'pass'] as const) {
  test(`publish '${publish}': every record delivered, consumer_pos at producer_pos afterwards`, (t) => {
    const ring = filled(SIZES);
    const seen: Array<[number, number]> = [];
    const c = new Consumer(
      ring,
      (_d, _o, size) => {
        seen.push([size, ring.consumerPos()]);
      },
      { publish },
    );
    t.is(c.consume(), SIZES.length);
    t.is(ring.consumerPos(), total);
    t.deepEqual(
      seen.map(([size]) => size),
      SIZES,
    );
    // What a callback sees of consumer_pos: advancing per record, or the pass's start.
    let at = 0;
    const expected = SIZES.map((size) => {
      const before = at;
      at += recordFootprint(size);
      return publish === 'record' ? before : 0;
    });
    t.deepEqual(
      seen.map(([, pos]) => pos),
      expected,
    );
  });

  test(`publish '${publish}': a BUSY record stops the pass with consumer_pos at it`, (t) => {
    const ring = filled([8, 16]);
    const busy = ring.reserve(24);
    ring.output(new Uint8Array(8), 0);
    const c = new Consumer(ring, () => {}, { publish });
    t.is(c.consume(), 2);
    t.is(ring.consumerPos(), recordFootprint(8) + recordFootprint(16));
    ring.submit(busy);
    t.is(c.consume(), 2);
    t.is(ring.consumerPos(), ring.producerPos());
  });

  test(`publish '${publish}': consumeN stops at n with consumer_pos after the n-th record`, (t) => {
    const ring = filled(SIZES);
    const c = new Consumer(ring, () => {}, { publish });
    t.is(c.consumeN(3), 3);
    t.is(ring.consumerPos(), recordFootprint(8) + recordFootprint(16) + recordFootprint(24));
  });

  test(`publish '${publish}': a negative return stops the pass, that record consumed (libbpf)`, (t) => {
    const ring = filled(SIZES);
    let calls = 0;
    const c = new Consumer(ring, () => (++calls === 2 ? -7 : 0), { publish });
    t.is(c.consume(), -7);
    t.is(ring.consumerPos(), recordFootprint(8) + recordFootprint(16));
  });

  test(
    `publish '${publish}': a throwing callback leaves the records before it consumed and its own to ` + `redeliver`,
    (t) => {
      const ring = filled(SIZES);
      let calls = 0;
      const got: number[] = [];
      const c = new Consumer(
        ring,
        (_d, _o, size) => {
          if (++calls === 3) throw new Error('handler failed');
          got.push(size);
        },
        { publish },
      );
      t.throws(() => c.consume(), { message: 'handler failed' });
      t.is(ring.consumerPos(), recordFootprint(8) + recordFootprint(16));
      t.is(c.consume(), SIZES.length - 2);
      t.deepEqual(got, SIZES);
    },
  );
}

test('publish must be record or pass; options must be an object', (t) => {
  for (const bad of [null, 'pass', 1n, { publish: 'sometimes' }, { publish: 1 }] as unknown[]) {
    const ring = RingBuffer.create({ size: 4096 });
    t.throws(() => new Consumer(ring, () => {}, bad as ConsumerOptions), { code: 'ERR_RINGBUF_ARGUMENT' });
    // Nothing was taken: a consumer can still be made for the ring.
    t.notThrows(() => new Consumer(ring, () => {}).close());
  }
});
