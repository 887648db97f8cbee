/**
 * The typed-error base every package shares: CodedError (and its RangeError face CodedRangeError)
 * carries `code`, `name` and `cause`; `instanceof` keeps working for each class, for RangeError and
 * for the base; describeValue quotes any value without throwing.
 */
import test from 'ava';
import {
  CodedError,
  CodedRangeError,
  RingBufCorruptionError,
  RingBufError,
  RingBufRangeError,
  RingBuffer,
  SharedLayout,
  WakeGroup,
  describeThrown,
  describeValue,
  sleep,
  type RingBufErrorCode,
} from '@ringbuf/core';

const cause = new Error('the first failure');

/** Each of core's classes: an instance, its name, its code, and whether it is a RangeError. */
const rows = [
  {
    err: new RingBufError('ERR_RINGBUF_ARGUMENT', 'bad', { cause }),
    name: 'RingBufError',
    code: 'ERR_RINGBUF_ARGUMENT',
    range: false,
    withCause: true,
  },
  {
    err: new RingBufRangeError('ERR_RINGBUF_SIZE', 'bad', { cause }),
    name: 'RingBufRangeError',
    code: 'ERR_RINGBUF_SIZE',
    range: true,
    withCause: true,
  },
  {
    err: new RingBufCorruptionError(64, 'bad'),
    name: 'RingBufCorruptionError',
    code: 'ERR_RINGBUF_CORRUPT',
    range: false,
    withCause: false,
  },
] as const;

for (const row of rows) {
  test(
    `a ${row.name} is a CodedError with its name, code, message and cause, and a ` +
      `RangeError only if it is the range kind`,
    (t) => {
      const { err } = row;
      t.true(err instanceof CodedError);
      t.true(err instanceof Error);
      t.is(err instanceof RangeError, row.range);
      t.is(err instanceof CodedRangeError, row.range);
      t.is(err.name, row.name);
      t.is(err.code, row.code);
      t.is(err.message, 'bad');
      t.is(String(err), `${row.name}: bad`);
      t.is(err.cause, row.withCause ? cause : undefined);
    },
  );
}

test('instanceof a subclass stays exact: the base answers for both faces, a sibling or a parent never does', (t) => {
  const plain = new RingBufError('ERR_RINGBUF_ARGUMENT', 'bad');
  const range = new RingBufRangeError('ERR_RINGBUF_SIZE', 'bad');
  const corrupt = new RingBufCorruptionError(8, 'bad');
  t.true(corrupt instanceof RingBufError);
  t.is(corrupt.position, 8);
  t.false(plain instanceof RingBufCorruptionError);
  t.false(plain instanceof RingBufRangeError);
  t.false(range instanceof RingBufError);
  t.false(plain instanceof CodedRangeError);
  t.true(range instanceof CodedError);
});

test('values that are not typed errors are not CodedErrors, whatever they look like', (t) => {
  const lookalikes: unknown[] = [
    new Error('x'),
    new RangeError('x'),
    Object.assign(new RangeError('x'), { code: 'ERR_RINGBUF_SIZE' }),
    { name: 'RingBufError', code: 'ERR_RINGBUF_ARGUMENT', message: 'x' },
    Object.create(RangeError.prototype) as unknown,
    null,
    undefined,
    'ERR_RINGBUF_ARGUMENT',
    42,
  ];
  for (const value of lookalikes) {
    t.false(value instanceof CodedError, describeValue(value));
    t.false(value instanceof RingBufError, describeValue(value));
    t.false(value instanceof RingBufRangeError, describeValue(value));
  }
});

test('describeValue quotes every kind of value without throwing and tells 1, 1n and "1" apart', (t) => {
  const rows: [unknown, string][] = [
    [1, '1'],
    [1n, 'the BigInt 1n'],
    ['1', 'the string "1"'],
    ['', 'the string ""'],
    [Number.NaN, 'NaN'],
    [-0, '0'],
    [Infinity, 'Infinity'],
    [true, 'true'],
    [null, 'null'],
    [undefined, 'undefined'],
    [Symbol('s'), 'Symbol(s)'],
    [() => 1, 'a function'],
    [[1, 2], 'an array'],
    [{}, 'an object ([object Object])'],
    [Object.create(null) as unknown, 'an object ([object Object])'],
    [new Map(), 'an object ([object Map])'],
    [
      {
        toString() {
          throw new Error('never called');
        },
      },
      'an object ([object Object])',
    ],
  ];
  for (const [value, expected] of rows) t.is(describeValue(value), expected);
});

test(
  'a value that cannot become a string (no prototype, a throwing toString) still ' +
    'gets the typed error and its code',
  (t) => {
    const unprintables: unknown[] = [
      Object.create(null) as unknown,
      {
        [Symbol.toPrimitive]() {
          throw new Error('no');
        },
      },
    ];
    const wake = WakeGroup.create().word;
    const ring = RingBuffer.create({ size: 4096 });
    const A = 'ERR_RINGBUF_ARGUMENT';
    for (const bad of unprintables) {
      const n = bad as number;
      const calls: [string, () => unknown, new (...args: never[]) => Error, RingBufErrorCode][] = [
        ['new SharedLayout(bad)', () => new SharedLayout(n), RingBufRangeError, A],
        ['SharedLayout.at(bad)', () => new SharedLayout().at(n), RingBufRangeError, A],
        ['SharedLayout.int32s(bad)', () => new SharedLayout().int32s(n), RingBufRangeError, A],
        ['sleep(wake, bad)', () => sleep(wake, n), RingBufError, A],
        [
          'RingBuffer.create({ size: bad })',
          () => RingBuffer.create({ size: n }),
          RingBufRangeError,
          'ERR_RINGBUF_SIZE',
        ],
        [
          'RingBuffer.create({ lockTimeoutMs: bad })',
          () => RingBuffer.create({ size: 4096, lockTimeoutMs: n }),
          RingBufRangeError,
          A,
        ],
        ['reserve(bad)', () => ring.reserve(n), RingBufRangeError, 'ERR_RINGBUF_RECORD_SIZE'],
        ['reserveBatch(8, bad)', () => ring.reserveBatch(8, n), RingBufRangeError, 'ERR_RINGBUF_RECORD_SIZE'],
        ['submit(bad)', () => ring.submit(n), RingBufRangeError, 'ERR_RINGBUF_OFFSET'],
        ['output(data, bad)', () => ring.output(new Uint8Array(1), n), RingBufRangeError, 'ERR_RINGBUF_FLAGS'],
      ];
      for (const [name, call, cls, code] of calls) {
        const err = t.throws(call, undefined, name);
        t.true(err instanceof cls, `${name}: ${err?.name ?? 'nothing thrown'}`);
        t.is((err as { code?: unknown } | undefined)?.code, code, name);
        t.regex(err?.message ?? '', /an object \(\[object Object\]\)/, name);
      }
    }
  },
);

test('describeThrown gives an Error as "Name: message" and quotes anything else thrown without throwing', (t) => {
  t.is(describeThrown(new TypeError('no config')), 'TypeError: no config');
  t.is(describeThrown(new RingBufError('ERR_RINGBUF_ARGUMENT', 'bad')), 'RingBufError: bad');
  t.is(describeThrown('boom'), 'the string "boom"');
  t.is(describeThrown(7n), 'the BigInt 7n');
  t.is(describeThrown(Object.create(null)), 'an object ([object Object])');
  t.is(describeThrown(undefined), 'undefined');
});
