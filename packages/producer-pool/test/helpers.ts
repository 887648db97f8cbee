import { RingBuffer } from '@ringbuf/core';
import { checkDeliveries, startDrain, type DrainReport, type PoolResult, type VerifyProblem } from '../src/index.js';

/** A seed from $SEED or a fresh random one; tests print it with t.log so a failure can be replayed. */
export function testSeed(): number {
  const env = process.env['SEED'];
  return env !== undefined ? Number(env) : (Math.random() * 0x7fffffff) | 0;
}

/** Checks a drained run end to end and returns every problem found (empty when all is well). */
export function endToEndProblems(result: PoolResult, report: DrainReport): VerifyProblem[] {
  return checkDeliveries(result, new Map(report.delivered), report.summary?.problems ?? []);
}

export { RingBuffer, startDrain };
export type { DrainReport } from '../src/index.js';
