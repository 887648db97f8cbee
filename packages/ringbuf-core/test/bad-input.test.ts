/**
 * The bad-input table: every public entry point of @ringbuf/core with bad arguments. Each row must
 * throw the typed error class with its `code`, and leave every byte of the shared memory involved
 * (the ring's SharedArrayBuffer and any buffer handed to the call) exactly as it was.
 */
import test from 'ava';
import { RingBufError, RingBufRangeError, RingBuffer, WakeGroup, layout } from '../src/index.js';

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
] as Array<[string, unknown]>) {
  R(`submit(${label})`, (ring) => ring.submit(offset as number), RingBufRangeError, 'ERR_RINGBUF_OFFSET');
  R(`discard(${label})`, (ring) => ring.discard(offset as number), RingBufRangeError, 'ERR_RINGBUF_OFFSET');
}

// ---- submit / discard: offsets of records that are not reserved ----
R('submit of an offset never reserved (beyond producer_pos)', (ring) => ring.submit(2048), RingBufError, 'ERR_RINGBUF_NOT_BUSY');
R('discard of an offset never reserved (beyond producer_pos)', (ring) => ring.discard(2048), RingBufError, 'ERR_RINGBUF_NOT_BUSY');
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
R('double submit', (ring, off) => ring.submit(off as number), RingBufError, 'ERR_RINGBUF_NOT_BUSY', reserveAnd('submit'));
R('submit after discard', (ring, off) => ring.submit(off as number), RingBufError, 'ERR_RINGBUF_NOT_BUSY', reserveAnd('discard'));
R('double discard', (ring, off) => ring.discard(off as number), RingBufError, 'ERR_RINGBUF_NOT_BUSY', reserveAnd('discard'));
R('discard after submit', (ring, off) => ring.discard(off as number), RingBufError, 'ERR_RINGBUF_NOT_BUSY', reserveAnd('submit'));
R(
  "submit of another producer's reservation",
  (ring, off) => ring.submit(off as number),
  RingBufError,
  'ERR_RINGBUF_NOT_BUSY',
  (ring) => ({ value: RingBuffer.attach(ring.buffer, { producerId: PRODUCER_ID + 1 }).reserve(16) }),
);

// ---- output ----
for (const [label, flags] of [
  ['4 (unknown flag)', 4],
  ['8 (unknown flag)', 8],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ["the string 'x'", 'x'],
  ['2^32 + 1', 2 ** 32 + 1],
] as Array<[string, unknown]>) {
  R(`output with flags ${label}`, (ring) => ring.output(new Uint8Array(8), flags as number), RingBufRangeError, 'ERR_RINGBUF_FLAGS');
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
R('output of a payload larger than maxPayload', (ring) => ring.output(new Uint8Array(4081)), RingBufRangeError, 'ERR_RINGBUF_RECORD_SIZE');

// ---- recoverProducer ----
for (const [label, id] of [
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['2^30 (above MAX_PRODUCER_ID)', 2 ** 30],
  ["the string '3'", '3'],
  ['NaN', NaN],
] as Array<[string, unknown]>) {
  R(`recoverProducer(${label})`, (ring) => ring.recoverProducer(id as number), RingBufRangeError, 'ERR_RINGBUF_PRODUCER_ID');
}
R('recoverProducer of its own id', (ring) => ring.recoverProducer(PRODUCER_ID), RingBufError, 'ERR_RINGBUF_PRODUCER_ID');

// ---- create ----
R('create(null)', () => RingBuffer.create(null as never), RingBufError, 'ERR_RINGBUF_ARGUMENT');
R("create with overwrite 'yes'", () => RingBuffer.create({ size: SIZE, overwrite: 'yes' as never }), RingBufError, 'ERR_RINGBUF_ARGUMENT');
for (const [label, startPos] of [
  ['1.5', 1.5],
  ['NaN', NaN],
  ["'x'", 'x'],
  ['2^53', 2 ** 53],
] as Array<[string, unknown]>) {
  R(`create with startPos ${label}`, () => RingBuffer.create({ size: SIZE, startPos: startPos as number }), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
}
R('create with a wakeGroup that is not a WakeGroup', () => RingBuffer.create({ size: SIZE, wakeGroup: {} as never }), RingBufError, 'ERR_RINGBUF_WAKE_GROUP');
for (const [label, id] of [
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['2^30', 2 ** 30],
  ["'x'", 'x'],
] as Array<[string, unknown]>) {
  R(`create with producerId ${label}`, () => RingBuffer.create({ size: SIZE, producerId: id as number }), RingBufRangeError, 'ERR_RINGBUF_PRODUCER_ID');
  R(`attach with producerId ${label}`, (ring) => RingBuffer.attach(ring.buffer, { producerId: id as number }), RingBufRangeError, 'ERR_RINGBUF_PRODUCER_ID');
}
for (const [label, ms] of [
  ['-1', -1],
  ['NaN', NaN],
  ["'x'", 'x'],
] as Array<[string, unknown]>) {
  R(`create with lockTimeoutMs ${label}`, () => RingBuffer.create({ size: SIZE, lockTimeoutMs: ms as number }), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
  R(`attach with lockTimeoutMs ${label}`, (ring) => RingBuffer.attach(ring.buffer, { lockTimeoutMs: ms as number }), RingBufRangeError, 'ERR_RINGBUF_ARGUMENT');
}

// ---- attach of buffers that are not a ring's ----
const attachValue = (_ring: RingBuffer, value: unknown): RingBuffer => RingBuffer.attach(value as SharedArrayBuffer);
const withBuffer = (make: (ring: RingBuffer) => SharedArrayBuffer) => (ring: RingBuffer) => {
  const sab = make(ring);
  return { buffers: [sab], value: sab };
};
R('attach of an ArrayBuffer', () => RingBuffer.attach(new ArrayBuffer(3 * SIZE) as never), RingBufError, 'ERR_RINGBUF_FOREIGN_BUFFER');
R('attach of null', () => RingBuffer.attach(null as never), RingBufError, 'ERR_RINGBUF_FOREIGN_BUFFER');
R('attach of { buffer: 42 }', () => RingBuffer.attach({ buffer: 42 } as never), RingBufError, 'ERR_RINGBUF_FOREIGN_BUFFER');
R('attach of a 100-byte SharedArrayBuffer', attachValue, RingBufError, 'ERR_RINGBUF_FOREIGN_BUFFER', withBuffer(() => new SharedArrayBuffer(100)));
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
R('attach of a zeroed SharedArrayBuffer of a ring\'s length', attachValue, RingBufError, 'ERR_RINGBUF_FOREIGN_BUFFER', withBuffer(() => new SharedArrayBuffer(3 * SIZE)));
R(
  'attach of a ring buffer with the wrong magic',
  attachValue,
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
  withBuffer((ring) => forged(ring, ring.buffer.byteLength, (i32) => (i32[layout.MAGIC_INDEX] = layout.WAKE_GROUP_MAGIC))),
);
R(
  'attach of a ring buffer with the wrong layout version',
  attachValue,
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
  withBuffer((ring) => forged(ring, ring.buffer.byteLength, (i32) => (i32[layout.VERSION_INDEX] = layout.LAYOUT_VERSION + 1))),
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
R('attach without the wake group the ring was created with', (_r, o) => RingBuffer.attach((o as RingBuffer).buffer), RingBufError, 'ERR_RINGBUF_WAKE_GROUP', grouped);
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
R('WakeGroup.attach of a ring\'s buffer', (ring) => WakeGroup.attach(ring.buffer), RingBufError, 'ERR_RINGBUF_FOREIGN_BUFFER');
R(
  'WakeGroup.attach of a buffer of the right length with the wrong magic',
  (_r, sab) => WakeGroup.attach(sab as SharedArrayBuffer),
  RingBufError,
  'ERR_RINGBUF_FOREIGN_BUFFER',
  withBuffer(() => new SharedArrayBuffer(layout.WAKE_GROUP_BYTES)),
);
R('WakeGroup.attach of an ArrayBuffer', () => WakeGroup.attach(new ArrayBuffer(layout.WAKE_GROUP_BYTES) as never), RingBufError, 'ERR_RINGBUF_FOREIGN_BUFFER');

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
