/**
 * Typed errors of `@ringbuf/instrument`. Every refusal carries a stable `code` and is thrown before
 * anything is written: a refused `writeInstrumented` or `stampCommit` leaves the ring's bytes as
 * they were. The same pair as `@ringbuf/core`'s: both extend core's {@link CodedError} base (a
 * range error through its RangeError face, {@link CodedRangeError}).
 */
import { CodedError, CodedRangeError } from '@ringbuf/core';

export type InstrumentErrorCode =
  /** The view is not a DataView, or its buffer is detached (or shrunk out from under it). */
  | 'ERR_INSTRUMENT_VIEW'
  /** The offset is not an integer with the whole 32-byte header inside the view. */
  | 'ERR_INSTRUMENT_OFFSET'
  /** A field value the format cannot hold (see the field list in record.ts). */
  | 'ERR_INSTRUMENT_FIELD'
  /** A log level that is not one of LOG_LEVELS. */
  | 'ERR_INSTRUMENT_LOG_LEVEL'
  /** Logger bindings that are not a plain object, or that bind a field the logger writes itself. */
  | 'ERR_INSTRUMENT_LOG_BINDINGS';

/** Errors about what an argument is (not a DataView, not an object). */
export class InstrumentError extends CodedError<InstrumentErrorCode> {
  override readonly name: string = 'InstrumentError';
}

/** Errors about a value out of its range (offsets, field values, log levels). */
export class InstrumentRangeError extends CodedRangeError<InstrumentErrorCode> {
  override readonly name: string = 'InstrumentRangeError';
}

/**
 * A value for an error message (BigInts and symbols do not convert in a template literal): core's
 * `describeValue`, the one quoting every package's typed errors share. Exported as `describeValue`
 * for the layers above.
 */
export { describeValue as describe } from '@ringbuf/core';
