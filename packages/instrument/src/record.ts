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

import { describeThrown } from '@ringbuf/core';
import { InstrumentError, InstrumentRangeError, describe } from './errors.js';

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
 * @throws InstrumentRangeError `ERR_INSTRUMENT_FIELD` when `token` is not an integer in [1, 2^32).
 */
export function causalKind(token: number): EventKind {
  if (!isU32(token) || token === 0) {
    throw new InstrumentRangeError(
      'ERR_INSTRUMENT_FIELD',
      `token must be an integer from 1 to 2^32 - 1, got ${describe(token)}`,
    );
  }
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
 *
 * Every argument is checked before the first byte is written, so a refused call leaves the view as
 * it was (no header half written): `view` a DataView that is not detached; `offset` an integer with
 * the whole header inside the view (0 <= offset <= view.byteLength - INSTRUMENTED_HEADER_BYTES; the
 * view's bounds are all it can know of the record: the reservation's size is the caller's to keep);
 * `producerId`, `token` and `kind` u32 numbers; `seq` a non-negative safe integer, written mod 2^32
 * (a producer's counter runs past 2^32 in a long run; the verifier compares sequence numbers mod
 * 2^32); the times finite numbers.
 * @throws InstrumentError `ERR_INSTRUMENT_VIEW`; InstrumentRangeError `ERR_INSTRUMENT_OFFSET` or
 *   `ERR_INSTRUMENT_FIELD`.
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
  // One up-front check of plain comparisons, no allocation (the error is built off the hot path).
  // The offset must be an integer before the DataView sees it: its ToIndex would write NaN at 0 and
  // 1.5 at 1, and -8 + 24 is in bounds.
  if (
    !(view instanceof DataView) ||
    !isU32(offset) ||
    !isU32(producerId) ||
    !(Number.isSafeInteger(seq) && seq >= 0) ||
    !Number.isFinite(sendTimeUs) ||
    !isU32(token) ||
    !isU32(kind) ||
    !Number.isFinite(commitTimeUs)
  ) {
    throw writeRefusal(view, offset, producerId, seq, sendTimeUs, token, kind, commitTimeUs, undefined);
  }
  // The view's end: the last field goes first, so that its bounds check (offset + 32 <= byteLength)
  // is the whole header's, made before any byte is written. It also throws for a detached buffer.
  // Reading view.byteLength up front instead costs 5 to 8 ns a call on Node 20 (the getter is not
  // inlined); a try that does not throw costs nothing. The fields' order within a record does not
  // matter: the record is BUSY until the commit publishes all of it.
  try {
    view.setFloat64(offset + RECORD_COMMIT_TIME, commitTimeUs, true);
  } catch (cause) {
    throw writeRefusal(view, offset, producerId, seq, sendTimeUs, token, kind, commitTimeUs, cause);
  }
  view.setUint32(offset + RECORD_PRODUCER_ID, producerId, true);
  view.setUint32(offset + RECORD_SEQ, seq, true);
  view.setFloat64(offset + RECORD_SEND_TIME, sendTimeUs, true);
  view.setUint32(offset + RECORD_TOKEN, token, true);
  view.setUint32(offset + RECORD_KIND, kind, true);
}

/**
 * Stamps the commit time of the record whose header is at `offset`, right before its commit. The
 * same checks as {@link writeInstrumented} (the whole header inside the view, a finite time) before
 * the one write. Allocation-free.
 * @throws InstrumentError `ERR_INSTRUMENT_VIEW`; InstrumentRangeError `ERR_INSTRUMENT_OFFSET` or
 *   `ERR_INSTRUMENT_FIELD`.
 */
export function stampCommit(view: DataView, offset: number, commitTimeUs: number): void {
  if (!(view instanceof DataView) || !isU32(offset) || !Number.isFinite(commitTimeUs)) {
    throw writeRefusal(view, offset, 0, 0, 0, 0, 0, commitTimeUs, undefined);
  }
  // The field ends where the header does: its bounds check is the header's (see writeInstrumented).
  try {
    view.setFloat64(offset + RECORD_COMMIT_TIME, commitTimeUs, true);
  } catch (cause) {
    throw writeRefusal(view, offset, 0, 0, 0, 0, 0, commitTimeUs, cause);
  }
}

/**
 * Decodes the header at `offset` (allocates; on hot paths read the fields at the RECORD_* offsets
 * with the view's getters). The same view and offset checks as {@link writeInstrumented}.
 * @throws InstrumentError `ERR_INSTRUMENT_VIEW`; InstrumentRangeError `ERR_INSTRUMENT_OFFSET`.
 */
export function readInstrumented(view: DataView, offset: number): InstrumentedRecord {
  const bad = viewRefusal(view, offset);
  if (bad !== undefined) throw bad;
  return {
    producerId: view.getUint32(offset + RECORD_PRODUCER_ID, true),
    seq: view.getUint32(offset + RECORD_SEQ, true),
    sendTimeUs: view.getFloat64(offset + RECORD_SEND_TIME, true),
    token: view.getUint32(offset + RECORD_TOKEN, true),
    kind: view.getUint32(offset + RECORD_KIND, true),
    commitTimeUs: view.getFloat64(offset + RECORD_COMMIT_TIME, true),
  };
}

/** A number the u32 fields hold as it is: an integer in [0, 2^32) (no coercion: typeof first). */
function isU32(x: number): boolean {
  return typeof x === 'number' && x >>> 0 === x;
}

/** Why `view` and `offset` were refused, or undefined when they are fine (cold path). */
function viewRefusal(view: unknown, offset: unknown): InstrumentError | InstrumentRangeError | undefined {
  if (!(view instanceof DataView)) {
    return new InstrumentError('ERR_INSTRUMENT_VIEW', `view must be a DataView, got ${describe(view)}`);
  }
  let length: number;
  try {
    length = view.byteLength;
  } catch {
    return new InstrumentError(
      'ERR_INSTRUMENT_VIEW',
      'view is detached, outside its resizable buffer, or not a real DataView (its byteLength cannot be read)',
    );
  }
  if (length < INSTRUMENTED_HEADER_BYTES) {
    return new InstrumentRangeError(
      'ERR_INSTRUMENT_OFFSET',
      `a view of ${length} bytes cannot hold the ${INSTRUMENTED_HEADER_BYTES}-byte header at any offset`,
    );
  }
  if (!isU32(offset as number) || (offset as number) > length - INSTRUMENTED_HEADER_BYTES) {
    return new InstrumentRangeError(
      'ERR_INSTRUMENT_OFFSET',
      `offset must be an integer from 0 to ${length - INSTRUMENTED_HEADER_BYTES} (view ` +
        `of ${length} bytes, header of ${INSTRUMENTED_HEADER_BYTES}), got ${describe(offset)}`,
    );
  }
  return undefined;
}

/** The error for a refused write: the view or offset first, then the first bad field (cold path). */
function writeRefusal(
  view: unknown,
  offset: unknown,
  producerId: unknown,
  seq: unknown,
  sendTimeUs: unknown,
  token: unknown,
  kind: unknown,
  commitTimeUs: unknown,
  cause: unknown,
): Error {
  const bad = viewRefusal(view, offset);
  if (bad !== undefined) return bad;
  if (!isU32(producerId as number)) return field('producerId', 'an integer from 0 to 2^32 - 1', producerId);
  if (!(Number.isSafeInteger(seq) && (seq as number) >= 0))
    return field('seq', 'a non-negative safe integer (written mod 2^32)', seq);
  if (!Number.isFinite(sendTimeUs)) return field('sendTimeUs', 'a finite number', sendTimeUs);
  if (!isU32(token as number)) return field('token', 'an integer from 0 to 2^32 - 1', token);
  if (!isU32(kind as number)) return field('kind', 'an integer from 0 to 2^32 - 1', kind);
  if (!Number.isFinite(commitTimeUs)) return field('commitTimeUs', 'a finite number', commitTimeUs);
  // Every argument is right, yet the view threw (a DataView subclass's own setter, say).
  return new InstrumentError('ERR_INSTRUMENT_VIEW', `the view refused the write: ${describeThrown(cause)}`);
}

function field(name: string, rule: string, value: unknown): InstrumentRangeError {
  return new InstrumentRangeError('ERR_INSTRUMENT_FIELD', `${name} must be ${rule}, got ${describe(value)}`);
}
