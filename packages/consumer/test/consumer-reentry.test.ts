/**
 * A callback that calls back into its own consumer (poll, pollAsync, consume, consumeN,
 * consumeRing, close) gets RingBufError ERR_RINGBUF_REENTRANT from the inner call, which changes
 * nothing; when the callback catches it, the outer walk carries on and every record is delivered
 * exactly once, in order, in both publish modes and in overwrite mode. (Before the check, the inner
 * walk started from the consumer_pos the outer one had not published yet and delivered the same
 * records a second time.)
 */
import test from 'ava';
import { RingBufError, RingBuffer } from '@ringbuf/core';
import { Consumer, type ConsumerOptions } from '../src/index.js';

const SIZE = 4096;
const RECORDS = 6;

type Inner = (c: Consumer) => unknown;

const inners: Array<[string, Inner]> = [
  ['consume()', (c) => c.consume()],
  ['consumeN(2)', (c) => c.consumeN(2)],
  ['consumeRing(0)', (c) => c.consumeRing(0)],
  ['poll(0)', (c) => c.poll(0)],
  ['poll(-1)', (c) => c.poll(-1)],
  ['pollAsync(0)', (c) => c.pollAsync(0)],
  ['close()', (c) => c.close()],
];

const outers: Array<[string, (c: Consumer) => number | Promise<number>]> = [
  ['consume()', (c) => c.consume()],
  ['poll(0)', (c) => c.poll(0)],
  ['pollAsync(-1)', (c) => c.pollAsync(-1)],
  ['consumeRing(0)', (c) => c.consumeRing(0)],
];

const modes: Array<[string, boolean, ConsumerOptions]> = [
  ["publish: 'record'", false, {}],
  ["publish: 'pass'", false, { publish: 'pass' }],
  ['overwrite mode', true, {}],
];

function filled(overwrite: boolean): RingBuffer {
  const ring = RingBuffer.create({ size: SIZE, overwrite, producerId: 4 });
  for (let i = 0; i < RECORDS; i++) if (!ring.output(new Uint8Array(16).fill(i + 1))) throw new Error('ring full');
  return ring;
}

/** The code of what `value` threw or rejected with (undefined when it did neither). */
async function codeOf(call: () => unknown): Promise<string | undefined> {
  try {
    await call();
    return undefined;
  } catch (err) {
    return err instanceof RingBufError ? err.code : `not a RingBufError: ${String(err)}`;
  }
}

for (const [modeLabel, overwrite, options] of modes) {
  for (const [outerLabel, outer] of outers) {
    for (const [innerLabel, inner] of inners) {
      test(
        `${modeLabel}: ${innerLabel} from a callback of ${outerLabel} is refused with ERR_RINGBUF_REENTRANT; ` +
          `every record is delivered once, in order`,
        async (t) => {
          const ring = filled(overwrite);
          const seen: number[] = [];
          const innerCalls: Array<Promise<string | undefined>> = [];
          // Only the outer walk's callbacks re-enter (were re-entry allowed, the nested walk's own
          // callbacks would otherwise recurse without end).
          let depth = 0;
          const consumer = new Consumer(
            ring,
            (data, offset) => {
              seen.push(data[offset]!);
              if (depth > 0) return;
              depth++;
              try {
                // The inner call, its error caught (pollAsync's rejection awaited below).
                innerCalls.push(codeOf(() => inner(consumer)));
              } finally {
                depth--;
              }
            },
            options,
          );
          t.teardown(() => consumer.close());
          const got = await outer(consumer);
          t.is(got, RECORDS);
          t.deepEqual(seen, [1, 2, 3, 4, 5, 6], 'each record once, in order');
          t.deepEqual(await Promise.all(innerCalls), Array(RECORDS).fill('ERR_RINGBUF_REENTRANT'));
          t.is(ring.consumerPos(), ring.producerPos(), 'the outer walk consumed everything');
          // The consumer is intact (close() was refused): new records come out once.
          t.true(ring.output(new Uint8Array(16).fill(7)));
          innerCalls.length = 0;
          t.is(consumer.consume(), 1);
          t.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7]);
        },
      );
    }
  }
}

test(
  'a re-entering call that the callback lets propagate ends the outer call with it; the record is delivered ' +
    'again by the next call, once',
  (t) => {
    const ring = filled(false);
    const seen: number[] = [];
    let reenter = true;
    const consumer = new Consumer(ring, (data, offset) => {
      if (reenter && data[offset] === 3) {
        reenter = false;
        consumer.consume();
      }
      seen.push(data[offset]!);
    });
    t.teardown(() => consumer.close());
    const err = t.throws(() => consumer.consume(), { instanceOf: RingBufError });
    t.is(err?.code, 'ERR_RINGBUF_REENTRANT');
    t.deepEqual(seen, [1, 2]);
    t.is(consumer.consume(), 4);
    t.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  },
);

test('a callback of one consumer may drive another consumer (of another ring)', (t) => {
  const a = filled(false);
  const b = filled(false);
  const fromB: number[] = [];
  const other = new Consumer(b, (data, offset) => {
    fromB.push(data[offset]!);
  });
  const consumer = new Consumer(a, () => {
    other.consumeN(1);
  });
  t.teardown(() => {
    consumer.close();
    other.close();
  });
  t.is(consumer.consume(), RECORDS);
  t.deepEqual(fromB, [1, 2, 3, 4, 5, 6]);
});
