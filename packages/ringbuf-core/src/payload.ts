/**
 * The payload side of `RingBuffer.output` (ring.ts): reading an untrusted Uint8Array through the
 * typed-array intrinsics, and copying exactly its checked length into the ring. Out of line from the
 * hot path: output() asks these once per payload object (mayGrow, wordsOf) or once per record
 * (payloadLength, copyPayload).
 */
import { headerIndex } from './layout.js';

/** output() makes a words view of its payload (see copyPayload) at most once per this many calls. */
export const WORDS_VIEW_EVERY = 1024;

/**
 * The typed-array intrinsics output() reads a payload through: a subclass or an own property can
 * redefine `length` or `buffer`, but `TypedArray.prototype.set` copies the array's real length, so
 * the reservation must be sized by the same. Called through a constant getter, V8 inlines them
 * (under a nanosecond against 0.7 ns for `.length`). Taken off the prototype on purpose and always
 * called with `.call(payload)`, so each is typed with its `this` (see Getter).
 */
const TYPED_ARRAY_PROTO = Object.getPrototypeOf(Uint8Array.prototype) as object;
const TYPED_ARRAY_LENGTH = (Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, 'length') as Getter<Uint8Array, number>)
  .get!;
const TYPED_ARRAY_BUFFER = (
  Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, 'buffer') as Getter<Uint8Array, ArrayBufferLike>
).get!;
const TYPED_ARRAY_BYTE_OFFSET = (
  Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, 'byteOffset') as Getter<Uint8Array, number>
).get!;
/** `SharedArrayBuffer.prototype.growable`'s getter; undefined in an engine without growable buffers. */
const SAB_GROWABLE = (
  (Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'growable') ?? {}) as Getter<SharedArrayBuffer, boolean>
).get;

/** A property descriptor seen for its getter alone, a function called with the receiver it names. */
interface Getter<This, T> {
  get?: (this: This) => T;
}

/** The payload's real element count, or -1 when it is not a typed array at all (a Proxy, a fake). */
export function payloadLength(payload: Uint8Array): number {
  try {
    return TYPED_ARRAY_LENGTH.call(payload);
  } catch {
    return -1;
  }
}

/**
 * Whether another thread may grow the payload while it is copied: a view of a growable
 * SharedArrayBuffer (a length-tracking one grows with it). Such payloads are copied byte by byte to
 * exactly the checked length. About 15 ns, so output() asks once per payload object.
 */
export function mayGrow(payload: Uint8Array): boolean {
  const buffer = TYPED_ARRAY_BUFFER.call(payload);
  return buffer instanceof SharedArrayBuffer && SAB_GROWABLE !== undefined && SAB_GROWABLE.call(buffer);
}

/**
 * `payload` (of `length` bytes) as a view of 32-bit words, or null when it cannot be copied so: a
 * length not a multiple of 4, an unaligned byteOffset, or a view of `ringBuffer` (a word copy could
 * overlap its destination, where set() copies as memmove; an alias of the same memory received
 * through postMessage is another object, but its bytes in the record's space are free space copied
 * into itself, never another record's). Intrinsic getters, not the object's own properties, which a
 * caller can redefine.
 */
export function wordsOf(payload: Uint8Array, length: number, ringBuffer: SharedArrayBuffer): Int32Array | null {
  const buffer = TYPED_ARRAY_BUFFER.call(payload);
  const byteOffset = TYPED_ARRAY_BYTE_OFFSET.call(payload);
  if ((length & 3) !== 0 || (byteOffset & 3) !== 0 || buffer === ringBuffer || length === 0) return null;
  return new Int32Array(buffer, byteOffset, length >> 2);
}

/** A zero-length array: the target isOutOfBounds copies into. */
const EMPTY = new Uint8Array(0);

/**
 * Whether a Uint8Array that reports no elements is really unreadable: its buffer was detached, or
 * it is a fixed-length view of a resizable ArrayBuffer shrunk to end before the view (such a view
 * reads as length 0, and so does its words view, so a 0-byte record would be published). Both are
 * refused by `TypedArray.prototype.set`, which throws for an out-of-bounds source (ECMA-262
 * IsTypedArrayOutOfBounds); an empty array in bounds copies nothing. Node 20 has no
 * ArrayBuffer#detached. Asked only for length 0, before anything in shared memory changes.
 */
export function isOutOfBounds(array: Uint8Array): boolean {
  try {
    EMPTY.set(array);
    return false;
  } catch {
    return true;
  }
}

/**
 * Copies exactly `length` bytes of output()'s payload to `offset` of the ring's data area (`i32`
 * the whole buffer as words, `data` the data area): as words when `words` (the payload's words
 * view, see wordsOf) covers it, with `set` (the payload's real length, which output() checked), or
 * byte by byte when another thread may grow it meanwhile (`grows`, see mayGrow).
 */
export function copyPayload(
  i32: Int32Array,
  data: Uint8Array,
  words: Int32Array | null | undefined,
  grows: boolean,
  payload: Uint8Array,
  offset: number,
  length: number,
): void {
  if (words != null && length === words.length << 2) {
    // Word stores (payload offsets are 8-aligned): a set() call costs 20-40 ns however short.
    // The lengths equal (a view of a detached or shrunk buffer has none), the view covers exactly
    // the payload's bytes.
    const at = headerIndex(offset);
    for (let k = 0, n = length >> 2; k < n; k++) i32[at + k] = words[k]!;
    return;
  }
  if (!grows) {
    data.set(payload, offset);
    return;
  }
  for (let i = 0; i < length; i++) data[offset + i] = payload[i] ?? 0;
}
