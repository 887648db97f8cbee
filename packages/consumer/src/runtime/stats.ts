/**
 * Reading the runtime's stats block (stats-layout.ts) from any thread, without messaging.
 */
import type { RuntimeStats } from './protocol.js';
import { STATS_GEN_INDEX, STAT_COUNT, STAT_FIRST, STAT_NAMES } from './stats-layout.js';

/** How many times a reader retries while the worker is mid-write before taking what it has. */
const MAX_RETRIES = 1000;

/**
 * One consistent snapshot of the counters (those of one loop pass of the worker). If the worker died
 * mid-write (the generation stays odd), the last values are returned after a bounded number of
 * retries. Thread: any. Allocates the returned object.
 */
export function readStats(buffer: SharedArrayBuffer): RuntimeStats {
  const gen = new Int32Array(buffer);
  const f64 = new Float64Array(buffer);
  const values = new Float64Array(STAT_COUNT);
  for (let attempt = 0; ; attempt++) {
    // Observes the seqlock generation; pairs with the worker's closing Atomics.add.
    const g1 = Atomics.load(gen, STATS_GEN_INDEX);
    for (let i = 0; i < STAT_COUNT; i++) values[i] = f64[STAT_FIRST + i]!;
    // Re-checks that the worker did not write while we read; pairs with its opening Atomics.add.
    const g2 = Atomics.load(gen, STATS_GEN_INDEX);
    if ((g1 === g2 && (g1 & 1) === 0) || attempt >= MAX_RETRIES) break;
  }
  const out = {} as Record<(typeof STAT_NAMES)[number], number>;
  for (let i = 0; i < STAT_COUNT; i++) out[STAT_NAMES[i]!] = values[i]!;
  return out;
}
