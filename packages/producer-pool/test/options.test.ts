import test from 'ava';
import { RingBuffer } from '@ringbuf/core';
import { ProducerPool, type ProducerPoolOptions } from '../src/index.js';

// The refusals of bad options are rows of the bad-input table (bad-input.test.ts).

const ring = RingBuffer.create({ size: 4096 });
const base: ProducerPoolOptions = { ring: ring.share(), producers: 2, scenario: { records: 10 }, logLevel: 'silent' };

test('accepts a full scenario and reports its seed', (t) => {
  const pool = new ProducerPool({
    ...base,
    seed: 1234,
    scenario: {
      records: 5,
      payload: {
        weighted: [
          { size: 32, weight: 3 },
          { size: 100, weight: 1 },
        ],
      },
      wakeup: { sampled: 8 },
      batch: 4,
    },
  });
  t.is(pool.seed, 1234);
  t.deepEqual(pool.stats(), []);
});
