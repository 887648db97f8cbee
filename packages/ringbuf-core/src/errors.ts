/**
 * Typed errors. Every refusal carries a stable `code`; a refused call leaves the ring unchanged.
 * A full ring is not an error: `reserve` returns -1 and `output` returns false, as the kernel returns
 * NULL and -EAGAIN.
 */

export type RingBufErrorCode =
  /** Ring size is not a power of two, not a multiple of 4096, or out of range (kernel: -EINVAL). */
  | 'ERR_RINGBUF_SIZE'
  /** Payload size is not a non-negative integer, or its record could never fit in this ring. */
  | 'ERR_RINGBUF_RECORD_SIZE'
  /** Flags other than BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP (kernel `bpf_ringbuf_output`: -EINVAL). */
  | 'ERR_RINGBUF_FLAGS'
  /** An offset that is not the payload offset of a record in this ring. */
  | 'ERR_RINGBUF_OFFSET'
  /** Submit or discard of a record that is not reserved (already committed, or never reserved). */
  | 'ERR_RINGBUF_NOT_BUSY'
  /** `attach` was given something that is not a ring's buffer, or one of another layout version. */
  | 'ERR_RINGBUF_FOREIGN_BUFFER'
  /** A header or position that cannot be right: the buffer was overwritten or truncated. */
  | 'ERR_RINGBUF_CORRUPT'
  /** A second live consumer for one ring. */
  | 'ERR_RINGBUF_CONSUMER_EXISTS'
  /**
   * A consumer call (poll, pollAsync, consume, consumeN, consumeRing, close) made from inside one of
   * the same consumer's callbacks: it would deliver the records of the walk in progress again.
   */
  | 'ERR_RINGBUF_REENTRANT'
  /** A ring created with a wake group was attached without it, or rings of different wake words were combined. */
  | 'ERR_RINGBUF_WAKE_GROUP'
  /** A producer id outside 1 .. 2^30 - 1. */
  | 'ERR_RINGBUF_PRODUCER_ID'
  /** A bad argument of another kind (a timeout, a count, a callback). */
  | 'ERR_RINGBUF_ARGUMENT'
  /** Use of a closed consumer. */
  | 'ERR_RINGBUF_CLOSED'
  /** A blocking wait on a thread that may not block (a browser's main thread): use pollAsync. */
  | 'ERR_RINGBUF_CANNOT_BLOCK'
  /** A user ring drain while another drain runs (the kernel's `bpf_user_ringbuf_drain` -EBUSY). */
  | 'ERR_RINGBUF_BUSY';

/** Errors about the state of a ring or its use. */
export class RingBufError extends Error {
  override readonly name: string = 'RingBufError';
  constructor(
    readonly code: RingBufErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Errors about a numeric argument out of its range (sizes, offsets, flags). */
export class RingBufRangeError extends RangeError {
  override readonly name: string = 'RingBufRangeError';
  constructor(
    readonly code: RingBufErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The consumer found a header that cannot be right; `position` is the logical position of it. */
export class RingBufCorruptionError extends RingBufError {
  override readonly name: string = 'RingBufCorruptionError';
  constructor(
    readonly position: number,
    message: string,
  ) {
    super('ERR_RINGBUF_CORRUPT', message);
  }
}
