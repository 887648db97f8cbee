import test from 'ava';
import { RingBuffer } from '@ringbuf/core';
import { PoolError, ProducerPool, type PoolErrorCode, type ProducerPoolOptions } from '../src/index.js';

const ring = RingBuffer.create({ size: 4096 });
const base: ProducerPoolOptions = { ring: ring.share(), producers: 2, scenario: { records: 10 }, logLevel: 'silent' };

const refusals: Array<[string, Partial<ProducerPoolOptions>, PoolErrorCode]> = [
  ['zero producers', { producers: 0 }, 'ERR_POOL_OPTIONS'],
  ['a ring that is not a ring', { ring: { buffer: new SharedArrayBuffer(8192) } }, 'ERR_POOL_OPTIONS'],
  ['no records and no duration', { scenario: {} }, 'ERR_POOL_SCENARIO'],
  ['a payload that can never fit', { scenario: { records: 1, payload: 4088 } }, 'ERR_POOL_SCENARIO'],
  ['an instrumented payload shorter than its header', { scenario: { records: 1, payload: 16 } }, 'ERR_POOL_SCENARIO'],
  ['a reversed size range', { scenario: { records: 1, payload: { min: 100, max: 50 } } }, 'ERR_POOL_SCENARIO'],
  ['a weighted list with a zero weight', { scenario: { records: 1, payload: { weighted: [{ size: 32, weight: 0 }] } } }, 'ERR_POOL_SCENARIO'],
  ['a discard ratio above 1', { scenario: { records: 1, discardRatio: 1.5 } }, 'ERR_POOL_SCENARIO'],
  ['discards with bpf_ringbuf_output', { scenario: { records: 1, api: 'output', discardRatio: 0.1 } }, 'ERR_POOL_SCENARIO'],
  ['an unknown wakeup policy', { scenario: { records: 1, wakeup: 'sometimes' as never } }, 'ERR_POOL_SCENARIO'],
  ['sampled wakeups of zero records', { scenario: { records: 1, wakeup: { sampled: 0 } } }, 'ERR_POOL_SCENARIO'],
  ['a zero batch', { scenario: { records: 1, batch: 0 } }, 'ERR_POOL_SCENARIO'],
  ['a negative rate', { scenario: { records: 1, ratePerProducer: -5 } }, 'ERR_POOL_SCENARIO'],
  ['an open-loop causal scenario', { scenario: { records: 1, causal: true, ratePerProducer: 10 } }, 'ERR_POOL_SCENARIO'],
  ['fault injection in a causal scenario', { scenario: { records: 1, causal: true }, killEveryMs: 10 }, 'ERR_POOL_OPTIONS'],
  ['a zero kill interval', { killEveryMs: 0 }, 'ERR_POOL_OPTIONS'],
  ['an unknown death method', { faults: { everyMs: 5, methods: ['explode' as never] } }, 'ERR_POOL_OPTIONS'],
  ['anywhere-deaths without terminate', { faults: { everyMs: 5, methods: ['throw'], points: ['anywhere'] } }, 'ERR_POOL_OPTIONS'],
  ['an unknown log level', { logLevel: 'loud' }, 'ERR_POOL_OPTIONS'],
];

for (const [name, patch, code] of refusals) {
  test(`refuses ${name} with ${code}`, (t) => {
    const err = t.throws(() => new ProducerPool({ ...base, ...patch }), { instanceOf: PoolError });
    t.is(err?.code, code);
  });
}

test('accepts a full scenario and reports its seed', (t) => {
  const pool = new ProducerPool({
    ...base,
    seed: 1234,
    scenario: { records: 5, payload: { weighted: [{ size: 32, weight: 3 }, { size: 100, weight: 1 }] }, wakeup: { sampled: 8 }, batch: 4 },
  });
  t.is(pool.seed, 1234);
  t.deepEqual(pool.stats(), []);
});
