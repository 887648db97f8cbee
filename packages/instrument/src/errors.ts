/**
 * Typed errors of `@ringbuf/instrument`. Every refusal carries a stable `code` and is thrown before
 * anything is written: a refused `writeInstrumented` or `stampCommit` leaves the ring's bytes as
 * they were. The same pair of classes as `@ringbuf/core`'s (this layer depends on nothing, so it
 * has its own).
 */

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
export class InstrumentError extends Error {
  override readonly name: string = 'InstrumentError';
  constructor(
    readonly code: InstrumentErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Errors about a value out of its range (offsets, field values, log levels). */
export class InstrumentRangeError extends RangeError {
  override readonly name: string = 'InstrumentRangeError';
  constructor(
    readonly code: InstrumentErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A value for an error message (BigInts and symbols do not convert in a template literal). Exported
 * as `describeValue` for the layers above, whose typed errors quote values the same way.
 */
export function describe(value: unknown): string {
  if (typeof value === 'bigint') return `the BigInt ${value}n`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : `an object (${Object.prototype.toString.call(value)})`;
}
