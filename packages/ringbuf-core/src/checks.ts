/**
 * The argument checks both rings' handles share (ring.ts, user-ring.ts): sizes, handle ids, lock
 * timeouts, positions, tokens, flags and the options objects of `create`/`attach`. Callers are
 * untrusted (docs/DESIGN.md §12): each checker takes the value as `unknown` where its declared type
 * would already exclude the bad value, and throws a typed error with a `code` before anything in
 * shared memory changes. None of them is on a reserve/submit/output path.
 */
import { describeValue, RingBufError, RingBufRangeError } from './errors.js';
import { BPF_RINGBUF_HDR_SZ, CONTROL_BYTES, LAYOUT_VERSION, MAX_RING_SIZE, PAGE_SIZE, mirrorBytes } from './layout.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from './lock.js';

/**
 * Largest handle id (a kernel ring's producer id, a user ring's id): ids are stored shifted left by
 * one in the lock word.
 */
export const MAX_HANDLE_ID = 2 ** 30 - 1;

/** Whether `size` is a valid data area size: power of two, multiple of 4096, at most 2^30. */
export function isValidRingSize(size: number): boolean {
  return Number.isInteger(size) && size >= PAGE_SIZE && size <= MAX_RING_SIZE && (size & (size - 1)) === 0;
}

/** Refuses a data area size `isValidRingSize` refuses; `what` names the ring ("ring", "user ring"). */
export function checkRingSize(size: unknown, what: string): asserts size is number {
  if (typeof size !== 'number' || !isValidRingSize(size)) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_SIZE',
      `${what} size must be a power of two, a multiple of ${PAGE_SIZE} and at most ${MAX_RING_SIZE}, ` +
        `got ${describeValue(size)}`,
    );
  }
}

/** Refuses `create`'s options when they are not an object: `message` says what was expected. */
export function checkCreateOptions(options: unknown, message: string): asserts options is object {
  if (options === null || typeof options !== 'object') throw new RingBufError('ERR_RINGBUF_ARGUMENT', message);
}

/** Refuses `attach`'s options when they are not an object; `method` names it ("RingBuffer.attach"). */
export function checkAttachOptions(options: unknown, method: string): asserts options is object {
  if (options === null || typeof options !== 'object') {
    throw new RingBufError(
      'ERR_RINGBUF_ARGUMENT',
      `${method} options must be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
}

/**
 * The SharedArrayBuffer `attach` was given, directly or as `{ buffer }`, at least CONTROL_BYTES long;
 * else throws ERR_RINGBUF_FOREIGN_BUFFER. `what` names the ring ("ring", "user ring"), `notBuffer` is
 * the message for a source that is no buffer at all.
 */
export function attachedBuffer(source: unknown, what: string, notBuffer: string): SharedArrayBuffer {
  const buffer: unknown =
    source instanceof SharedArrayBuffer
      ? source
      : source !== null && typeof source === 'object'
        ? (source as { buffer?: unknown }).buffer
        : undefined;
  if (!(buffer instanceof SharedArrayBuffer)) throw new RingBufError('ERR_RINGBUF_FOREIGN_BUFFER', notBuffer);
  if (buffer.byteLength < CONTROL_BYTES) {
    throw new RingBufError(
      'ERR_RINGBUF_FOREIGN_BUFFER',
      `buffer of ${buffer.byteLength} bytes is too small to be a ${what}`,
    );
  }
  return buffer;
}

/** Where one kind of ring keeps, in its control area, what `attach` checks (layout.ts's indexes). */
export interface ControlArea {
  /** The ring's name in messages: "ring", "user ring". */
  readonly what: string;
  /** The magic word's index, and the magic `create` stores there last. */
  readonly magicIndex: number;
  readonly magic: number;
  /** The indexes of the layout version, the data area size and the mirror tail's size. */
  readonly versionIndex: number;
  readonly sizeIndex: number;
  readonly mirrorIndex: number;
  /** The buffer bytes a ring of `size` data bytes takes. */
  bufferBytes(size: number): number;
}

/**
 * `buffer` as words, once its control area says it is a ring of this kind whose sizes add up.
 * @throws RingBufError `ERR_RINGBUF_FOREIGN_BUFFER` for a bad magic or layout version,
 *   `ERR_RINGBUF_CORRUPT` for a size, mirror or buffer length that do not agree (truncated).
 */
export function checkControlArea(buffer: SharedArrayBuffer, area: ControlArea): Int32Array {
  const i32 = new Int32Array(buffer);
  const what = area.what;
  // Observes create()'s final store, so the rest of the control area is initialised.
  if (Atomics.load(i32, area.magicIndex) !== area.magic) {
    throw new RingBufError('ERR_RINGBUF_FOREIGN_BUFFER', `not a ${what} buffer (bad magic)`);
  }
  const version = i32[area.versionIndex];
  if (version !== LAYOUT_VERSION) {
    throw new RingBufError(
      'ERR_RINGBUF_FOREIGN_BUFFER',
      `${what} layout version ${version} is not the supported version ${LAYOUT_VERSION}`,
    );
  }
  const size = i32[area.sizeIndex]!;
  const mirror = i32[area.mirrorIndex];
  if (!isValidRingSize(size) || mirror !== mirrorBytes(size) || buffer.byteLength !== area.bufferBytes(size)) {
    throw new RingBufError(
      'ERR_RINGBUF_CORRUPT',
      `${what} control area says size ${size}, mirror ${mirror}, but the buffer has ${buffer.byteLength} bytes`,
    );
  }
  return i32;
}

/**
 * The default id of a handle: Node's `threadId + 1` (distinct for every thread of the process,
 * reached without a `node:` import so that core loads in browsers too), else, where there is no
 * `process` (a browser's workers), a per-realm counter from a random base, so that two realms collide
 * only by chance (pass the id when threads may crash and must be told apart).
 */
function defaultHandleId(): number {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const workerThreads = proc?.getBuiltinModule?.('node:worker_threads') as { threadId?: number } | undefined;
  if (typeof workerThreads?.threadId === 'number') return workerThreads.threadId + 1;
  realmNextId = realmNextId >= MAX_HANDLE_ID ? 1 : realmNextId + 1;
  return realmNextId;
}
let realmNextId = 1 + Math.floor(Math.random() * (MAX_HANDLE_ID - 1));

/**
 * A handle id: `id`, or the default when it is undefined. `what` starts the error message
 * ("producerId", "a user ring handle id").
 * @throws RingBufRangeError `ERR_RINGBUF_PRODUCER_ID` unless an integer from 1 to MAX_HANDLE_ID.
 */
export function checkHandleId(id: number | undefined, what: string): number {
  if (id === undefined) return defaultHandleId();
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > MAX_HANDLE_ID) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_PRODUCER_ID',
      `${what} must be an integer from 1 to ${MAX_HANDLE_ID}, got ${describeValue(id)}`,
    );
  }
  return id;
}

/** A lock timeout in ms: `ms`, or DEFAULT_LOCK_TIMEOUT_MS when undefined; non-negative or Infinity. */
export function checkLockTimeout(ms: number | undefined): number {
  if (ms === undefined) return DEFAULT_LOCK_TIMEOUT_MS;
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_ARGUMENT',
      `lockTimeoutMs must be a non-negative number or Infinity, got ${describeValue(ms)}`,
    );
  }
  return ms;
}

/** A logical position or counter: a 32-bit integer (signed or unsigned form). */
export function checkPosition(pos: number, what: string): void {
  if (typeof pos !== 'number' || !Number.isInteger(pos) || pos < -(2 ** 31) || pos > 2 ** 32 - 1)
    throw positionError(what);
}

/** The error for positions that are not 32-bit integers; `what` names the method. */
export function positionError(what: string): RingBufRangeError {
  return new RingBufRangeError('ERR_RINGBUF_ARGUMENT', `${what} needs 32-bit integer positions`);
}

/** A consumer token: a non-zero 31-bit integer. */
export function checkToken(token: number): void {
  if (typeof token !== 'number' || !Number.isInteger(token) || token < 1 || token > 0x7fffffff) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_ARGUMENT',
      `a consumer token must be an integer from 1 to 2^31 - 1, got ${describeValue(token)}`,
    );
  }
}

/** Submit/discard flags: any 32-bit unsigned integer; bits other than the wakeup flags are ignored. */
export function checkCommitFlags(flags: number): void {
  if (typeof flags !== 'number' || flags >>> 0 !== flags) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_FLAGS',
      `submit/discard flags must be a 32-bit unsigned integer, got ${describeValue(flags)}`,
    );
  }
}

/**
 * Whether `offset` can be a record's payload offset in a ring of `size` data bytes: an integer,
 * 8-aligned, from 8 to `size`. Allocation-free; a few comparisons, inlined where submit checks it.
 */
export function isPayloadOffset(offset: number, size: number): boolean {
  return (
    typeof offset === 'number' &&
    offset >>> 0 === offset &&
    (offset & 7) === 0 &&
    offset >= BPF_RINGBUF_HDR_SZ &&
    offset <= size
  );
}

/** The error for an offset `isPayloadOffset` refused in a `what` ("ring", "user ring") of `size` bytes. */
export function payloadOffsetError(offset: number, size: number, what: string): RingBufRangeError {
  return new RingBufRangeError(
    'ERR_RINGBUF_OFFSET',
    `${describeValue(offset)} is not a record payload offset in a ${size}-byte ${what} (8-aligned, 8..${size})`,
  );
}

/** The error for `flags` that are not a combination of the two wakeup flags; `what` names the call. */
export function wakeupFlagsError(what: string, flags: number): RingBufRangeError {
  return new RingBufRangeError(
    'ERR_RINGBUF_FLAGS',
    `${what} flags must be a combination of BPF_RB_NO_WAKEUP (1) and BPF_RB_FORCE_WAKEUP (2), ` +
      `got ${describeValue(flags)}`,
  );
}
