/**
 * The bad-input table of @ringbuf/instrument: every export that takes arguments, with bad ones. Each
 * row must throw the typed error class with its `code` and leave every byte of the ring's
 * SharedArrayBuffer (and of the scratch ArrayBuffer some rows write into) exactly as it was: no
 * header half written. The record functions are called on a record reserved in a real ring whose
 * bytes are a known pattern, so that any byte written would show.
 */
import test from 'ava';
import { RingBuffer } from '@ringbuf/core';
import {
  INSTRUMENTED_HEADER_BYTES,
  InstrumentError,
  InstrumentRangeError,
  causalKind,
  clockMicros,
  readInstrumented,
  stampCommit,
  writeInstrumented,
} from '../src/index.js';
import { childLogger, threadLogger } from '../src/log.js';

type ErrorClass = typeof InstrumentError | typeof InstrumentRangeError;

interface Fixture {
  ring: RingBuffer;
  /** Payload offset of a reserved 48-byte record (header and 16 filler bytes), filled with 0xa5. */
  off: number;
  /** A scratch ArrayBuffer (as a producer's `output` path writes into) and a view of all of it. */
  scratch: ArrayBuffer;
  scratchView: DataView;
}

interface Row {
  name: string;
  call: (f: Fixture) => unknown;
  error: ErrorClass;
  code: string;
}

const SIZE = 4096;
const PRODUCER_ID = 3;
const RECORD = 48;

function fixture(): Fixture {
  const ring = RingBuffer.create({ size: SIZE, producerId: PRODUCER_ID });
  // Some history: one committed record before the one in hand.
  ring.output(new Uint8Array(24).fill(0x11), 0);
  const off = ring.reserve(RECORD);
  ring.data.fill(0xa5, off, off + RECORD);
  // The view's last 64 bytes (the mirror tail) too, so that a header straddling the end would show.
  ring.data.fill(0x5a, ring.view.byteLength - 64);
  const scratch = new ArrayBuffer(40);
  new Uint8Array(scratch).fill(0x3c);
  return { ring, off, scratch, scratchView: new DataView(scratch) };
}

function snapshot(f: Fixture): Buffer[] {
  return [Buffer.from(new Uint8Array(f.ring.buffer).slice()), Buffer.from(new Uint8Array(f.scratch).slice())];
}

function firstDifference(a: Buffer, b: Buffer): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

function detachedView(): DataView {
  const buffer = new ArrayBuffer(64);
  const view = new DataView(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return view;
}

const rows: Row[] = [];
const R = (name: string, call: Row['call'], error: ErrorClass, code: string): void => {
  rows.push({ name, call, error, code });
};

// Valid field values, distinct from the fill patterns, for the rows that test the view or offset.
const write = (view: DataView, offset: number): void =>
  writeInstrumented(view, offset, PRODUCER_ID, 9, 1234.5, 7, 2, 1240.25);

// ---- views that are not a live DataView ----
const BAD_VIEWS: Array<[string, (f: Fixture) => unknown]> = [
  ['null', () => null],
  ['undefined', () => undefined],
  ['a plain object', () => ({})],
  ["the ring's Uint8Array (data)", (f) => f.ring.data],
  ["the ring's SharedArrayBuffer itself", (f) => f.ring.buffer],
  ['an ArrayBuffer', (f) => f.scratch],
  [
    'a look-alike object with setUint32, setFloat64 and byteLength',
    () => ({ byteLength: 1 << 16, setUint32() {}, setFloat64() {}, getUint32: () => 0, getFloat64: () => 0 }),
  ],
  ['an object that only inherits from DataView.prototype', () => Object.create(DataView.prototype) as unknown],
  ['a DataView whose ArrayBuffer was transferred away (detached)', () => detachedView()],
];
for (const [label, make] of BAD_VIEWS) {
  R(`writeInstrumented on ${label}`, (f) => write(make(f) as DataView, 0), InstrumentError, 'ERR_INSTRUMENT_VIEW');
  R(
    `stampCommit on ${label}`,
    (f) => stampCommit(make(f) as DataView, 0, 99.5),
    InstrumentError,
    'ERR_INSTRUMENT_VIEW',
  );
  R(
    `readInstrumented of ${label}`,
    (f) => readInstrumented(make(f) as DataView, 0),
    InstrumentError,
    'ERR_INSTRUMENT_VIEW',
  );
}

/** A real DataView over the ring whose setters throw an object without a prototype (String() of it throws). */
class RefusingView extends DataView<ArrayBufferLike> {
  override setUint32(): void {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point: a thrown value that is no Error
    throw Object.create(null) as object;
  }
  override setFloat64(): void {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point: a thrown value that is no Error
    throw Object.create(null) as object;
  }
}
const refusing = (f: Fixture): DataView =>
  new RefusingView(f.ring.buffer, f.ring.view.byteOffset, f.ring.view.byteLength);
R(
  'writeInstrumented on a DataView whose setters throw an object without a prototype',
  (f) => write(refusing(f), f.off),
  InstrumentError,
  'ERR_INSTRUMENT_VIEW',
);
R(
  'stampCommit on a DataView whose setters throw an object without a prototype',
  (f) => stampCommit(refusing(f), f.off, 99.5),
  InstrumentError,
  'ERR_INSTRUMENT_VIEW',
);

// ---- offsets that do not put the whole header inside the ring's view ----
const BAD_OFFSETS: Array<[string, (f: Fixture) => unknown]> = [
  ['-1', () => -1],
  ['-8', () => -8],
  ['-24 (its commit time would land at 0, in bounds)', () => -24],
  ['1.5', () => 1.5],
  ['the record offset + 0.5', (f) => f.off + 0.5],
  ['NaN (a DataView writes NaN at 0)', () => NaN],
  ['Infinity', () => Infinity],
  ['-Infinity', () => -Infinity],
  ['the BigInt of the record offset', (f) => BigInt(f.off)],
  ['the string of the record offset', (f) => String(f.off)],
  ['a Number object of the record offset', (f) => new Number(f.off)],
  ['null', () => null],
  ['undefined', () => undefined],
  ['2^32 + the record offset (wraps to it as a u32)', (f) => 2 ** 32 + f.off],
  ['2^53', () => 2 ** 53],
  [
    'byteLength - 16 (producer id, seq and send time fit; token, kind and commit time do not)',
    (f) => f.ring.view.byteLength - 16,
  ],
  ['byteLength - 31 (all but the last byte fit)', (f) => f.ring.view.byteLength - 31],
  ['byteLength (the end of the view)', (f) => f.ring.view.byteLength],
  ['byteLength + 8 (beyond the view)', (f) => f.ring.view.byteLength + 8],
];
for (const [label, make] of BAD_OFFSETS) {
  R(
    `writeInstrumented at offset ${label}`,
    (f) => write(f.ring.view, make(f) as number),
    InstrumentRangeError,
    'ERR_INSTRUMENT_OFFSET',
  );
  R(
    `stampCommit at offset ${label}`,
    (f) => stampCommit(f.ring.view, make(f) as number, 99.5),
    InstrumentRangeError,
    'ERR_INSTRUMENT_OFFSET',
  );
  R(
    `readInstrumented at offset ${label}`,
    (f) => readInstrumented(f.ring.view, make(f) as number),
    InstrumentRangeError,
    'ERR_INSTRUMENT_OFFSET',
  );
}
// Views shorter than the header: a DataView over part of the ring's shared memory, and the scratch
// buffer (40 bytes) at offsets whose header would run past its end.
const shortRingView = (f: Fixture): DataView => new DataView(f.ring.buffer, f.ring.view.byteOffset + f.off, 16);
R(
  'writeInstrumented on a 16-byte DataView over the record in the ring',
  (f) => write(shortRingView(f), 0),
  InstrumentRangeError,
  'ERR_INSTRUMENT_OFFSET',
);
R(
  'stampCommit on a 16-byte DataView over the record in the ring',
  (f) => stampCommit(shortRingView(f), 0, 99.5),
  InstrumentRangeError,
  'ERR_INSTRUMENT_OFFSET',
);
R(
  'readInstrumented of a 16-byte DataView over the record in the ring',
  (f) => readInstrumented(shortRingView(f), 0),
  InstrumentRangeError,
  'ERR_INSTRUMENT_OFFSET',
);
for (const offset of [9, 16, 40]) {
  R(
    `writeInstrumented at ${offset} of a 40-byte scratch view`,
    (f) => write(f.scratchView, offset),
    InstrumentRangeError,
    'ERR_INSTRUMENT_OFFSET',
  );
  R(
    `stampCommit at ${offset} of a 40-byte scratch view`,
    (f) => stampCommit(f.scratchView, offset, 99.5),
    InstrumentRangeError,
    'ERR_INSTRUMENT_OFFSET',
  );
}

// ---- field values the format cannot hold (at the reserved record: a valid view and offset) ----
const U32_BAD: Array<[string, unknown]> = [
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['2^32', 2 ** 32],
  ['the BigInt 5n', 5n],
  ["the string '5'", '5'],
  ['null', null],
  ['undefined', undefined],
  ['a Number object', new Number(5)],
];
const TIME_BAD: Array<[string, unknown]> = [
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['the BigInt 5n', 5n],
  ["the string '5'", '5'],
  ['null', null],
  ['a Number object', new Number(5)],
];
type Fields = [producerId: number, seq: number, sendTimeUs: number, token: number, kind: number, commitTimeUs: number];
const VALID: Fields = [PRODUCER_ID, 9, 1234.5, 7, 2, 1240.25];
const withField = (i: number, v: unknown): Fields => VALID.map((x, j) => (j === i ? v : x)) as Fields;
const writeFields = (f: Fixture, fields: Fields): void => writeInstrumented(f.ring.view, f.off, ...fields);
for (const [label, v] of U32_BAD) {
  R(
    `writeInstrumented with producerId ${label}`,
    (f) => writeFields(f, withField(0, v)),
    InstrumentRangeError,
    'ERR_INSTRUMENT_FIELD',
  );
  R(
    `writeInstrumented with token ${label}`,
    (f) => writeFields(f, withField(3, v)),
    InstrumentRangeError,
    'ERR_INSTRUMENT_FIELD',
  );
  R(
    `writeInstrumented with kind ${label}`,
    (f) => writeFields(f, withField(4, v)),
    InstrumentRangeError,
    'ERR_INSTRUMENT_FIELD',
  );
}
for (const [label, v] of [
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['2^53 (not a safe integer)', 2 ** 53],
  ['the BigInt 9n', 9n],
  ["the string '9'", '9'],
  ['null', null],
  ['undefined', undefined],
] as Array<[string, unknown]>) {
  R(
    `writeInstrumented with seq ${label}`,
    (f) => writeFields(f, withField(1, v)),
    InstrumentRangeError,
    'ERR_INSTRUMENT_FIELD',
  );
}
for (const [label, v] of [...TIME_BAD, ['undefined', undefined]] as Array<[string, unknown]>) {
  R(
    `writeInstrumented with sendTimeUs ${label}`,
    (f) => writeFields(f, withField(2, v)),
    InstrumentRangeError,
    'ERR_INSTRUMENT_FIELD',
  );
}
for (const [label, v] of TIME_BAD) {
  R(
    `writeInstrumented with commitTimeUs ${label}`,
    (f) => writeFields(f, withField(5, v)),
    InstrumentRangeError,
    'ERR_INSTRUMENT_FIELD',
  );
  R(
    `stampCommit with commitTimeUs ${label}`,
    (f) => stampCommit(f.ring.view, f.off, v as number),
    InstrumentRangeError,
    'ERR_INSTRUMENT_FIELD',
  );
}
R(
  'stampCommit with commitTimeUs undefined',
  (f) => stampCommit(f.ring.view, f.off, undefined as never),
  InstrumentRangeError,
  'ERR_INSTRUMENT_FIELD',
);
R(
  'writeInstrumented with a bad kind at an offset straddling the view end (the view is reported first)',
  (f) => writeInstrumented(f.ring.view, f.ring.view.byteLength - 16, 1, 1, 1, 1, -1),
  InstrumentRangeError,
  'ERR_INSTRUMENT_OFFSET',
);

// ---- causalKind: tokens run from 1 to 2^32 - 1 (0 is "no token") ----
for (const [label, v] of [['0 (no token)', 0], ...U32_BAD] as Array<[string, unknown]>) {
  R(`causalKind(${label})`, () => causalKind(v as number), InstrumentRangeError, 'ERR_INSTRUMENT_FIELD');
}

// ---- the log entry: levels and bindings ----
const BAD_LEVELS: Array<[string, unknown]> = [
  ["'loud'", 'loud'],
  ["'WARN' (levels are lower case)", 'WARN'],
  ["'' (empty)", ''],
  ['40 (a pino level number)', 40],
  ['null', null],
  ['the BigInt 1n', 1n],
  ['a Symbol', Symbol('warn')],
  ['an object', { level: 'warn' }],
];
for (const [label, level] of BAD_LEVELS) {
  R(`threadLogger(${label})`, () => threadLogger(level as never), InstrumentRangeError, 'ERR_INSTRUMENT_LOG_LEVEL');
  R(
    `childLogger({ component }, ${label})`,
    () => childLogger({ component: 'bad-input' }, level as never),
    InstrumentRangeError,
    'ERR_INSTRUMENT_LOG_LEVEL',
  );
}
for (const [label, bindings] of [
  ['null', null],
  ['undefined', undefined],
  ["the string 'component'", 'component'],
  ['42', 42],
  ['the BigInt 1n', 1n],
  ['an empty array', []],
  ["['component']", ['component']],
  ['a function', () => 0],
  ["{ level: 'debug' } (pino drops it silently)", { level: 'debug' }],
  ['{ time: 1 } (a second time field)', { time: 1 }],
  ['{ pid: 1 }', { pid: 1 }],
  ["{ thread: 'x' } (a second thread field)", { component: 'c', thread: 'x' }],
  ["{ name: 'n' }", { name: 'n' }],
  ["{ msg: 'm' }", { msg: 'm' }],
] as Array<[string, unknown]>) {
  R(`childLogger(${label})`, () => childLogger(bindings as never), InstrumentError, 'ERR_INSTRUMENT_LOG_BINDINGS');
}

for (const row of rows) {
  test(`${row.name} throws ${row.error.name} ${row.code} and leaves the ring unchanged`, (t) => {
    const f = fixture();
    const level = threadLogger().level;
    const before = snapshot(f);
    let err: unknown;
    try {
      row.call(f);
    } catch (e) {
      err = e;
    }
    // The bytes first: a half-written header shows here whatever the call threw.
    const after = snapshot(f);
    for (let i = 0; i < before.length; i++) {
      const at = firstDifference(before[i]!, after[i]!);
      t.is(at, -1, `${i === 0 ? "the ring's SharedArrayBuffer" : 'the scratch buffer'} changed at byte ${at}`);
    }
    t.true(err instanceof row.error, `threw ${String(err)}, not a ${row.error.name}`);
    t.is((err as { code?: string }).code, row.code);
    t.true((err as Error).message.length > 0);
    t.is(threadLogger().level, level, "the thread logger's level is unchanged");
    // The record in hand still takes its header, reads back, and commits; the ring takes another.
    writeInstrumented(f.ring.view, f.off, PRODUCER_ID, 1, 10.5, 0, 0);
    stampCommit(f.ring.view, f.off, 11.5);
    t.deepEqual(readInstrumented(f.ring.view, f.off), {
      producerId: PRODUCER_ID,
      seq: 1,
      sendTimeUs: 10.5,
      token: 0,
      kind: 0,
      commitTimeUs: 11.5,
    });
    f.ring.submit(f.off);
    t.true(f.ring.reserve(8) >= 0);
  });
}

test('the checks are not tighter than the format: the edge values are written', (t) => {
  const f = fixture();
  const view = f.ring.view;
  const last = view.byteLength - INSTRUMENTED_HEADER_BYTES;
  // The last offset whose header ends at the view's end, and the largest value of each field.
  writeInstrumented(view, last, 0xffffffff, Number.MAX_SAFE_INTEGER, -1.5, 0xffffffff, 0xffffffff, Number.MAX_VALUE);
  t.deepEqual(readInstrumented(view, last), {
    producerId: 0xffffffff,
    seq: Number.MAX_SAFE_INTEGER % 2 ** 32,
    sendTimeUs: -1.5,
    token: 0xffffffff,
    kind: 0xffffffff,
    commitTimeUs: Number.MAX_VALUE,
  });
  stampCommit(view, last, 0);
  t.is(readInstrumented(view, last).commitTimeUs, 0);
  // seq is a counter written mod 2^32 (the verifier compares mod 2^32); -0 is offset 0.
  writeInstrumented(f.scratchView, -0, 1, 2 ** 32 + 5, 0, 0, 0);
  t.is(readInstrumented(f.scratchView, 0).seq, 5);
  t.deepEqual(
    [...new Uint8Array(f.scratch, INSTRUMENTED_HEADER_BYTES)],
    new Array(8).fill(0x3c),
    'nothing past the header',
  );
  t.is(readInstrumented(f.scratchView, 8).producerId, 0, 'a 40-byte view reads a header at 8 (its last offset)');
  // The commit time defaults to 0 ("not stamped") when left out or given as undefined.
  writeInstrumented(view, f.off, 1, 0, 5, 0, 0, undefined);
  t.is(readInstrumented(view, f.off).commitTimeUs, 0);
  t.is(causalKind(0xffffffff), causalKind(0xffffffff - 3));
  t.is(childLogger({ component: 'bad-input', thread2: 'ok' }, 'error').level, 'error');
});

test('clockMicros takes no arguments: any given are ignored, nothing to refuse', (t) => {
  const f = fixture();
  const before = snapshot(f);
  const a = clockMicros();
  // Called as an untrusted caller might: with arguments it does not take.
  const anyArgs: (...args: unknown[]) => number = clockMicros;
  const b = anyArgs(1n, 'x', null, f.ring.view);
  t.true(Number.isFinite(b) && b >= a, `${b} after ${a}`);
  t.true(clockMicros() >= b);
  const after = snapshot(f);
  t.is(firstDifference(before[0]!, after[0]!), -1);
});
