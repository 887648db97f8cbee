/**
 * The instrumented record format, defined once and shared by the producer pool (writer), the
 * consumer runtime's ordering verifier and latency histograms (reader), and the CLI.
 *
 * ```text
 *  byte 0        4        8                16       20       24
 *  ┌────────────┬────────┬────────────────┬────────┬────────┬─────────── ─ ─
 *  │ producerId │  seq   │ sendTimeUs f64 │ token  │  kind  │ filler (payload size - 24)
 *  └────────────┴────────┴────────────────┴────────┴────────┴─────────── ─ ─
 *   u32 LE: producer that committed it; seq: per-producer sequence from 0, no gaps among committed
 *   records; sendTimeUs: clockMicros() when the record was meant to be sent (the intended time in
 *   open-loop runs, free of coordinated omission); token: causal token held when it was emitted,
 *   0 for none; kind: an event kind (see EventKind), 0 for plain load.
 * ```
 * All fields are little-endian, read and written through the ring's DataView at the payload offset.
 */

export const RECORD_PRODUCER_ID = 0;
export const RECORD_SEQ = 4;
export const RECORD_SEND_TIME = 8;
export const RECORD_TOKEN = 16;
export const RECORD_KIND = 20;
/** Smallest payload that carries the instrumented header. */
export const INSTRUMENTED_HEADER_BYTES = 24;

/** Event kinds for causal scenarios (the seed's fork, exec, exit of one task across CPUs). */
export const EventKind = { Load: 0, Fork: 1, Exec: 2, Exit: 3 } as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** One decoded instrumented record (allocated: for verification reports and tests, not hot paths). */
export interface InstrumentedRecord {
  producerId: number;
  seq: number;
  sendTimeUs: number;
  token: number;
  kind: number;
}

/** Writes the instrumented header at `offset` of a ring's `view`. Allocation-free. */
export function writeInstrumented(
  view: DataView,
  offset: number,
  producerId: number,
  seq: number,
  sendTimeUs: number,
  token: number,
  kind: number,
): void {
  view.setUint32(offset + RECORD_PRODUCER_ID, producerId, true);
  view.setUint32(offset + RECORD_SEQ, seq, true);
  view.setFloat64(offset + RECORD_SEND_TIME, sendTimeUs, true);
  view.setUint32(offset + RECORD_TOKEN, token, true);
  view.setUint32(offset + RECORD_KIND, kind, true);
}

/** Decodes the header at `offset` (allocates; use the field readers below on hot paths). */
export function readInstrumented(view: DataView, offset: number): InstrumentedRecord {
  return {
    producerId: view.getUint32(offset + RECORD_PRODUCER_ID, true),
    seq: view.getUint32(offset + RECORD_SEQ, true),
    sendTimeUs: view.getFloat64(offset + RECORD_SEND_TIME, true),
    token: view.getUint32(offset + RECORD_TOKEN, true),
    kind: view.getUint32(offset + RECORD_KIND, true),
  };
}

/**
 * A microsecond clock comparable across the worker threads of one process.
 *
 * `performance.now()` is relative to each thread's own `timeOrigin`, and `timeOrigin` differs
 * between threads by more than the latencies we measure (about 10 us here). `process.hrtime` is
 * process-wide but allocates (a BigInt or an array). So each thread measures, once, the offset from
 * its `performance.now()` to `process.hrtime.bigint()` and adds it: one double add per read.
 */
let offsetUs = calibrate();

function calibrate(): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 64; i++) {
    const a = performance.now();
    const h = Number(process.hrtime.bigint()) / 1000;
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      offset = h - ((a + b) / 2) * 1000;
    }
  }
  return offset;
}

/**
 * Microseconds on the process-wide monotonic clock. Allocates no object of its own; on Node 20
 * `performance.now()` itself may box its result (about 16 bytes) where V8 does not inline it.
 */
export function clockMicros(): number {
  return performance.now() * 1000 + offsetUs;
}

/** Re-measure the offset (tests; a thread that wants a fresh calibration). */
export function recalibrateClock(): void {
  offsetUs = calibrate();
}
