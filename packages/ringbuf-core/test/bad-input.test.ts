/**
 * The bad-input table: every public entry point of @ringbuf/core with bad arguments. Each row must
 * throw the typed error class with its `code`, and leave every byte of the shared memory involved
 * (the ring's SharedArrayBuffer and any buffer handed to the call) exactly as it was.
 */
import test from 'ava';
import {
  RingBufError,
  RingBufRangeError,
  RingBuffer,
  SharedLayout,
  WakeGroup,
  announceSleep,
  cancelSleep,
  consumerSleeping,
  layout,
  posAdd,
  posDiff,
  posMax,
  posToUnsigned,
  rescueSleeper,
  sleep,
  sleepAsync,
  wakeConsumer,
  wakeNotifies,
} from '../src/index.js';

type ErrorClass = typeof RingBufError | typeof RingBufRangeError;

interface Row {
  name: string;
  /** Valid steps that set up the state the bad call needs; may return extra buffers and a value. */
  prepare?: (ring: RingBuffer) => { buffers?: SharedArrayBuffer[]; value?: unknown };
  call: (ring: RingBuffer, value: unknown) => unknown;
  error: ErrorClass;
  code: string;
}

const SIZE = 4096;
const PRODUCER_ID = 7;

/** A ring with some history: one record consumed by hand, one committed, one outstanding. */
function ringWithState(): { ring: RingBuffer; outstanding: number } {
  const ring = RingBuffer.create({ size: SIZE, producerId: PRODUCER_ID });
  ring.output(new Uint8Array(24).fill(0x11), 0);
  const i32 = new Int32Array(ring.buffer);
  // Plays the consumer: consume the first record (footprint 32).
  Atomics.store(i32, layout.CONS_POS_INDEX, 32);
  ring.output(new Uint8Array(40).fill(0xff), 0);
  const outstanding = ring.reserve(100);
  return { ring, outstanding };
}

/** A copy of a ring's buffer in a fresh SharedArrayBuffer of `bytes` bytes, then `edit` applied. */
function forged(ring: RingBuffer, bytes: number, edit?: (i32: Int32Array) => void): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(bytes);
  new Uint8Array(sab).set(new Uint8Array(ring.buffer, 0, Math.min(bytes, ring.buffer.byteLength)));
  edit?.(new Int32Array(sab));
  return sab;
}

function snapshot(buffers: SharedArrayBuffer[]): Buffer[] {
  return buffers.map((b) => Buffer.from(new Uint8Array(b).slice()));
}

function firstDifference(a: Buffer, b: Buffer): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

const rows: Row[] = [];
const R = (name: string, call: Row['call'], error: ErrorClass, code: string, prepare?: Row['prepare']): void => {
  rows.push({ name, call, error, code, ...(prepare ? { prepare } : {}) });
};

// ---- reserve / tryReserve ----
for (const [label, size] of [
  ['-1', -1],
  ['NaN', NaN],
  ['1.5', 1.5],
  ["the string '8'", '8'],
  ['4081 (more than maxPayload)', 4081],
  ['Infinity', Infinity],
  ['2^32 + 8', 2 ** 32 + 8],
  ['null', null],
  ['undefined', undefined],
  ['the BigInt 8n', 8n],
  ['a Number object', new Number(8)],
] as Array<[string, unknown]>) {
  R(`reserve(${label})`, (ring) => ring.reserve(size as number), RingBufRangeError, 'ERR_RINGBUF_RECORD_SIZE');
  R(`tryReserve(${label})`, (ring) => ring.tryReserve(size as number), RingBufRangeError, 'ERR_RINGBUF_RECORD_SIZE');
}

// ---- submit / discard: offsets that cannot be a payload offset ----
for (const [label, offset] of [
  ['-8', -8],
  ['0 (a header, not a payload)', 0],
  ['4 (misaligned)', 4],
  ['12 (misaligned)', 12],
  ['1.5', 1.5],
  ['NaN', NaN],
  ["the string '16'", '16'],
  ['size + 8 (out of range)', SIZE + 8],
  ['2^32 + 8', 2 ** 32 + 8],
  ['the BigInt 48n', 48n],
] as Array<[string, unknown]>) {
  R(`submit(${label})`, (ring) => ring.submit(offset as number), RingBufRangeError, 'ERR_RINGBUF_OFFSET');
  R(`discard(${label})`, (ring) => ring.discard(offset as number), RingBufRangeError, 'ERR_RINGBUF_OFFSET');
}

// ---- submit / discard: offsets of records that are not reserved ----
R(
  'submit of an offset never reserved (beyond producer_pos)',
  (ring) => ring.submit(2048),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
);
R(
  'discard of an offset never reserved (beyond producer_pos)',
  (ring) => ring.discard(2048),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
);
R('submit of a committed record', (ring) => ring.submit(40), RingBufError, 'ERR_RINGBUF_NOT_BUSY');
R('discard of a committed record', (ring) => ring.discard(40), RingBufError, 'ERR_RINGBUF_NOT_BUSY');
R(
  'submit of an offset inside a committed payload whose bytes look like a BUSY header',
  (ring) => ring.submit(40 + 16),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
);
R(
  'discard of an offset inside a committed payload whose bytes look like a BUSY header',
  (ring) => ring.discard(40 + 16),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
);
const reserveAnd = (first: 'submit' | 'discard') => (ring: RingBuffer) => {
  const off = ring.reserve(16);
  ring[first](off);
  return { value: off };
};
R(
  'double submit',
  (ring, off) => ring.submit(off as number),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
  reserveAnd('submit'),
);
R(
  'submit after discard',
  (ring, off) => ring.submit(off as number),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
  reserveAnd('discard'),
);
R(
  'double discard',
  (ring, off) => ring.discard(off as number),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
  reserveAnd('discard'),
);
R(
  'discard after submit',
  (ring, off) => ring.discard(off as number),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
  reserveAnd('submit'),
);
R(
  "submit of another producer's reservation",
  (ring, off) => ring.submit(off as number),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
  (ring) => ({ value: RingBuffer.attach(ring.buffer, { producerId: PRODUCER_ID + 1 }).reserve(16) }),
);

R(
  "submit of an offset inside this producer's own committed payload whose bytes mimic its BUSY header",
  (ring, off) => ring.submit(off as number),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
  (ring) => {
    // A record whose payload holds [len | BUSY, own producer id] at payload offset 16.
    const off = ring.reserve(48);
    ring.view.setUint32(off + 16, 0x80000008, true);
    ring.view.setUint32(off + 20, PRODUCER_ID, true);
    ring.submit(off);
    return { value: off + 24 };
  },
);
R(
  "submit of an offset inside this producer's own BUSY reservation whose bytes mimic its header",
  (ring, off) => ring.submit(off as number),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
  (ring) => {
    const off = ring.reserve(48);
    ring.view.setUint32(off + 16, 0x80000008, true);
    ring.view.setUint32(off + 20, PRODUCER_ID, true);
    return { value: off + 24 };
  },
);
R(
  "submit of another handle's reservation under the same producer id",
  (ring, off) => ring.submit(off as number),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
  (ring) => ({ value: RingBuffer.attach(ring.buffer, { producerId: PRODUCER_ID }).reserve(16) }),
);
for (const [label, flags] of [
  ['the BigInt 1n', 1n],
  ["the string '1'", '1'],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['null', null],
] as Array<[string, unknown]>) {
  for (const op of ['submit', 'discard'] as const) {
    R(
      `${op} of a reservation with flags ${label}`,
      (ring, off) => ring[op](off as number, flags as number),
      RingBufRangeError,
      'ERR_RINGBUF_FLAGS',
      (ring) => ({
        value: ring.reserve(16),
      }),
    );
  }
}

// ---- output ----
for (const [label, flags] of [
  ['4 (unknown flag)', 4],
  ['8 (unknown flag)', 8],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ["the string 'x'", 'x'],
  ['2^32 + 1', 2 ** 32 + 1],
  ['the BigInt 1n', 1n],
] as Array<[string, unknown]>) {
  R(
    `output with flags ${label}`,
    (ring) => ring.output(new Uint8Array(8), flags as number),
    RingBufRangeError,
    'ERR_RINGBUF_FLAGS',
  );
}
for (const [label, payload] of [
  ["the string 'abc'", 'abc'],
  ['an array of numbers', [1, 2, 3]],
  ['null', null],
  ['a Uint16Array', new Uint16Array(4)],
  ['an ArrayBuffer', new ArrayBuffer(8)],
] as Array<[string, unknown]>) {
  R(`output of ${label}`, (ring) => ring.output(payload as Uint8Array), RingBufError, 'ERR_RINGBUF_ARGUMENT');
}
R(
  'output of a Uint8Array whose buffer was transferred away (detached)',
  (ring) => {
    const payload = new Uint8Array(new ArrayBuffer(16));
    structuredClone(payload.buffer, { transfer: [payload.buffer] });
    return ring.output(payload);
  },
  RingBufError,
  'ERR_RINGBUF_ARGUMENT',
);
R(
  'output of a detached Uint8Array view over an offset',
  (ring) => {
    const buffer = new ArrayBuffer(64);
    const payload = new Uint8Array(buffer, 8, 16);
    structuredClone(buffer, { transfer: [buffer] });
    return ring.output(payload);
  },
  RingBufError,
  'ERR_RINGBUF_ARGUMENT',
);
R(
  'output of a fixed-length view of a resizable ArrayBuffer shrunk to end before it',
  (ring) => {
    const resizable = new ArrayBuffer(32, { maxByteLength: 64 });
    const payload = new Uint8Array(resizable, 8, 16);
    resizable.resize(16);
    return ring.output(payload);
  },
  RingBufError,
  'ERR_RINGBUF_ARGUMENT',
);
R(
  'output of a shrunk fixed-length view after the word copy was set up for it',
  (ring, value) => ring.output(value as Uint8Array),
  RingBufError,
  'ERR_RINGBUF_ARGUMENT',
  (ring) => {
    const resizable = new ArrayBuffer(16, { maxByteLength: 64 });
    const payload = new Uint8Array(resizable, 0, 16);
    ring.output(payload);
    ring.output(payload); // the second time sets up the word copy
    resizable.resize(8);
    return { value: payload };
  },
);
R(
  'output of a payload larger than maxPayload',
  (ring) => ring.output(new Uint8Array(4081)),
  RingBufRangeError,
  'ERR_RINGBUF_RECORD_SIZE',
);

// ---- query ----
for (const [label, field] of [
  ['the BigInt 0n', 0n],
  ["the string '0'", '0'],
  ['null', null],
  ['undefined', undefined],
  ['an object', {}],
] as Array<[string, unknown]>) {
  R(`query(${label})`, (ring) => ring.query(field as number), RingBufError, 'ERR_RINGBUF_ARGUMENT');
}

// ---- reserveBatch / batchOffset / submitBatch / discardBatch ----
for (const [label, size, count] of [
  ['size -1', -1, 4],
  ['size 8n', 8n, 4],
  ['size above maxPayload', 4081, 1],
  ['count 0', 16, 0],
  ['count -1', 16, -1],
  ['count 1.5', 16, 1.5],
  ['count NaN', 16, NaN],
  ['count 4n', 16, 4n],
  ["count '4'", 16, '4'],
  ['count more than the ring holds (256 x 16 B = 6144 B)', 16, 256],
  ['count one past what the ring holds (171 x 24 B > 4095 B)', 16, 171],
] as Array<[string, unknown, unknown]>) {
  R(
    `reserveBatch with ${label}`,
    (ring) => ring.reserveBatch(size as number, count as number),
    RingBufRangeError,
    'ERR_RINGBUF_RECORD_SIZE',
  );
}
const batchOf = (n: number) => (ring: RingBuffer) => ({ value: ring.reserveBatch(16, n) });
for (const [label, i] of [
  ['-1', -1],
  ['4 (past the batch)', 4],
  ['1.5', 1.5],
  ['1n', 1n],
  ["'1'", '1'],
] as Array<[string, unknown]>) {
  R(
    `batchOffset(first, ${label})`,
    (ring, first) => ring.batchOffset(first as number, i as number),
    RingBufRangeError,
    'ERR_RINGBUF_OFFSET',
    batchOf(4),
  );
}
R(
  "batchOffset of an offset that is not a batch's first record",
  (ring, first) => ring.batchOffset((first as number) + 24, 0),
  RingBufRangeError,
  'ERR_RINGBUF_OFFSET',
  batchOf(4),
);
R(
  'batchOffset of an offset never reserved',
  (ring) => ring.batchOffset(2048, 0),
  RingBufRangeError,
  'ERR_RINGBUF_OFFSET',
);
R('batchOffset(BigInt)', (ring) => ring.batchOffset(48n as never, 0), RingBufRangeError, 'ERR_RINGBUF_OFFSET');
for (const op of ['submitBatch', 'discardBatch'] as const) {
  R(
    `${op} of more records than the batch has`,
    (ring, first) => ring[op](first as number, 5),
    RingBufError,
    'ERR_RINGBUF_NOT_BUSY',
    batchOf(4),
  );
  R(
    `${op} from a record inside the batch past its end`,
    (ring, first) => ring[op]((first as number) + 24, 4),
    RingBufError,
    'ERR_RINGBUF_NOT_BUSY',
    batchOf(4),
  );
  R(
    `${op} of a count 0`,
    (ring, first) => ring[op](first as number, 0),
    RingBufRangeError,
    'ERR_RINGBUF_OFFSET',
    batchOf(4),
  );
  R(
    `${op} of a count 2n`,
    (ring, first) => ring[op](first as number, 2n as never),
    RingBufRangeError,
    'ERR_RINGBUF_OFFSET',
    batchOf(4),
  );
  R(
    `${op} with flags 1n`,
    (ring, first) => ring[op](first as number, 4, 1n as never),
    RingBufRangeError,
    'ERR_RINGBUF_FLAGS',
    batchOf(4),
  );
  R(`${op} of an offset never reserved`, (ring) => ring[op](2048, 1), RingBufError, 'ERR_RINGBUF_NOT_BUSY');
  R(
    `${op} at a misaligned offset`,
    (ring, first) => ring[op]((first as number) + 4, 1),
    RingBufRangeError,
    'ERR_RINGBUF_OFFSET',
    batchOf(4),
  );
  R(
    `${op} of a batch one of whose records was already submitted`,
    (ring, first) => ring[op](first as number, 4),
    RingBufError,
    'ERR_RINGBUF_NOT_BUSY',
    (ring) => {
      const first = ring.reserveBatch(16, 4);
      ring.submit(ring.batchOffset(first, 2));
      return { value: first };
    },
  );
  R(
    `${op} of another handle's batch under the same producer id`,
    (ring, first) => ring[op](first as number, 2),
    RingBufError,
    'ERR_RINGBUF_NOT_BUSY',
    (ring) => ({ value: RingBuffer.attach(ring.buffer, { producerId: PRODUCER_ID }).reserveBatch(16, 2) }),
  );
}

// ---- role-named accessors ----
const BAD_NUMBERS: Array<[string, unknown]> = [
  ['the BigInt 8n', 8n],
  ["the string '8'", '8'],
  ['null', null],
  ['undefined', undefined],
  ['an object', {}],
];
for (const [label, v] of [
  ...BAD_NUMBERS,
  ['1.5', 1.5],
  ['NaN', NaN],
  ['2^32', 2 ** 32],
  ['-2^31 - 1', -(2 ** 31) - 1],
] as Array<[string, unknown]>) {
  R(
    `publishConsumerPos(${label})`,
    (ring) => ring.publishConsumerPos(v as number),
    RingBufRangeError,
    'ERR_RINGBUF_ARGUMENT',
  );
  R(
    `publishConsumedRecords(${label})`,
    (ring) => ring.publishConsumedRecords(v as number),
    RingBufRangeError,
    'ERR_RINGBUF_ARGUMENT',
  );
}
for (const [label, v] of [
  ...BAD_NUMBERS,
  ['4 (misaligned)', 4],
  ['-8', -8],
  ['size (past the data area)', SIZE],
  ['1.5', 1.5],
] as Array<[string, unknown]>) {
  R(`headerAt(${label})`, (ring) => ring.headerAt(v as number), RingBufRangeError, 'ERR_RINGBUF_OFFSET');
  R(`headerOwnerAt(${label})`, (ring) => ring.headerOwnerAt(v as number), RingBufRangeError, 'ERR_RINGBUF_OFFSET');
}
for (const [label, v] of [...BAD_NUMBERS, ['0', 0], ['-1', -1], ['2^31', 2 ** 31], ['1.5', 1.5]] as Array<
  [string, unknown]
>) {
  R(`claimConsumer(${label})`, (ring) => ring.claimConsumer(v as number), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
  R(
    `releaseConsumer(${label})`,
    (ring) => ring.releaseConsumer(v as number),
    RingBufRangeError,
    'ERR_RINGBUF_ARGUMENT',
  );
}
for (const [label, v] of BAD_NUMBERS) {
  R(`isFramed with ${label}`, (ring) => ring.isFramed(v as number, 0, 0), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
  R(`isSpan with ${label}`, (ring) => ring.isSpan(0, v as number), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
  R(
    `forEachRecord from ${label}`,
    (ring) => ring.forEachRecord(v as number, 0, () => undefined),
    RingBufRangeError,
    'ERR_RINGBUF_ARGUMENT',
  );
  R(`posDiff(${label}, 0)`, () => posDiff(v as number, 0), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
  R(`posAdd(0, ${label})`, () => posAdd(0, v as number), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
  R(`posMax(${label}, 0)`, () => posMax(v as number, 0), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
  R(`posToUnsigned(${label})`, () => posToUnsigned(v as number), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
}
R(
  'forEachRecord without a visit function',
  (ring) => ring.forEachRecord(0, 0, 'x' as never),
  RingBufError,
  'ERR_RINGBUF_ARGUMENT',
);
// The consumer heartbeat's stamp takes a clock reading in ms (monotonicMs()), 0 .. 2^53 - 1; undefined means now.
for (const [label, v] of [
  ...BAD_NUMBERS.filter(([, x]) => x !== undefined),
  ['NaN', NaN],
  ['-1', -1],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['2^53', 2 ** 53],
  ['a Symbol', Symbol('now')],
] as Array<[string, unknown]>) {
  R(
    `stampConsumerHeartbeat(${label})`,
    (ring) => ring.stampConsumerHeartbeat(v as number),
    RingBufRangeError,
    'ERR_RINGBUF_ARGUMENT',
  );
}

// ---- wake words ----
for (const [label, w] of [
  ['null', null],
  ['an Int32Array over an ArrayBuffer', new Int32Array(256)],
  ['a Uint32Array over shared memory', new Uint32Array(new SharedArrayBuffer(1024))],
  ['a too short Int32Array over shared memory', new Int32Array(new SharedArrayBuffer(8))],
  ['a SharedArrayBuffer', new SharedArrayBuffer(1024)],
] as Array<[string, unknown]>) {
  const word = w as Int32Array;
  R(`announceSleep(${label})`, () => announceSleep(word), RingBufError, 'ERR_RINGBUF_ARGUMENT');
  R(`cancelSleep(${label})`, () => cancelSleep(word), RingBufError, 'ERR_RINGBUF_ARGUMENT');
  R(`sleep(${label}, 0)`, () => sleep(word, 0), RingBufError, 'ERR_RINGBUF_ARGUMENT');
  R(`sleepAsync(${label}, 0)`, () => sleepAsync(word, 0), RingBufError, 'ERR_RINGBUF_ARGUMENT');
  R(`consumerSleeping(${label})`, () => consumerSleeping(word), RingBufError, 'ERR_RINGBUF_ARGUMENT');
  R(`wakeConsumer(${label})`, () => wakeConsumer(word), RingBufError, 'ERR_RINGBUF_ARGUMENT');
  R(`rescueSleeper(${label})`, () => rescueSleeper(word), RingBufError, 'ERR_RINGBUF_ARGUMENT');
  R(`wakeNotifies(${label})`, () => wakeNotifies(word), RingBufError, 'ERR_RINGBUF_ARGUMENT');
}
for (const [label, ms] of [
  ['NaN', NaN],
  ['the BigInt 5n', 5n],
  ["the string '5'", '5'],
  ['null', null],
] as Array<[string, unknown]>) {
  R(`sleep(wake, ${label})`, (ring) => sleep(ring.wake, ms as number), RingBufError, 'ERR_RINGBUF_ARGUMENT');
  R(`sleepAsync(wake, ${label})`, (ring) => sleepAsync(ring.wake, ms as number), RingBufError, 'ERR_RINGBUF_ARGUMENT');
}

// ---- SharedLayout ----
for (const [label, start] of [
  ['-8', -8],
  ['4 (not 8-aligned)', 4],
  ['1.5', 1.5],
  ['8n', 8n],
  ["'8'", '8'],
] as Array<[string, unknown]>) {
  R(`new SharedLayout(${label})`, () => new SharedLayout(start as number), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
}
for (const [label, n] of [
  ['-1', -1],
  ['1.5', 1.5],
  ['2n', 2n],
  ['2^25', 2 ** 25],
  ['NaN', NaN],
] as Array<[string, unknown]>) {
  R(
    `SharedLayout int32s(${label})`,
    () => new SharedLayout().int32s(n as number),
    RingBufRangeError,
    'ERR_RINGBUF_ARGUMENT',
  );
  R(
    `SharedLayout float64s(${label})`,
    () => new SharedLayout().float64s(n as number),
    RingBufRangeError,
    'ERR_RINGBUF_ARGUMENT',
  );
}
R('SharedLayout at() backwards', () => new SharedLayout(64).at(8), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
R('SharedLayout at() off alignment', () => new SharedLayout().at(12), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');

// ---- recoverProducer ----
for (const [label, id] of [
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['2^30 (above MAX_PRODUCER_ID)', 2 ** 30],
  ["the string '3'", '3'],
  ['NaN', NaN],
  ['the BigInt 3n', 3n],
] as Array<[string, unknown]>) {
  R(
    `recoverProducer(${label})`,
    (ring) => ring.recoverProducer(id as number),
    RingBufRangeError,
    'ERR_RINGBUF_PRODUCER_ID',
  );
}
R(
  'recoverProducer of its own id',
  (ring) => ring.recoverProducer(PRODUCER_ID),
  RingBufError,
  'ERR_RINGBUF_PRODUCER_ID',
);

// ---- create ----
R('create(null)', () => RingBuffer.create(null as never), RingBufError, 'ERR_RINGBUF_ARGUMENT');
R(
  "create with overwrite 'yes'",
  () => RingBuffer.create({ size: SIZE, overwrite: 'yes' as never }),
  RingBufError,
  'ERR_RINGBUF_ARGUMENT',
);
for (const [label, startPos] of [
  ['4 (not a record boundary)', 4],
  ['2^32 - 12 (not a record boundary)', 2 ** 32 - 12],
  ['1.5', 1.5],
  ['NaN', NaN],
  ["'x'", 'x'],
  ['2^53', 2 ** 53],
] as Array<[string, unknown]>) {
  R(
    `create with startPos ${label}`,
    () => RingBuffer.create({ size: SIZE, startPos: startPos as number }),
    RingBufRangeError,
    'ERR_RINGBUF_ARGUMENT',
  );
}
R(
  'create with a wakeGroup that is not a WakeGroup',
  () => RingBuffer.create({ size: SIZE, wakeGroup: {} as never }),
  RingBufError,
  'ERR_RINGBUF_WAKE_GROUP',
);
for (const [label, id] of [
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['2^30', 2 ** 30],
  ["'x'", 'x'],
] as Array<[string, unknown]>) {
  R(
    `create with producerId ${label}`,
    () => RingBuffer.create({ size: SIZE, producerId: id as number }),
    RingBufRangeError,
    'ERR_RINGBUF_PRODUCER_ID',
  );
  R(
    `attach with producerId ${label}`,
    (ring) => RingBuffer.attach(ring.buffer, { producerId: id as number }),
    RingBufRangeError,
    'ERR_RINGBUF_PRODUCER_ID',
  );
}
for (const [label, ms] of [
  ['-1', -1],
  ['NaN', NaN],
  ["'x'", 'x'],
] as Array<[string, unknown]>) {
  R(
    `create with lockTimeoutMs ${label}`,
    () => RingBuffer.create({ size: SIZE, lockTimeoutMs: ms as number }),
    RingBufRangeError,
    'ERR_RINGBUF_ARGUMENT',
  );
  R(
    `attach with lockTimeoutMs ${label}`,
    (ring) => RingBuffer.attach(ring.buffer, { lockTimeoutMs: ms as number }),
    RingBufRangeError,
    'ERR_RINGBUF_ARGUMENT',
  );
}

// ---- attach of buffers that are not a ring's ----
const attachValue = (_ring: RingBuffer, value: unknown): RingBuffer => RingBuffer.attach(value as SharedArrayBuffer);
const withBuffer = (make: (ring: RingBuffer) => SharedArrayBuffer) => (ring: RingBuffer) => {
  const sab = make(ring);
  return { buffers: [sab], value: sab };
};
R(
  'attach of an ArrayBuffer',
  () => RingBuffer.attach(new ArrayBuffer(3 * SIZE) as never),
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
);
R('attach of null', () => RingBuffer.attach(null as never), RingBufError, 'ERR_RINGBUF_FOREIGN_BUFFER');
for (const [label, options] of [
  ['null', null],
  ['a number', 42],
  ["the string 'x'", 'x'],
  ['true', true],
] as Array<[string, unknown]>) {
  R(
    `attach(share, ${label})`,
    (ring) => RingBuffer.attach(ring.share(), options as never),
    RingBufError,
    'ERR_RINGBUF_ARGUMENT',
  );
  R(`create with options ${label}`, () => RingBuffer.create(options as never), RingBufError, 'ERR_RINGBUF_ARGUMENT');
}
R(
  'attach with producerId 7n',
  (ring) => RingBuffer.attach(ring.buffer, { producerId: 7n as never }),
  RingBufRangeError,
  'ERR_RINGBUF_PRODUCER_ID',
);
R(
  'attach with lockTimeoutMs 5n',
  (ring) => RingBuffer.attach(ring.buffer, { lockTimeoutMs: 5n as never }),
  RingBufRangeError,
  'ERR_RINGBUF_ARGUMENT',
);
R('create with size 4096n', () => RingBuffer.create({ size: 4096n as never }), RingBufRangeError, 'ERR_RINGBUF_SIZE');
R(
  'create with startPos 0n',
  () => RingBuffer.create({ size: SIZE, startPos: 0n as never }),
  RingBufRangeError,
  'ERR_RINGBUF_ARGUMENT',
);
R(
  'attach of { buffer: 42 }',
  () => RingBuffer.attach({ buffer: 42 } as never),
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
);
R(
  'attach of a 100-byte SharedArrayBuffer',
  attachValue,
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
  withBuffer(() => new SharedArrayBuffer(100)),
);
R(
  'attach of a SharedArrayBuffer of random bytes',
  attachValue,
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
  withBuffer(() => {
    const sab = new SharedArrayBuffer(3 * SIZE);
    const u8 = new Uint8Array(sab);
    let x = 0x9e3779b9;
    for (let i = 0; i < u8.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      u8[i] = x & 0xff;
    }
    return sab;
  }),
);
R(
  "attach of a zeroed SharedArrayBuffer of a ring's length",
  attachValue,
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
  withBuffer(() => new SharedArrayBuffer(3 * SIZE)),
);
R(
  'attach of a ring buffer with the wrong magic',
  attachValue,
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
  withBuffer((ring) =>
    forged(ring, ring.buffer.byteLength, (i32) => (i32[layout.MAGIC_INDEX] = layout.WAKE_GROUP_MAGIC)),
  ),
);
R(
  'attach of a ring buffer with the wrong layout version',
  attachValue,
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
  withBuffer((ring) =>
    forged(ring, ring.buffer.byteLength, (i32) => (i32[layout.VERSION_INDEX] = layout.LAYOUT_VERSION + 1)),
  ),
);
R(
  'attach of a truncated ring buffer (no mirror tail)',
  attachValue,
  RingBufError,
  'ERR_RINGBUF_CORRUPT',
  withBuffer((ring) => forged(ring, ring.buffer.byteLength - SIZE)),
);
R(
  'attach of a ring buffer whose size word is not a valid ring size',
  attachValue,
  RingBufError,
  'ERR_RINGBUF_CORRUPT',
  withBuffer((ring) => forged(ring, ring.buffer.byteLength, (i32) => (i32[layout.SIZE_INDEX] = 3000))),
);
R(
  'attach of a ring buffer whose mirror word disagrees with its size',
  attachValue,
  RingBufError,
  'ERR_RINGBUF_CORRUPT',
  withBuffer((ring) => forged(ring, ring.buffer.byteLength, (i32) => (i32[layout.MIRROR_INDEX] = 8))),
);

// ---- attach and wake groups ----
const grouped = () => {
  const group = WakeGroup.create();
  const other = RingBuffer.create({ size: SIZE, wakeGroup: group, producerId: PRODUCER_ID });
  return { buffers: [other.buffer, group.buffer], value: other };
};
R(
  'attach without the wake group the ring was created with',
  (_r, o) => RingBuffer.attach((o as RingBuffer).buffer),
  RingBufError,
  'ERR_RINGBUF_WAKE_GROUP',
  grouped,
);
R(
  'attach with another wake group',
  (_r, o) => RingBuffer.attach((o as RingBuffer).buffer, { wakeGroup: WakeGroup.create() }),
  RingBufError,
  'ERR_RINGBUF_WAKE_GROUP',
  grouped,
);
R(
  "attach with a wake buffer that is not a wake group's",
  (_r, o) => RingBuffer.attach({ buffer: (o as RingBuffer).buffer, wakeBuffer: new SharedArrayBuffer(64) }),
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
  grouped,
);
R(
  "WakeGroup.attach of a ring's buffer",
  (ring) => WakeGroup.attach(ring.buffer),
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
);
R(
  'WakeGroup.attach of a buffer of the right length with the wrong magic',
  (_r, sab) => WakeGroup.attach(sab as SharedArrayBuffer),
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
  withBuffer(() => new SharedArrayBuffer(layout.WAKE_GROUP_BYTES)),
);
R(
  'WakeGroup.attach of an ArrayBuffer',
  () => WakeGroup.attach(new ArrayBuffer(layout.WAKE_GROUP_BYTES) as never),
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
);

for (const row of rows) {
  test(`${row.name} throws ${row.error.name} ${row.code} and leaves the ring unchanged`, (t) => {
    const { ring, outstanding } = ringWithState();
    const prepared = row.prepare?.(ring) ?? {};
    const buffers = [ring.buffer, ...(prepared.buffers ?? [])];
    const before = snapshot(buffers);
    const stats = { ...ring.lockStats };
    const err = t.throws(() => row.call(ring, prepared.value), { instanceOf: row.error });
    t.is((err as { code?: string } | undefined)?.code, row.code);
    t.true(typeof err?.message === 'string' && err.message.length > 0);
    const after = snapshot(buffers);
    for (let i = 0; i < buffers.length; i++) {
      const at = firstDifference(before[i]!, after[i]!);
      t.is(at, -1, `buffer ${i} changed at byte ${at}`);
    }
    t.deepEqual(ring.lockStats, stats);
    // The ring still works: the outstanding reservation commits and a new one fits.
    ring.submit(outstanding);
    t.true(ring.reserve(8) >= 0);
  });
}
