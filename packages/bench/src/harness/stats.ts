/** Mean and sample standard deviation, as the kernel bench reports hits and drops. */
import type { RateStats } from '../scenarios/types.js';

export function meanStd(values: readonly number[]): RateStats {
  if (values.length === 0) return { mean: 0, stddev: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return { mean, stddev: 0 };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, stddev: Math.sqrt(variance) };
}
