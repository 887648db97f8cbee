/** Mean and sample standard deviation, as the kernel bench reports hits and drops. */
import { needArray, needNumber } from '../errors.js';
import type { RateStats } from '../scenarios/types.js';

/**
 * Mean and sample standard deviation of `values`; { 0, 0 } for none (a scenario that failed before
 * its first window). NaN and the infinities are numbers and carry through the arithmetic.
 * @throws BenchError `ERR_BENCH_ARGUMENT` when `values` is not an array; BenchRangeError
 *   `ERR_BENCH_ARGUMENT` when an element is not a number.
 */
export function meanStd(values: readonly number[]): RateStats {
  needArray('values', values);
  for (let i = 0; i < values.length; i++) needNumber(`values[${i}]`, values[i]);
  if (values.length === 0) return { mean: 0, stddev: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return { mean, stddev: 0 };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, stddev: Math.sqrt(variance) };
}
