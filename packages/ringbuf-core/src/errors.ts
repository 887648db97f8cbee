/**
 * Typed errors. Every refusal carries a stable `code`; a refused call leaves the ring unchanged.
 * A full ring is not an error: `reserve` returns -1 and `output` returns false, as the kernel returns
 * NULL and -EAGAIN.
 *
 * This module is also the one source of every `@ringbuf` package's typed errors (every package
 * depends on this one): {@link CodedError} is their base class, {@link CodedRangeError} its
 * RangeError face (so a range error stays `instanceof RangeError`, as the built-in checks throw,
 * and is `instanceof CodedError` too), and {@link describeValue} quotes a bad value in a message.
 */

/** The options of every typed error: the error (or failure) that caused it, as `Error`'s `cause`. */
export interface CodedErrorOptions {
  readonly cause?: unknown;
}

/** `instanceof` as the language defines it, for {@link CodedError}'s own `Symbol.hasInstance`. */
const ordinaryHasInstance = Function.prototype[Symbol.hasInstance];

/**
 * The base class of every typed error of every `@ringbuf` package: a stable `code` of the package's
 * code union `C`, a `name` (the class name), an optional `cause`. `err instanceof CodedError` holds
 * for every one of them, {@link CodedRangeError}'s subclasses included: catch it to handle any
 * refusal of the library by `code`.
 */
export abstract class CodedError<C extends string = string> extends Error {
  /** A stable machine-readable code (`ERR_<PACKAGE>_<WHAT>`); the message is for people. */
  readonly code: C;
  /**
   * @param code the stable code
   * @param message what was refused and why (quote bad values with `describeValue`)
   * @param options `cause`: the error that caused this one
   */
  constructor(code: C, message: string, options?: CodedErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /**
   * Ordinary `instanceof` (the prototype chain), except that `CodedError` itself also answers for
   * `CodedRangeError`'s instances (a class can extend only one of Error and RangeError). Typed
   * on `this` so that `err instanceof SomeSubclass` narrows to that subclass, codes included.
   */
  static override [Symbol.hasInstance]<T>(this: abstract new (...args: never[]) => T, value: unknown): value is T {
    return (
      ordinaryHasInstance.call(this, value) ||
      ((this as unknown) === CodedError && ordinaryHasInstance.call(CodedRangeError, value))
    );
  }
}

/**
 * The RangeError face of {@link CodedError} (a number out of its range, or not a number where one
 * is due): the same `code`, `name` and `cause`, and `instanceof RangeError`; `instanceof
 * CodedError` holds for it too.
 */
export abstract class CodedRangeError<C extends string = string> extends RangeError {
  /** A stable machine-readable code (`ERR_<PACKAGE>_<WHAT>`); the message is for people. */
  readonly code: C;
  /**
   * @param code the stable code
   * @param message what was refused and why (quote bad values with `describeValue`)
   * @param options `cause`: the error that caused this one
   */
  constructor(code: C, message: string, options?: CodedErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A value as an error message quotes it: a BigInt, a Symbol or an object without a `toString` does
 * not throw (a template literal would), an object's own `toString`/`valueOf` is never called, and 1n,
 * 1 and '1' read differently. The one quoting that every package's typed errors share
 * (`@ringbuf/instrument` re-exports it under the same name).
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'bigint') return `the BigInt ${value}n`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : `an object (${Object.prototype.toString.call(value)})`;
}

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
export class RingBufError extends CodedError<RingBufErrorCode> {
  override readonly name: string = 'RingBufError';
}

/** Errors about a numeric argument out of its range (sizes, offsets, flags). */
export class RingBufRangeError extends CodedRangeError<RingBufErrorCode> {
  override readonly name: string = 'RingBufRangeError';
}

/**
 * Anything thrown (by a user's callback, handler or module) as one line of an error message:
 * `Name: message` for an Error, else {@link describeValue}'s quoting (a thrown value may be anything:
 * `String()` would throw on an object without a prototype).
 */
export function describeThrown(thrown: unknown): string {
  return thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : describeValue(thrown);
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
