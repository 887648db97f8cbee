/**
 * The instrumented record format, defined once and shared by the producer pool (writer), the
 * consumer runtime's ordering verifier and latency histograms (reader), and the CLI. The layer
 * below both producers and the consumer: it depends on nothing but the platform.
 *
 * ```text
 *  byte 0        4        8                16       20       24               32
 *  ┌────────────┬────────┬────────────────┬────────┬────────┬────────────────┬────────── ─ ─
 *  │ producerId │  seq   │ sendTimeUs f64 │ token  │  kind  │commitTimeUs f64│ user bytes / filler
 *  └────────────┴────────┴────────────────┴────────┴────────┴────────────────┴────────── ─ ─
 *   u32 LE: producer that committed it; seq: per-producer sequence from 0, no gaps among committed
 *   records; sendTimeUs: clockMicros() when the record was meant to be sent (the intended time in
 *   open-loop runs, free of coordinated omission); token: causal token held when it was emitted,
 *   0 for none; kind: an event kind (see EventKind), 0 for plain load; commitTimeUs: clockMicros()
 *   right before the commit (0 when not stamped), so that a consumer can split the latency into
 *   the producer's part (sendTimeUs -> commitTimeUs) and the ring's (commitTimeUs -> handler).
 * ```
 * All fields are little-endian, read and written through the ring's DataView at the payload offset.
 */

export const RECORD_PRODUCER_ID = 0;
export const RECORD_SEQ = 4;
export const RECORD_SEND_TIME = 8;
export const RECORD_TOKEN = 16;
export const RECORD_KIND = 20;
export const RECORD_COMMIT_TIME = 24;
/** Smallest payload that carries the instrumented header. */
export const INSTRUMENTED_HEADER_BYTES = 32;

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
  /** 0 when the producer did not stamp its commit. */
  commitTimeUs: number;
}

/**
 * Writes the instrumented header at `offset` of a ring's `view`. `commitTimeUs` may be given now
 * (a closed-loop producer that commits at once) or stamped later with {@link stampCommit}; 0 means
 * not stamped. Allocation-free.
 */
export function writeInstrumented(
  view: DataView,
  offset: number,
  producerId: number,
  seq: number,
  sendTimeUs: number,
  token: number,
  kind: number,
  commitTimeUs = 0,
): void {
  view.setUint32(offset + RECORD_PRODUCER_ID, producerId, true);
  view.setUint32(offset + RECORD_SEQ, seq, true);
  view.setFloat64(offset + RECORD_SEND_TIME, sendTimeUs, true);
  view.setUint32(offset + RECORD_TOKEN, token, true);
  view.setUint32(offset + RECORD_KIND, kind, true);
  view.setFloat64(offset + RECORD_COMMIT_TIME, commitTimeUs, true);
}

/** Stamps the commit time of the record whose header is at `offset`, right before its commit. */
export function stampCommit(view: DataView, offset: number, commitTimeUs: number): void {
  view.setFloat64(offset + RECORD_COMMIT_TIME, commitTimeUs, true);
}

/** Decodes the header at `offset` (allocates; use the field readers below on hot paths). */
export function readInstrumented(view: DataView, offset: number): InstrumentedRecord {
  return {
    producerId: view.getUint32(offset + RECORD_PRODUCER_ID, true),
    seq: view.getUint32(offset + RECORD_SEQ, true),
    sendTimeUs: view.getFloat64(offset + RECORD_SEND_TIME, true),
    token: view.getUint32(offset + RECORD_TOKEN, true),
    kind: view.getUint32(offset + RECORD_KIND, true),
    commitTimeUs: view.getFloat64(offset + RECORD_COMMIT_TIME, true),
  };
}
