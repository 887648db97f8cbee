/**
 * The producer pool's rows of the bad-input table: every exported function and constructor of
 * @ringbuf/producer-pool with bad arguments. Each row must throw PoolError with its `code` (and a
 * message naming what is wrong), leave every byte of the shared memory involved (the ring's
 * SharedArrayBuffer and any buffer the row hands to the call) exactly as it was, and leave the ring
 * usable: its outstanding reservation commits, a new record fits, and a walk of the ring (no
 * Consumer) finds every record, the filler of the first one intact.
 *
 * Rows start no thread: a refused constructor or run() starts nothing. The one run that the state
 * rows need is stopped before its producer's first record (see the last test).
 */
import test, { type ExecutionContext } from 'ava';
import { BPF_RB_AVAIL_DATA, MAX_PRODUCER_ID, RingBuffer, WakeGroup, layout, recordFootprint } from '@ringbuf/core';
import { INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';
import {
  PoolError,
  Prng,
  ProducerPool,
  checkFiller,
  fillerByte,
  writeFiller,
  type PoolErrorCode,
  type ProducerPoolOptions,
} from '../src/index.js';

const SIZE = 4096;
const PRODUCER_ID = 5;
/** Payload sizes of the fixture's records, in ring order: committed, committed, BUSY, then the check's own. */
const FIRST = 64;
const SECOND = 40;
const OUTSTANDING = 96;
const LAST = 48;

interface Fixture {
  ring: RingBuffer;
  /** Payload offset of the first record: committed, with its filler (producer PRODUCER_ID, seq 0). */
  first: number;
  /** Payload offset of a BUSY reservation whose bytes are 0xaa: a partial filler write would show. */
  outstanding: number;
}

function fixture(): Fixture {
  const ring = RingBuffer.create({ size: SIZE, producerId: PRODUCER_ID });
  const first = ring.reserve(FIRST);
  writeFiller(ring.data, first, FIRST, PRODUCER_ID, 0);
  ring.submit(first);
  ring.output(new Uint8Array(SECOND).fill(0xee));
  const outstanding = ring.reserve(OUTSTANDING);
  ring.data.fill(0xaa, outstanding, outstanding + OUTSTANDING);
  return { ring, first, outstanding };
}

interface Row {
  name: string;
  /** Valid steps that make what the bad call needs: extra shared buffers (snapshotted too) and a value. */
  prepare?: (f: Fixture) => { buffers?: SharedArrayBuffer[]; value?: unknown };
  /** The bad call; a run() row returns its promise, which must reject. */
  call: (f: Fixture, value: unknown) => unknown;
  code: PoolErrorCode;
  /** What the message must name (the bad option or argument). */
  mentions: string;
}

const rows: Row[] = [];
const R = (name: string, call: Row['call'], code: PoolErrorCode, mentions: string, prepare?: Row['prepare']): void => {
  rows.push({ name, call, code, mentions, ...(prepare ? { prepare } : {}) });
};

type Values = ReadonlyArray<readonly [string, unknown]>;

/** Values of the wrong type for a numeric option or argument. */
const NOT_NUMBERS: Values = [
  ["the string '1'", '1'],
  ['the BigInt 1n', 1n],
  ['a Symbol', Symbol('bad')],
  ['null', null],
  ['true', true],
  ['an object', {}],
  ['an array', [1]],
  ['a function', () => 1],
];
/** Values of the wrong type for a string or boolean option. */
const NOT_STRINGS: Values = [
  ['the number 1', 1],
  ['the BigInt 1n', 1n],
  ['a Symbol', Symbol('bad')],
  ['null', null],
  ['an object', {}],
  ['an array', ['x']],
];
/** Values that are not an options object. */
const NOT_OBJECTS: Values = [
  ['null', null],
  ['the number 42', 42],
  ["the string 'x'", 'x'],
  ['true', true],
  ['the BigInt 1n', 1n],
  ['a Symbol', Symbol('bad')],
  ['an array', []],
  ['a function', () => ({})],
];
const NOT_POSITIVE_INTEGERS: Values = [
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['2^53 (not a safe integer)', 2 ** 53],
  ...NOT_NUMBERS,
];
const NOT_POSITIVE_FINITE: Values = [
  ['0', 0],
  ['-1', -1],
  ['-0.5', -0.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ...NOT_NUMBERS,
];
const NOT_NON_NEGATIVE_FINITE: Values = [
  ['-1', -1],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ...NOT_NUMBERS,
];
const NOT_RATIOS: Values = [['-0.1', -0.1], ['1.5', 1.5], ['NaN', NaN], ['Infinity', Infinity], ...NOT_NUMBERS];

// ---- new ProducerPool(options) ----

const base = (f: Fixture): ProducerPoolOptions => ({
  ring: f.ring.share(),
  producers: 2,
  scenario: { records: 10 },
  logLevel: 'silent',
});
/** new ProducerPool with the base options patched (a key set to undefined is absent). */
const pool =
  (patch: Record<string, unknown> | ((f: Fixture, value: unknown) => Record<string, unknown>)) =>
  (f: Fixture, value: unknown): ProducerPool =>
    new ProducerPool({ ...base(f), ...(typeof patch === 'function' ? patch(f, value) : patch) });
/** new ProducerPool with this scenario (records 1 unless the row says otherwise). */
const scenario = (s: Record<string, unknown>) => pool({ scenario: { records: 1, ...s } });
const O = (name: string, patch: Parameters<typeof pool>[0], mentions: string, prepare?: Row['prepare']): void =>
  R(`new ProducerPool with ${name}`, pool(patch), 'ERR_POOL_OPTIONS', mentions, prepare);
const S = (name: string, s: Record<string, unknown>, mentions: string): void =>
  R(`new ProducerPool with a scenario of ${name}`, scenario(s), 'ERR_POOL_SCENARIO', mentions);

R('new ProducerPool() without options', () => new ProducerPool(undefined as never), 'ERR_POOL_OPTIONS', 'options');
for (const [label, v] of NOT_OBJECTS)
  R(`new ProducerPool(${label})`, () => new ProducerPool(v as never), 'ERR_POOL_OPTIONS', 'options');
R(
  'new ProducerPool(ring.share()) (the share instead of the options)',
  (f) => new ProducerPool(f.ring.share() as never),
  'ERR_POOL_OPTIONS',
  'buffer',
);
O('an unknown option (producer, a typo of producers)', { producer: 2 }, 'producer');
O('an unknown option (killEvery)', { killEvery: 5 }, 'killEvery');

// ring
O('no ring', { ring: undefined }, 'ring');
for (const [label, v] of [
  ...NOT_STRINGS,
  ["the string 'x'", 'x'],
  ['a function', () => 0],
  ['an empty object', {}],
] as Values) {
  if (label === 'an array') continue;
  O(`ring ${label}`, { ring: v }, 'ring');
}
O('ring an empty array', { ring: [] }, 'ring');
O('ring [null]', { ring: [null] }, 'ring[0]');
O('ring [a good share, 42]', (f) => ({ ring: [f.ring.share(), 42] }), 'ring[1]');
O('ring an ArrayBuffer', { ring: new ArrayBuffer(3 * SIZE) }, 'ring');
O('ring { buffer: an ArrayBuffer }', { ring: { buffer: new ArrayBuffer(3 * SIZE) } }, 'ring');
O('ring { buffer: 42 }', { ring: { buffer: 42 } }, 'ring');
/** A copy of the fixture ring's buffer, of `bytes` bytes, then `edit` applied to its words. */
const forged = (f: Fixture, bytes: number, edit?: (i32: Int32Array) => void): SharedArrayBuffer => {
  const sab = new SharedArrayBuffer(bytes);
  new Uint8Array(sab).set(new Uint8Array(f.ring.buffer, 0, Math.min(bytes, f.ring.buffer.byteLength)));
  edit?.(new Int32Array(sab));
  return sab;
};
const shareOf = (make: (f: Fixture) => SharedArrayBuffer) => (f: Fixture) => {
  const sab = make(f);
  return { buffers: [sab], value: { buffer: sab } };
};
const withRing = (_f: Fixture, share: unknown) => ({ ring: share });
for (const [label, make] of [
  ['a 100-byte SharedArrayBuffer', () => new SharedArrayBuffer(100)],
  ['an 8192-byte zeroed SharedArrayBuffer', () => new SharedArrayBuffer(8192)],
  ["a zeroed SharedArrayBuffer of a ring's length", (f: Fixture) => new SharedArrayBuffer(f.ring.buffer.byteLength)],
  [
    'a ring buffer with the wrong magic',
    (f: Fixture) => forged(f, f.ring.buffer.byteLength, (i32) => (i32[layout.MAGIC_INDEX] = layout.WAKE_GROUP_MAGIC)),
  ],
  [
    'a ring buffer of another layout version',
    (f: Fixture) =>
      forged(f, f.ring.buffer.byteLength, (i32) => (i32[layout.VERSION_INDEX] = layout.LAYOUT_VERSION + 1)),
  ],
  ['a truncated ring buffer (no mirror tail)', (f: Fixture) => forged(f, f.ring.buffer.byteLength - SIZE)],
  [
    'a ring buffer whose size word is not a ring size',
    (f: Fixture) => forged(f, f.ring.buffer.byteLength, (i32) => (i32[layout.SIZE_INDEX] = 3000)),
  ],
  [
    'a ring buffer whose mirror word disagrees with its size',
    (f: Fixture) => forged(f, f.ring.buffer.byteLength, (i32) => (i32[layout.MIRROR_INDEX] = 8)),
  ],
] as ReadonlyArray<readonly [string, (f: Fixture) => SharedArrayBuffer]>) {
  O(`a ring share whose buffer is ${label}`, withRing, 'ring[0]', shareOf(make));
}
const grouped = () => {
  const group = WakeGroup.create();
  const other = RingBuffer.create({ size: SIZE, wakeGroup: group });
  return { buffers: [other.buffer, group.buffer], value: other };
};
O(
  'a wake-group ring shared without its wake buffer',
  (_f, other) => ({ ring: { buffer: (other as RingBuffer).buffer } }),
  'wake group',
  grouped,
);
O(
  "a wake-group ring shared with another group's wake buffer",
  (_f, other) => ({ ring: { buffer: (other as RingBuffer).buffer, wakeBuffer: WakeGroup.create().buffer } }),
  'wake group',
  grouped,
);
O(
  "a wake-group ring shared with a wake buffer that is not a wake group's",
  (_f, other) => ({ ring: { buffer: (other as RingBuffer).buffer, wakeBuffer: new SharedArrayBuffer(64) } }),
  'ring[0]',
  grouped,
);

// producers
O('no producers', { producers: undefined }, 'producers');
for (const [label, v] of [...NOT_POSITIVE_INTEGERS, ['1025', 1025]] as Values)
  O(`producers ${label}`, { producers: v }, 'producers');

// seed, logLevel, lockTimeoutMs, firstProducerId, rateTolerance
for (const [label, v] of [
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['2^32 (more than 32 bits)', 2 ** 32],
  ['-2^31 - 1', -(2 ** 31) - 1],
  ['2^53', 2 ** 53],
  ...NOT_NUMBERS,
] as Values) {
  O(`seed ${label}`, { seed: v }, 'seed');
}
for (const [label, v] of [
  ["'loud'", 'loud'],
  ["''", ''],
  ["'WARN'", 'WARN'],
  ["'warn '", 'warn '],
  ...NOT_STRINGS,
  ['true', true],
] as Values) {
  O(`logLevel ${label}`, { logLevel: v }, 'logLevel');
}
for (const [label, v] of [['-1', -1], ['NaN', NaN], ['-Infinity', -Infinity], ...NOT_NUMBERS] as Values)
  O(`lockTimeoutMs ${label}`, { lockTimeoutMs: v }, 'lockTimeoutMs');
for (const [label, v] of [
  ...NOT_POSITIVE_INTEGERS,
  ['MAX_PRODUCER_ID (the recovery id)', MAX_PRODUCER_ID],
  ['MAX_PRODUCER_ID - 1e6 (no room for replacements)', MAX_PRODUCER_ID - 1_000_000],
] as Values) {
  O(`firstProducerId ${label}`, { firstProducerId: v }, 'firstProducerId');
}
for (const [label, v] of NOT_RATIOS) O(`rateTolerance ${label}`, { rateTolerance: v }, 'rateTolerance');

// killEveryMs and faults
for (const [label, v] of NOT_POSITIVE_FINITE) O(`killEveryMs ${label}`, { killEveryMs: v }, 'killEveryMs');
for (const [label, v] of NOT_OBJECTS) O(`faults ${label}`, { faults: v }, 'faults');
O('faults {} (no everyMs)', { faults: {} }, 'faults.everyMs');
O('both killEveryMs and faults', { killEveryMs: 5, faults: { everyMs: 10 } }, 'killEveryMs');
O('faults with an unknown option (every)', { faults: { everyMs: 5, every: 1 } }, 'every');
for (const [label, v] of NOT_POSITIVE_FINITE)
  O(`faults.everyMs ${label}`, { faults: { everyMs: v } }, 'faults.everyMs');
for (const [key, good] of [
  ['methods', 'throw'],
  ['points', 'between'],
] as const) {
  for (const [label, v] of [
    ['an empty list', []],
    [`the string '${good}' (not a list)`, good],
    ['the number 5', 5],
    ['null', null],
    ['the BigInt 1n', 1n],
    ['an object', {}],
    ["['explode']", ['explode']],
    [`['${good.toUpperCase()}']`, [good.toUpperCase()]],
    ['[a Symbol]', [Symbol(good)]],
    [`['${good}', 5]`, [good, 5]],
    [`['${good}', null]`, [good, null]],
  ] as Values) {
    O(`faults.${key} ${label}`, { faults: { everyMs: 5, [key]: v } }, `faults.${key}`);
  }
}
O(
  "faults.points ['anywhere'] without the terminate method",
  { faults: { everyMs: 5, methods: ['throw'], points: ['anywhere'] } },
  'terminate',
);
for (const [label, v] of [['-1', -1], ['1.5', 1.5], ['NaN', NaN], ['-Infinity', -Infinity], ...NOT_NUMBERS] as Values) {
  O(`faults.maxKills ${label}`, { faults: { everyMs: 5, maxKills: v } }, 'faults.maxKills');
}
O(
  'fault injection (killEveryMs) in a causal scenario',
  { scenario: { records: 1, causal: true }, killEveryMs: 10 },
  'causal',
);
O(
  'fault injection (faults) in a causal scenario',
  { scenario: { records: 1, causal: true }, faults: { everyMs: 10 } },
  'causal',
);

// ---- the scenario ----

R('new ProducerPool without a scenario', pool({ scenario: undefined }), 'ERR_POOL_SCENARIO', 'scenario');
for (const [label, v] of NOT_OBJECTS)
  R(`new ProducerPool with scenario ${label}`, pool({ scenario: v }), 'ERR_POOL_SCENARIO', 'scenario');
R(
  'new ProducerPool with an empty scenario (no records, durationMs or stages)',
  pool({ scenario: {} }),
  'ERR_POOL_SCENARIO',
  'records',
);
S('an unknown option (record, a typo of records)', { records: undefined, record: 10 }, 'record');
S('an unknown option (discardratio)', { discardratio: 0.5 }, 'discardratio');
for (const [label, v] of NOT_POSITIVE_INTEGERS) S(`records ${label}`, { records: v }, 'records');
for (const [label, v] of NOT_POSITIVE_FINITE)
  S(`durationMs ${label}`, { records: undefined, durationMs: v }, 'durationMs');

// payload
for (const [label, v] of [
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['2^24 + 1', 2 ** 24 + 1],
  ...NOT_NUMBERS.filter(([l]) => l !== 'an object'),
] as Values) {
  S(`payload ${label}`, { payload: v }, 'payload');
}
S('payload 4088 (can never fit a 4096-byte ring)', { payload: 4088 }, 'payload');
S('payload 16 (shorter than the instrumented header)', { payload: INSTRUMENTED_HEADER_BYTES - 16 }, 'payload');
for (const [label, v] of [
  ['{} (neither a range nor a list)', {}],
  ['a reversed range', { min: 100, max: 50 }],
  ['a range with min -1', { min: -1, max: 64 }],
  ['a range with min 40.5', { min: 40.5, max: 64 }],
  ['a range with max NaN', { min: 40, max: NaN }],
  ['a range with max Infinity', { min: 40, max: Infinity }],
  ['a range with min 40n', { min: 40n, max: 64 }],
  ["a range with min '40'", { min: '40', max: 64 }],
  ['a range with max a Symbol', { min: 40, max: Symbol('max') }],
  ['a range with min null', { min: null, max: 64 }],
  ['a range without max', { min: 40 }],
  ['a range with max 4088 (can never fit)', { min: 40, max: 4088 }],
  ['a range with min 16 (shorter than the instrumented header)', { min: 16, max: 64 }],
  ['a range with an unknown key (mean)', { min: 40, max: 64, mean: 50 }],
  ['both a range and a weighted list', { min: 40, max: 64, weighted: [{ size: 64, weight: 1 }] }],
  ['an empty weighted list', { weighted: [] }],
  ["a weighted list that is the string 'x'", { weighted: 'x' }],
  ['a weighted list that is null', { weighted: null }],
  ['a weighted list that is an object', { weighted: { size: 64, weight: 1 } }],
  ['a weighted list of 1025 entries', { weighted: Array.from({ length: 1025 }, () => ({ size: 64, weight: 1 })) }],
  ['a weighted list holding null', { weighted: [null] }],
  ['a weighted list holding a number', { weighted: [64] }],
  ['a weighted list holding an array', { weighted: [[64, 1]] }],
  ['a weighted entry without a weight', { weighted: [{ size: 64 }] }],
  ['a weighted entry with an unknown key', { weighted: [{ size: 64, weight: 1, w: 1 }] }],
  ['a weighted size -1', { weighted: [{ size: -1, weight: 1 }] }],
  ['a weighted size 64.5', { weighted: [{ size: 64.5, weight: 1 }] }],
  ['a weighted size 64n', { weighted: [{ size: 64n, weight: 1 }] }],
  ["a weighted size '64'", { weighted: [{ size: '64', weight: 1 }] }],
  ['a weighted size that is a Symbol', { weighted: [{ size: Symbol('s'), weight: 1 }] }],
  [
    'a weighted size 4088 (can never fit)',
    {
      weighted: [
        { size: 64, weight: 1 },
        { size: 4088, weight: 1 },
      ],
    },
  ],
  [
    'a weighted size 16 (shorter than the instrumented header)',
    {
      weighted: [
        { size: 16, weight: 1 },
        { size: 64, weight: 1 },
      ],
    },
  ],
  ['a weighted list with a zero weight', { weighted: [{ size: 32, weight: 0 }] }],
  ['a weighted weight -1', { weighted: [{ size: 64, weight: -1 }] }],
  ['a weighted weight NaN', { weighted: [{ size: 64, weight: NaN }] }],
  ['a weighted weight Infinity', { weighted: [{ size: 64, weight: Infinity }] }],
  ['a weighted weight 1n', { weighted: [{ size: 64, weight: 1n }] }],
  ["a weighted weight '1'", { weighted: [{ size: 64, weight: '1' }] }],
  [
    'weights that add up to Infinity',
    {
      weighted: [
        { size: 64, weight: 1e308 },
        { size: 128, weight: 1e308 },
      ],
    },
  ],
] as Values) {
  S(`payload ${label}`, { payload: v }, 'payload');
}

// api, discardRatio, wakeup, batch, ratePerProducer, dropBackoffUs, instrumented, causal
for (const [label, v] of [
  ["'write'", 'write'],
  ["''", ''],
  ["'RESERVE'", 'RESERVE'],
  ["'output '", 'output '],
  ...NOT_STRINGS,
  ['true', true],
] as Values) {
  S(`api ${label}`, { api: v }, 'api');
}
for (const [label, v] of NOT_RATIOS) S(`discardRatio ${label}`, { discardRatio: v }, 'discardRatio');
S("discards with api 'output' (bpf_ringbuf_output cannot discard)", { api: 'output', discardRatio: 0.1 }, 'discard');
for (const [label, v] of [
  ["'sometimes'", 'sometimes'],
  ["''", ''],
  ["'SELF'", 'SELF'],
  ['0', 0],
  ['1 (a flags value)', 1],
  ['the BigInt 1n', 1n],
  ['a Symbol', Symbol('w')],
  ['null', null],
  ['true', true],
  ['an array', ['self']],
  ['a function', () => 'self'],
  ['{} (no sampled)', {}],
  ['{ sampled: 0 }', { sampled: 0 }],
  ['{ sampled: -1 }', { sampled: -1 }],
  ['{ sampled: 1.5 }', { sampled: 1.5 }],
  ['{ sampled: NaN }', { sampled: NaN }],
  ['{ sampled: Infinity }', { sampled: Infinity }],
  ['{ sampled: 1n }', { sampled: 1n }],
  ["{ sampled: '4' }", { sampled: '4' }],
  ['{ sampled: null }', { sampled: null }],
  ['{ sampled: a Symbol }', { sampled: Symbol('n') }],
  ['{ sampled: 4, every: 2 } (an unknown key)', { sampled: 4, every: 2 }],
] as Values) {
  S(`wakeup ${label}`, { wakeup: v }, 'wakeup');
}
for (const [label, v] of NOT_POSITIVE_INTEGERS) S(`batch ${label}`, { batch: v }, 'batch');
for (const [label, v] of [...NOT_POSITIVE_FINITE, ['-5', -5]] as Values)
  S(`ratePerProducer ${label}`, { ratePerProducer: v }, 'ratePerProducer');
for (const [label, v] of NOT_NON_NEGATIVE_FINITE) S(`dropBackoffUs ${label}`, { dropBackoffUs: v }, 'dropBackoffUs');
for (const key of ['instrumented', 'causal'] as const) {
  for (const [label, v] of [
    ["'yes'", 'yes'],
    ['1', 1],
    ['0', 0],
    ['the BigInt 1n', 1n],
    ['a Symbol', Symbol('b')],
    ['null', null],
    ['an object', {}],
  ] as Values) {
    S(`${key} ${label}`, { [key]: v }, key);
  }
}
S('an open-loop causal scenario', { causal: true, ratePerProducer: 10 }, 'ratePerProducer');
S('a causal scenario of plain payloads', { causal: true, instrumented: false }, 'instrumented');
S('a causal scenario with discards', { causal: true, discardRatio: 0.1 }, 'discardRatio');
S('a causal scenario with batches', { causal: true, batch: 2 }, 'batch');
S('a causal scenario with stages', { causal: true, stages: [{ durationMs: 10, target: 10 }] }, 'stages');

// stages
for (const [label, v] of [
  ['an empty list', []],
  ["the string 'x'", 'x'],
  ['null', null],
  ['the number 5', 5],
  ['the BigInt 1n', 1n],
  ['an object', { durationMs: 10, target: 1 }],
  ['a list holding null', [null]],
  ['a list holding a number', [5]],
  ['a list holding an array', [[1000, 10]]],
  ['a stage with an unknown key', [{ durationMs: 10, target: 1, rate: 2 }]],
  ['a stage without a target', [{ durationMs: 10 }]],
] as Values) {
  S(`stages ${label}`, { records: undefined, stages: v }, 'stages');
}
for (const [label, v] of NOT_POSITIVE_FINITE)
  S(
    `a stage durationMs ${label}`,
    { records: undefined, stages: [{ durationMs: v, target: 1 }] },
    'stages[0].durationMs',
  );
for (const [label, v] of NOT_NON_NEGATIVE_FINITE) {
  S(
    `a second stage target ${label}`,
    {
      records: undefined,
      stages: [
        { durationMs: 10, target: 1 },
        { durationMs: 10, target: v },
      ],
    },
    'stages[1].target',
  );
}
S(
  'stages and ratePerProducer',
  { records: undefined, stages: [{ durationMs: 10, target: 1 }], ratePerProducer: 5 },
  'ratePerProducer',
);

// producerModule, producerOptions
const EXISTING_MODULE = new URL('./fixtures/verify-handler.js', import.meta.url).href;
for (const [label, v] of [
  ["''", ''],
  ...NOT_STRINGS,
  ['a URL object', new URL(EXISTING_MODULE)],
  ['true', true],
  ['a function', () => 0],
  ['a path that does not exist', '/nonexistent/ringbuf-producer.js'],
  ['a file URL that does not exist', new URL('./no-such-producer.js', import.meta.url).href],
  ['a file URL with a host', 'file://example.com/producer.js'],
] as Values) {
  S(`producerModule ${label}`, { producerModule: v }, 'producerModule');
}
S('a producer module for plain payloads', { producerModule: EXISTING_MODULE, instrumented: false }, 'instrumented');
S('a producer module in a causal scenario', { producerModule: EXISTING_MODULE, causal: true }, 'producerModule');
S('producerOptions without a producer module', { producerOptions: { a: 1 } }, 'producerModule');
for (const [label, v] of [
  ['a function', () => 0],
  ['a Symbol', Symbol('o')],
  ['an object holding a function', { write: () => 0 }],
  ['a WeakMap', new WeakMap()],
] as Values) {
  S(
    `producerOptions ${label} (not structured-cloneable)`,
    { producerModule: EXISTING_MODULE, producerOptions: v },
    'producerOptions',
  );
}

// ---- pool.run(options) on a pool that never ran ----

const idle = (f: Fixture): ProducerPool =>
  new ProducerPool({ ring: f.ring.share(), producers: 1, scenario: { records: 1 }, logLevel: 'silent' });
for (const [label, v] of NOT_OBJECTS)
  R(`pool.run(${label})`, (f) => idle(f).run(v as never), 'ERR_POOL_OPTIONS', 'run()');
R(
  'pool.run(signal) (the AbortSignal itself)',
  (f) => idle(f).run(new AbortController().signal as never),
  'ERR_POOL_OPTIONS',
  'signal',
);
for (const [label, v] of [
  ["the string 'x'", 'x'],
  ['null', null],
  ['the BigInt 1n', 1n],
  ['an AbortController', new AbortController()],
  [
    'an object that looks like a signal',
    { aborted: false, addEventListener: () => undefined, removeEventListener: () => undefined },
  ],
] as Values) {
  R(`pool.run({ signal: ${label} })`, (f) => idle(f).run({ signal: v } as never), 'ERR_POOL_OPTIONS', 'signal');
}
R(
  'pool.run({ sigal }) (an unknown key)',
  (f) => idle(f).run({ sigal: new AbortController().signal } as never),
  'ERR_POOL_OPTIONS',
  'sigal',
);

// ---- fillerByte, writeFiller, checkFiller: they read and write ring memory ----

const NOT_COUNTS: Values = [
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['2^53', 2 ** 53],
  ["the string '5'", '5'],
  ['the BigInt 5n', 5n],
  ['a Symbol', Symbol('n')],
  ['null', null],
  ['undefined', undefined],
];
const NOT_U32: Values = [
  ['-1', -1],
  ['-8', -8],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ["the string '48'", '48'],
  ['the BigInt 48n', 48n],
  ['a Symbol', Symbol('n')],
  ['null', null],
  ['undefined', undefined],
  ['2^32 + 48 (aliases 48 in 32 bits)', 2 ** 32 + 48],
];
for (const [label, v] of NOT_COUNTS) {
  R(`fillerByte(producerId ${label})`, () => fillerByte(v as number, 0, 40), 'ERR_POOL_ARGUMENT', 'producerId');
  R(`fillerByte(seq ${label})`, () => fillerByte(1, v as number, 40), 'ERR_POOL_ARGUMENT', 'seq');
}
for (const [label, v] of NOT_U32)
  R(`fillerByte(i ${label})`, () => fillerByte(1, 0, v as number), 'ERR_POOL_ARGUMENT', 'fillerByte: i');

type Filler = (data: Uint8Array, offset: number, size: number, producerId: number, seq: number) => unknown;
for (const [fname, fn] of [
  ['writeFiller', writeFiller],
  ['checkFiller', checkFiller],
] as ReadonlyArray<readonly [string, Filler]>) {
  /** fn over the outstanding reservation, with one argument replaced. */
  const F = (
    label: string,
    args: (f: Fixture) => [unknown, unknown, unknown, unknown, unknown],
    mentions: string,
  ): void => R(`${fname} with ${label}`, (f) => fn(...(args(f) as Parameters<Filler>)), 'ERR_POOL_ARGUMENT', mentions);
  for (const [label, v] of [
    ['null', null],
    ['undefined', undefined],
    ["the ring's SharedArrayBuffer", 'ring.buffer'],
    ['an ArrayBuffer', new ArrayBuffer(SIZE)],
    ["a Uint16Array over the ring's buffer", 'u16'],
    ["an Int8Array over the ring's buffer", 'i8'],
    ["a Uint8ClampedArray over the ring's buffer", 'u8c'],
    ["the ring's DataView", 'ring.view'],
    ['a plain array', new Array(SIZE).fill(0)],
    ['a string', 'x'.repeat(SIZE)],
    ['the BigInt 1n', 1n],
  ] as Values) {
    const data = (f: Fixture): unknown => {
      const sab = f.ring.buffer;
      if (v === 'ring.buffer') return sab;
      if (v === 'ring.view') return f.ring.view;
      if (v === 'u16') return new Uint16Array(sab, layout.DATA_OFFSET);
      if (v === 'i8') return new Int8Array(sab, layout.DATA_OFFSET);
      if (v === 'u8c') return new Uint8ClampedArray(sab, layout.DATA_OFFSET);
      return v;
    };
    F(`data ${label}`, (f) => [data(f), f.outstanding, OUTSTANDING, PRODUCER_ID, 1], 'data');
  }
  for (const [label, v] of NOT_U32)
    F(`offset ${label}`, (f) => [f.ring.data, v, OUTSTANDING, PRODUCER_ID, 1], 'offset');
  F(
    'offset data.length (past the end)',
    (f) => [f.ring.data, f.ring.data.length, OUTSTANDING, PRODUCER_ID, 1],
    'not inside',
  );
  F(
    'offset data.length - 40 (the range runs past the end)',
    (f) => [f.ring.data, f.ring.data.length - 40, OUTSTANDING, PRODUCER_ID, 1],
    'not inside',
  );
  for (const [label, v] of NOT_U32) F(`size ${label}`, (f) => [f.ring.data, f.outstanding, v, PRODUCER_ID, 1], 'size');
  F(
    'size data.length (the range runs past the end)',
    (f) => [f.ring.data, f.outstanding, f.ring.data.length, PRODUCER_ID, 1],
    'not inside',
  );
  F('size 2^32 - 1', (f) => [f.ring.data, f.outstanding, 2 ** 32 - 1, PRODUCER_ID, 1], 'not inside');
  F(
    'a 50-byte subarray of the ring and size 96 (past the view, inside the buffer)',
    (f) => [f.ring.data.subarray(f.outstanding, f.outstanding + 50), 0, OUTSTANDING, PRODUCER_ID, 1],
    'not inside',
  );
  for (const [label, v] of NOT_COUNTS)
    F(`producerId ${label}`, (f) => [f.ring.data, f.outstanding, OUTSTANDING, v, 1], 'producerId');
  for (const [label, v] of NOT_COUNTS)
    F(`seq ${label}`, (f) => [f.ring.data, f.outstanding, OUTSTANDING, PRODUCER_ID, v], 'seq');
}

// ---- new Prng(seed) ----

for (const [label, v] of [
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['1.5', 1.5],
  ['2^32 (more than 32 bits)', 2 ** 32],
  ['-2^31 - 1', -(2 ** 31) - 1],
  ['2^53', 2 ** 53],
  ["the string 'abc'", 'abc'],
  ["the string '5'", '5'],
  ['the BigInt 5n', 5n],
  ['a Symbol', Symbol('seed')],
  ['null', null],
  ['undefined', undefined],
  ['an object', {}],
  ['an array', [5]],
  ['true', true],
] as Values) {
  R(`new Prng(${label})`, () => new Prng(v as number), 'ERR_POOL_ARGUMENT', 'seed');
}

// ---- the table ----

function snapshot(buffers: readonly SharedArrayBuffer[]): Buffer[] {
  return buffers.map((b) => Buffer.from(new Uint8Array(b).slice()));
}

function firstDifference(a: Buffer, b: Buffer): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** The ring still works: the outstanding record commits, a new one fits, and a walk finds all four intact. */
function assertRingWorks(t: ExecutionContext, f: Fixture): void {
  const { ring } = f;
  ring.submit(f.outstanding);
  const last = ring.reserve(LAST);
  t.true(last >= 0, 'a new record fits');
  ring.submit(last);
  const headers: number[] = [];
  ring.forEachRecord(ring.consumerPos(), ring.producerPos(), (_pos, hdr) => headers.push(hdr));
  // Each header is its bare length: committed, neither BUSY nor discarded.
  t.deepEqual(headers, [FIRST, SECOND, OUTSTANDING, LAST]);
  t.is(
    ring.query(BPF_RB_AVAIL_DATA),
    [FIRST, SECOND, OUTSTANDING, LAST].reduce((sum, s) => sum + recordFootprint(s), 0),
  );
  t.true(checkFiller(ring.data, f.first, FIRST, PRODUCER_ID, 0), "the first record's filler is intact");
}

const titles = new Set<string>();
for (const row of rows) {
  const title = `${row.name} throws PoolError ${row.code} and leaves the ring unchanged`;
  if (titles.has(title)) throw new Error(`duplicate row: ${title}`);
  titles.add(title);
  test(title, async (t) => {
    const f = fixture();
    const prepared = row.prepare?.(f) ?? {};
    const buffers = [f.ring.buffer, ...(prepared.buffers ?? [])];
    const before = snapshot(buffers);
    const lockStats = { ...f.ring.lockStats };
    let err: unknown;
    try {
      const result = row.call(f, prepared.value);
      if (result instanceof Promise) await result;
    } catch (e) {
      err = e;
    }
    t.true(err instanceof PoolError, `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    const e = err as PoolError;
    t.is(e.code, row.code, e.message);
    t.is(e.name, 'PoolError');
    t.true(e.message.includes(row.mentions), `the message names ${row.mentions}: ${e.message}`);
    const after = snapshot(buffers);
    for (let i = 0; i < buffers.length; i++) {
      const at = firstDifference(before[i]!, after[i]!);
      t.is(at, -1, `buffer ${i} changed at byte ${at}`);
    }
    t.deepEqual(f.ring.lockStats, lockStats);
    assertRingWorks(t, f);
  });
}

// ---- what the table's refusals are measured against: the base and the boundaries are accepted ----

test('the base options and the boundary values of each option are accepted, and change no ring byte', (t) => {
  const f = fixture();
  const before = snapshot([f.ring.buffer]);
  const accepted: Array<Record<string, unknown>> = [
    {},
    { producers: 1024 },
    { seed: -(2 ** 31) },
    { seed: 2 ** 32 - 1 },
    { lockTimeoutMs: 0 },
    { lockTimeoutMs: Infinity },
    { firstProducerId: MAX_PRODUCER_ID - 1_000_001 },
    { rateTolerance: 0 },
    { rateTolerance: 1 },
    { killEveryMs: 0.5 },
    { faults: { everyMs: 5, methods: ['throw'], points: ['between', 'in-lock'], maxKills: 0 } },
    { faults: { everyMs: 5, maxKills: Infinity } },
    { faults: { everyMs: 5, methods: ['terminate'], points: ['anywhere'] } },
    { ring: [f.ring.share(), f.ring.share()] },
    { scenario: { records: undefined, durationMs: 0.5 } },
    { scenario: { records: 1, payload: INSTRUMENTED_HEADER_BYTES } },
    { scenario: { records: 1, payload: SIZE - 16 } },
    { scenario: { records: 1, payload: 0, instrumented: false } },
    { scenario: { records: 1, payload: { min: 32, max: 32 } } },
    {
      scenario: {
        records: 1,
        payload: { weighted: Array.from({ length: 1024 }, (_, i) => ({ size: 32 + i, weight: 1 })) },
      },
    },
    { scenario: { records: 1, discardRatio: 1 } },
    { scenario: { records: 1, api: 'output', discardRatio: 0 } },
    { scenario: { records: 1, wakeup: { sampled: 1 } } },
    { scenario: { records: 1, dropBackoffUs: 0 } },
    { scenario: { records: undefined, stages: [{ durationMs: 1, target: 0 }] } },
    {
      scenario: {
        records: 1,
        producerModule: EXISTING_MODULE,
        producerOptions: { n: 1n, b: new SharedArrayBuffer(8) },
      },
    },
  ];
  for (const patch of accepted) {
    const p = pool(patch)(f, undefined);
    t.deepEqual(
      p.stats(),
      [],
      JSON.stringify(patch, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
    );
  }
  t.is(firstDifference(before[0]!, snapshot([f.ring.buffer])[0]!), -1);
  assertRingWorks(t, f);
});

test(
  'the filler helpers accept their boundaries: a range ending at data.length, ' +
    'a size under the header, a seq past 2^32',
  (t) => {
    const f = fixture();
    const { data } = f.ring;
    const end = data.length;
    writeFiller(data, end - OUTSTANDING, OUTSTANDING, PRODUCER_ID, 7);
    t.true(checkFiller(data, end - OUTSTANDING, OUTSTANDING, PRODUCER_ID, 7));
    t.is(data[end - 1], fillerByte(PRODUCER_ID, 7, OUTSTANDING - 1));
    // A payload no longer than the header has no filler: nothing is written, and it checks.
    const before = snapshot([f.ring.buffer]);
    writeFiller(data, f.outstanding, INSTRUMENTED_HEADER_BYTES, PRODUCER_ID, 1);
    writeFiller(data, end, 0, PRODUCER_ID, 1);
    t.is(firstDifference(before[0]!, snapshot([f.ring.buffer])[0]!), -1);
    t.true(checkFiller(data, end, 0, PRODUCER_ID, 1));
    // The header stores seq mod 2^32, and the filler of seq s + 2^32 is that of s: a consumer that
    // reads the 32-bit seq checks a long-running producer's records.
    writeFiller(data, f.outstanding, OUTSTANDING, PRODUCER_ID, 2 ** 32 + 3);
    t.true(checkFiller(data, f.outstanding, OUTSTANDING, PRODUCER_ID, 3));
    t.false(checkFiller(data, f.outstanding, OUTSTANDING, PRODUCER_ID, 4));
    t.is(new Prng(2 ** 32 - 1).nextU32(), new Prng(-1).nextU32());
    t.is(new Prng(-(2 ** 31)).nextU32(), new Prng(2 ** 31).nextU32());
  },
);

test(
  'run() during a run throws ERR_POOL_STATE and a bad run() after it keeps the last run as it was; ' +
    'neither touches the ring',
  async (t) => {
    const f = fixture();
    const p = new ProducerPool({ ring: f.ring.share(), producers: 1, scenario: { records: 1000 }, logLevel: 'silent' });
    // Aborted before it starts: the producer sees STOP before its first record and writes nothing
    // to the ring, so the ring's bytes stay comparable while the run is in progress.
    const abort = new AbortController();
    abort.abort();
    const before = snapshot([f.ring.buffer]);
    const running = p.run({ signal: abort.signal });
    const during = await t.throwsAsync(p.run(), { instanceOf: PoolError });
    t.is(during?.code, 'ERR_POOL_STATE');
    const result = await running;
    t.true(result.aborted);
    t.is(result.producers.length, 1, 'the refused run() started no producer');
    t.is(result.totals.attempted, 0);
    t.deepEqual(result.deaths, []);
    t.is(firstDifference(before[0]!, snapshot([f.ring.buffer])[0]!), -1);
    // After the run: a refused run() starts nothing and keeps the last run's reports.
    const stats = p.stats();
    const after = await t.throwsAsync(p.run(42 as never), { instanceOf: PoolError });
    t.is(after?.code, 'ERR_POOL_OPTIONS');
    t.deepEqual(p.stats(), stats);
    t.deepEqual(p.deathsSoFar(), []);
    t.is(firstDifference(before[0]!, snapshot([f.ring.buffer])[0]!), -1);
    assertRingWorks(t, f);
  },
);
