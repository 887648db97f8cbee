/**
 * Every package's typed errors share core's base: each class is `instanceof CodedError` with its own
 * name and code, the range kinds stay `instanceof RangeError`, and the quoting of values is core's
 * describeValue everywhere. The CLI depends on every package, so the whole hierarchy is checked here.
 */
import test from 'ava';
import { BenchError, BenchRangeError } from '@ringbuf/bench';
import { OrderingVerifier, RuntimeCorruptionError, RuntimeError, RuntimeHandlerError } from '@ringbuf/consumer';
import { CodedError, RingBufCorruptionError, RingBufError, RingBufRangeError, describeValue } from '@ringbuf/core';
import { InstrumentError, InstrumentRangeError, describeValue as instrumentDescribeValue } from '@ringbuf/instrument';
import { InjectedDeath, PoolError, ProducerModuleError } from '@ringbuf/producer-pool';
import { UsageError, UserModuleError } from '../src/cli-errors.js';

const handlerFailure = { ring: 0, position: 8, size: 4, name: 'Error', message: 'boom', stack: undefined };

/** [the error, its class name, its code, whether it is a RangeError] for every typed error class. */
const rows: [Error & { code: string }, string, string, boolean][] = [
  [new RingBufError('ERR_RINGBUF_ARGUMENT', 'm'), 'RingBufError', 'ERR_RINGBUF_ARGUMENT', false],
  [new RingBufRangeError('ERR_RINGBUF_SIZE', 'm'), 'RingBufRangeError', 'ERR_RINGBUF_SIZE', true],
  [new RingBufCorruptionError(8, 'm'), 'RingBufCorruptionError', 'ERR_RINGBUF_CORRUPT', false],
  [new InstrumentError('ERR_INSTRUMENT_VIEW', 'm'), 'InstrumentError', 'ERR_INSTRUMENT_VIEW', false],
  [new InstrumentRangeError('ERR_INSTRUMENT_OFFSET', 'm'), 'InstrumentRangeError', 'ERR_INSTRUMENT_OFFSET', true],
  [new PoolError('ERR_POOL_OPTIONS', 'm'), 'PoolError', 'ERR_POOL_OPTIONS', false],
  [new ProducerModuleError('file:///p.js', 'init() threw'), 'ProducerModuleError', 'ERR_POOL_PRODUCER_MODULE', false],
  [new InjectedDeath('m'), 'InjectedDeath', 'ERR_POOL_INJECTED_DEATH', false],
  [new RuntimeError('ERR_RUNTIME_OPTIONS', 'm'), 'RuntimeError', 'ERR_RUNTIME_OPTIONS', false],
  [new RuntimeHandlerError(handlerFailure), 'RuntimeHandlerError', 'ERR_RUNTIME_HANDLER', false],
  [
    new RuntimeCorruptionError({ ring: 0, position: 8, message: 'm' }),
    'RuntimeCorruptionError',
    'ERR_RUNTIME_CORRUPT',
    false,
  ],
  [new BenchError('ERR_BENCH_OPTIONS', 'm'), 'BenchError', 'ERR_BENCH_OPTIONS', false],
  [new BenchRangeError('ERR_BENCH_COUNT', 'm'), 'BenchRangeError', 'ERR_BENCH_COUNT', true],
  [new UsageError('m'), 'UsageError', 'ERR_RINGBUF_USAGE', false],
  [new UserModuleError('--handler', 'h.js', 'no handler'), 'UserModuleError', 'ERR_RINGBUF_USER_MODULE', false],
];

for (const [err, name, code, range] of rows) {
  test(`a ${name} is a CodedError named ${name} with code ${code}${range ? ', and a RangeError' : ''}`, (t) => {
    t.true(err instanceof CodedError);
    t.is(err.name, name);
    t.is(err.code, code);
    t.is(err instanceof RangeError, range);
    t.is(String(err).split(':')[0], name);
  });
}

test('a cause passed to a typed error is kept as Error.cause', (t) => {
  const cause = new Error('first');
  t.is(new PoolError('ERR_POOL_STATE', 'm', { cause }).cause, cause);
  t.is(new BenchRangeError('ERR_BENCH_COUNT', 'm', { cause }).cause, cause);
  t.is(new UsageError('m', { cause }).cause, cause);
  t.true(new RuntimeCorruptionError({ ring: 1, position: 16, message: 'm' }).cause instanceof RingBufCorruptionError);
});

test('instrument re-exports core describeValue: one quoting of values for every package', (t) => {
  t.is(instrumentDescribeValue, describeValue);
});

test('the OrderingVerifier refuses bad options with a coded RangeError, an unprintable value included', (t) => {
  const bad: unknown[] = [{ maxExamples: -1 }, { maxProducerId: 2 ** 32 }, { tokens: 'strict' }, { filler: 42 }];
  bad.push({ maxExamples: Object.create(null) as unknown }, { expectFrom: 7 });
  for (const options of bad) {
    const err = t.throws(() => new OrderingVerifier(options as never), { instanceOf: RingBufRangeError });
    t.is(err?.code, 'ERR_RINGBUF_ARGUMENT');
    t.true(err instanceof RangeError);
  }
});
