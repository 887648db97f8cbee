/**
 * Untrusted callers of the user ring: every new call refuses bad input with a typed error and a
 * code, and leaves the shared memory byte-identical (snapshot before and after each call). The ring
 * holds a committed record and a held reservation while each row runs, so refusals are checked
 * against a ring in use.
 */
import test from 'ava';
import {
  RingBufCorruptionError,
  RingBufError,
  RingBufRangeError,
  RingBuffer,
  UserRingBuffer,
  layout,
  type RingBufErrorCode,
} from '../src/index.js';

const SIZE = 4096;

interface Fixture {
  ring: UserRingBuffer;
  other: UserRingBuffer;
  committed: number;
  held: number;
  othersHeld: number;
}

function fixture(): Fixture {
  const ring = UserRingBuffer.create({ size: SIZE, id: 1 });
  const other = UserRingBuffer.attach(ring.buffer, { id: 2 });
  const committed = ring.reserve(16);
  ring.view.setUint32(committed, 0x01020304, true);
  ring.submit(committed);
  const held = ring.reserve(24);
  const othersHeld = other.reserve(8);
  return { ring, other, committed, held, othersHeld };
}

type Row = [
  name: string,
  call: (f: Fixture) => unknown,
  code: RingBufErrorCode,
  cls: typeof RingBufError | typeof RingBufRangeError,
];

const drainCb = (): number => 0;

const rows: Row[] = [
  ['reserve(-1)', (f) => f.ring.reserve(-1), 'ERR_RINGBUF_RECORD_SIZE', RingBufRangeError],
  ['reserve(1.5)', (f) => f.ring.reserve(1.5), 'ERR_RINGBUF_RECORD_SIZE', RingBufRangeError],
  ['reserve(NaN)', (f) => f.ring.reserve(NaN), 'ERR_RINGBUF_RECORD_SIZE', RingBufRangeError],
  ["reserve('8')", (f) => f.ring.reserve('8' as unknown as number), 'ERR_RINGBUF_RECORD_SIZE', RingBufRangeError],
  ['reserve(8n)', (f) => f.ring.reserve(8n as unknown as number), 'ERR_RINGBUF_RECORD_SIZE', RingBufRangeError],
  [
    'reserve(size - 7): one byte more than fills the ring',
    (f) => f.ring.reserve(SIZE - 7),
    'ERR_RINGBUF_RECORD_SIZE',
    RingBufRangeError,
  ],
  [
    'reserve(8 | BUSY bit)',
    (f) => f.ring.reserve((8 | layout.BPF_RINGBUF_BUSY_BIT) >>> 0),
    'ERR_RINGBUF_RECORD_SIZE',
    RingBufRangeError,
  ],
  [
    'reserve(8 | DISCARD bit)',
    (f) => f.ring.reserve(8 | layout.BPF_RINGBUF_DISCARD_BIT),
    'ERR_RINGBUF_RECORD_SIZE',
    RingBufRangeError,
  ],
  ['reserve(2^32)', (f) => f.ring.reserve(2 ** 32), 'ERR_RINGBUF_RECORD_SIZE', RingBufRangeError],
  ['reserveBlocking(-1, 10)', (f) => f.ring.reserveBlocking(-1, 10), 'ERR_RINGBUF_RECORD_SIZE', RingBufRangeError],
  [
    'reserveBlocking(BUSY bit, 10)',
    (f) => f.ring.reserveBlocking(layout.BPF_RINGBUF_BUSY_BIT, 10),
    'ERR_RINGBUF_RECORD_SIZE',
    RingBufRangeError,
  ],
  ['reserveBlocking(8, -2)', (f) => f.ring.reserveBlocking(8, -2), 'ERR_RINGBUF_ARGUMENT', RingBufRangeError],
  [
    'reserveBlocking(8, -Infinity)',
    (f) => f.ring.reserveBlocking(8, -Infinity),
    'ERR_RINGBUF_ARGUMENT',
    RingBufRangeError,
  ],
  ['reserveBlocking(8, NaN)', (f) => f.ring.reserveBlocking(8, NaN), 'ERR_RINGBUF_ARGUMENT', RingBufRangeError],
  [
    "reserveBlocking(8, '10')",
    (f) => f.ring.reserveBlocking(8, '10' as unknown as number),
    'ERR_RINGBUF_ARGUMENT',
    RingBufRangeError,
  ],
  [
    'reserveBlocking(8, undefined)',
    (f) => f.ring.reserveBlocking(8, undefined as unknown as number),
    'ERR_RINGBUF_ARGUMENT',
    RingBufRangeError,
  ],
  ['submit(0): the header, not a payload', (f) => f.ring.submit(0), 'ERR_RINGBUF_OFFSET', RingBufRangeError],
  ['submit(held + 4): misaligned', (f) => f.ring.submit(f.held + 4), 'ERR_RINGBUF_OFFSET', RingBufRangeError],
  ['submit(size + 8): past the ring', (f) => f.ring.submit(SIZE + 8), 'ERR_RINGBUF_OFFSET', RingBufRangeError],
  ['submit(-8)', (f) => f.ring.submit(-8), 'ERR_RINGBUF_OFFSET', RingBufRangeError],
  ["submit('8')", (f) => f.ring.submit('8' as unknown as number), 'ERR_RINGBUF_OFFSET', RingBufRangeError],
  ['submit(committed): already committed', (f) => f.ring.submit(f.committed), 'ERR_RINGBUF_NOT_BUSY', RingBufError],
  ["submit(another handle's reservation)", (f) => f.ring.submit(f.othersHeld), 'ERR_RINGBUF_NOT_BUSY', RingBufError],
  ['submit(an offset inside a payload)', (f) => f.ring.submit(f.held + 8), 'ERR_RINGBUF_NOT_BUSY', RingBufError],
  ['submit(free space past producer_pos)', (f) => f.ring.submit(1024), 'ERR_RINGBUF_NOT_BUSY', RingBufError],
  ['discard(committed)', (f) => f.ring.discard(f.committed), 'ERR_RINGBUF_NOT_BUSY', RingBufError],
  ["discard(another handle's reservation)", (f) => f.ring.discard(f.othersHeld), 'ERR_RINGBUF_NOT_BUSY', RingBufError],
  ['discard(3)', (f) => f.ring.discard(3), 'ERR_RINGBUF_OFFSET', RingBufRangeError],
  ['drain(null)', (f) => f.ring.drain(null as unknown as () => number), 'ERR_RINGBUF_ARGUMENT', RingBufError],
  ["drain('cb')", (f) => f.ring.drain('cb' as unknown as () => number), 'ERR_RINGBUF_ARGUMENT', RingBufError],
  ['drain(cb, 4): an unknown flag', (f) => f.ring.drain(drainCb, 4), 'ERR_RINGBUF_FLAGS', RingBufRangeError],
  ['drain(cb, -1)', (f) => f.ring.drain(drainCb, -1), 'ERR_RINGBUF_FLAGS', RingBufRangeError],
  ['drain(cb, 1.5)', (f) => f.ring.drain(drainCb, 1.5), 'ERR_RINGBUF_FLAGS', RingBufRangeError],
  ["drain(cb, '0')", (f) => f.ring.drain(drainCb, '0' as unknown as number), 'ERR_RINGBUF_FLAGS', RingBufRangeError],
  ['drain(cb, 2^32 + 1)', (f) => f.ring.drain(drainCb, 2 ** 32 + 1), 'ERR_RINGBUF_FLAGS', RingBufRangeError],
  ['waitForData(-2)', (f) => f.ring.waitForData(-2), 'ERR_RINGBUF_ARGUMENT', RingBufRangeError],
  ['waitForData(NaN)', (f) => f.ring.waitForData(NaN), 'ERR_RINGBUF_ARGUMENT', RingBufRangeError],
  ['recoverProducer(own id)', (f) => f.ring.recoverProducer(1), 'ERR_RINGBUF_PRODUCER_ID', RingBufError],
  ['recoverProducer(0)', (f) => f.ring.recoverProducer(0), 'ERR_RINGBUF_PRODUCER_ID', RingBufRangeError],
  ['recoverProducer(2^30)', (f) => f.ring.recoverProducer(2 ** 30), 'ERR_RINGBUF_PRODUCER_ID', RingBufRangeError],
  [
    "recoverDrainer('x')",
    (f) => f.ring.recoverDrainer('x' as unknown as number),
    'ERR_RINGBUF_PRODUCER_ID',
    RingBufRangeError,
  ],
  [
    'attach(an ArrayBuffer)',
    () => UserRingBuffer.attach(new ArrayBuffer(8192) as unknown as SharedArrayBuffer),
    'ERR_RINGBUF_FOREIGN_BUFFER',
    RingBufError,
  ],
  [
    "attach(a kernel ring's buffer)",
    () => UserRingBuffer.attach(RingBuffer.create({ size: SIZE }).buffer),
    'ERR_RINGBUF_FOREIGN_BUFFER',
    RingBufError,
  ],
  [
    'attach(a truncated copy)',
    (f) => UserRingBuffer.attach(truncated(f.ring.buffer)),
    'ERR_RINGBUF_CORRUPT',
    RingBufError,
  ],
  [
    'attach(buffer, { id: 0 })',
    (f) => UserRingBuffer.attach(f.ring.buffer, { id: 0 }),
    'ERR_RINGBUF_PRODUCER_ID',
    RingBufRangeError,
  ],
  [
    'attach(buffer, { lockTimeoutMs: -1 })',
    (f) => UserRingBuffer.attach(f.ring.buffer, { lockTimeoutMs: -1 }),
    'ERR_RINGBUF_ARGUMENT',
    RingBufRangeError,
  ],
  [
    'attach(buffer, null options)',
    (f) => UserRingBuffer.attach(f.ring.buffer, null as unknown as object),
    'ERR_RINGBUF_ARGUMENT',
    RingBufError,
  ],
  [
    'create(null)',
    () => UserRingBuffer.create(null as unknown as { size: number }),
    'ERR_RINGBUF_ARGUMENT',
    RingBufError,
  ],
  ['create({ size: 4095 })', () => UserRingBuffer.create({ size: 4095 }), 'ERR_RINGBUF_SIZE', RingBufRangeError],
  [
    'create({ size: 3 * 4096 })',
    () => UserRingBuffer.create({ size: 3 * 4096 }),
    'ERR_RINGBUF_SIZE',
    RingBufRangeError,
  ],
  [
    "create({ size: '4096' })",
    () => UserRingBuffer.create({ size: '4096' as unknown as number }),
    'ERR_RINGBUF_SIZE',
    RingBufRangeError,
  ],
  [
    'create({ size, startPos: 4 })',
    () => UserRingBuffer.create({ size: SIZE, startPos: 4 }),
    'ERR_RINGBUF_ARGUMENT',
    RingBufRangeError,
  ],
  [
    'create({ size, id: 1.5 })',
    () => UserRingBuffer.create({ size: SIZE, id: 1.5 }),
    'ERR_RINGBUF_PRODUCER_ID',
    RingBufRangeError,
  ],
];

function truncated(buffer: SharedArrayBuffer): SharedArrayBuffer {
  const copy = new SharedArrayBuffer(buffer.byteLength - 4096);
  new Uint8Array(copy).set(new Uint8Array(buffer, 0, copy.byteLength));
  return copy;
}

for (const [name, call, code, cls] of rows) {
  test(`user ring bad input: ${name} throws ${code} and leaves the buffer byte-identical`, (t) => {
    const f = fixture();
    const before = Buffer.from(new Uint8Array(f.ring.buffer).slice());
    const err = t.throws<Error>(() => call(f), { instanceOf: cls });
    t.is((err as { code?: string } | undefined)?.code, code);
    t.true(Buffer.from(new Uint8Array(f.ring.buffer)).equals(before), 'the shared memory changed');
    // The handle still works: its held record commits and drains.
    f.ring.submit(f.held);
    f.other.discard(f.othersHeld);
    t.is(
      f.ring.drain(() => 0),
      2,
    );
  });
}

test(
  'user ring bad input: a drain while another holds the busy word throws ' +
    'ERR_RINGBUF_BUSY at once, buffer byte-identical',
  (t) => {
    const f = fixture();
    Atomics.store(new Int32Array(f.ring.buffer), layout.USER_DRAIN_BUSY_INDEX, 9);
    const before = Buffer.from(new Uint8Array(f.ring.buffer).slice());
    const err = t.throws(() => f.ring.drain(() => 0), { instanceOf: RingBufError });
    t.is(err?.code, 'ERR_RINGBUF_BUSY');
    t.true(Buffer.from(new Uint8Array(f.ring.buffer)).equals(before));
  },
);

test(
  'user ring bad input: a reserve that finds consumer_pos ahead of producer_pos ' +
    'throws corruption and leaves the lock free',
  (t) => {
    const f = fixture();
    const i32 = new Int32Array(f.ring.buffer);
    Atomics.store(i32, layout.USER_CONS_POS_INDEX, f.ring.producerPos() + 64);
    const fresh = UserRingBuffer.attach(f.ring.buffer, { id: 3 });
    Atomics.store(i32, layout.USER_CONS_POS_INDEX, f.ring.producerPos() + 64);
    const before = Buffer.from(new Uint8Array(f.ring.buffer).slice());
    t.throws(() => fresh.reserve(SIZE - 8), { instanceOf: RingBufCorruptionError });
    t.true(Buffer.from(new Uint8Array(f.ring.buffer)).equals(before));
    t.is(fresh.lockHolder(), 0);
  },
);
