/**
 * The instrumented record format, defined once and shared by the producer pool (writer), the
 * consumer runtime's ordering verifier and latency histograms (reader), and the CLI. The layer
 * below both producers and the consumer: it depends on nothing but the platform.
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

/**
 * The causal rule: token t (from 1) is the ((t - 1) mod 3)-th step of fork, exec, exit, so the
 * token alone says which event a causal record must carry. Producers write it, verifiers check it.
 */
export function causalKind(token: number): EventKind {
  return (EventKind.Fork + ((token - 1) % 3)) as EventKind;
}

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
