/**
 * Typed errors of `@ringbuf/bench`, and the argument checks its exports share. The lab's functions
 * are public (the `ringbuf` command is one caller of them): each checks its arguments before it
 * starts a thread, creates shared memory or writes a file, and refuses bad ones with a `code`.
 * The same pair of classes as `@ringbuf/core`'s, on its {@link CodedError} base: a number out of its
 * range (or not a number where one is due) is a {@link BenchRangeError}, anything else a
 * {@link BenchError}.
 */
import { CodedError, CodedRangeError, describeValue } from '@ringbuf/core';

export type BenchErrorCode =
  /** runBench options (or defaultTiming's `quick`) that are not what they must be. */
  | 'ERR_BENCH_OPTIONS'
  /** A scenario group that does not exist, or no group at all for a run. */
  | 'ERR_BENCH_SCENARIO'
  /** A sample or round count of the wake measurements outside its range. */
  | 'ERR_BENCH_COUNT'
  /** Something that is not a bench report (writeReport, renderText, renderMarkdown). */
  | 'ERR_BENCH_REPORT'
  /** An output directory that cannot be one: not a path, or a path through or onto a file. */
  | 'ERR_BENCH_OUT_DIR'
  /** A vega-lite spec that does not compile or render. */
  | 'ERR_BENCH_CHART_SPEC'
  /** A bad argument of another kind (the statistics, formatters, tables and chart helpers). */
  | 'ERR_BENCH_ARGUMENT';

/** Errors about what an argument is (not an object, not a report, not a known group). */
export class BenchError extends CodedError<BenchErrorCode> {
  override readonly name: string = 'BenchError';
}

/** Errors about a number out of its range (counts, durations, sizes), or not a number. */
export class BenchRangeError extends CodedRangeError<BenchErrorCode> {
  override readonly name: string = 'BenchRangeError';
}

/** A value for an error message (BigInts and symbols do not convert in a template literal). */
export const describe: (value: unknown) => string = describeValue;

/** An object that is not null, an array or a function. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as an object, else a BenchError with `code`. */
export function needRecord(
  what: string,
  value: unknown,
  code: BenchErrorCode = 'ERR_BENCH_ARGUMENT',
): Record<string, unknown> {
  if (!isRecord(value)) throw new BenchError(code, `${what} must be an object, got ${describe(value)}`);
  return value;
}

/** `value` as an array, else a BenchError with `code`. */
export function needArray(
  what: string,
  value: unknown,
  code: BenchErrorCode = 'ERR_BENCH_ARGUMENT',
): readonly unknown[] {
  if (!Array.isArray(value)) throw new BenchError(code, `${what} must be an array, got ${describe(value)}`);
  return value;
}

/** `value` as a string, else a BenchError with `code`. */
export function needString(what: string, value: unknown, code: BenchErrorCode = 'ERR_BENCH_ARGUMENT'): string {
  if (typeof value !== 'string') throw new BenchError(code, `${what} must be a string, got ${describe(value)}`);
  return value;
}

/** `value` as a number (any: NaN and the infinities too; no coercion), else a BenchRangeError. */
export function needNumber(what: string, value: unknown, code: BenchErrorCode = 'ERR_BENCH_ARGUMENT'): number {
  if (typeof value !== 'number') throw new BenchRangeError(code, `${what} must be a number, got ${describe(value)}`);
  return value;
}

/** `value` as a finite number in [min, max], else a BenchRangeError. */
export function needFinite(
  what: string,
  value: unknown,
  min: number,
  max: number,
  code: BenchErrorCode = 'ERR_BENCH_ARGUMENT',
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new BenchRangeError(code, `${what} must be a finite number from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

/** `value` as an integer in [min, max], else a BenchRangeError. */
export function needInteger(
  what: string,
  value: unknown,
  min: number,
  max: number,
  code: BenchErrorCode = 'ERR_BENCH_ARGUMENT',
): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new BenchRangeError(code, `${what} must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value as number;
}
