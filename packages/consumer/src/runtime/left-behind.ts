/**
 * Counting what a consumer leaves behind: every record between consumer_pos (in overwrite mode,
 * max(consumer_pos, overwrite_pos)) and producer_pos that was reserved and not discarded, split into
 * committed records (deliverable, but the consumer stopped first) and BUSY ones (reserved, never
 * committed in time; they block the committed records behind them, as the kernel's head-of-line
 * rule does). Discarded records are not counted: nobody would ever have received them.
 *
 * The walk reads only: headers and positions. It is exact when producers are quiet; while they are
 * still committing it is a snapshot taken record by record (a BUSY record may commit just after it
 * was counted BUSY). Thread: any (the consumer worker at exit, or the main thread after the worker
 * died).
 */
import { RingBufCorruptionError, layout, posMax, type RingBuffer } from '@ringbuf/core';

const { BPF_RINGBUF_DISCARD_BIT, BUSY_BIT_I32, HDR_LEN_MASK } = layout;

/** Records a consumer left in one ring. */
export interface LeftBehind {
  /** Committed, not discarded, not delivered. */
  committed: number;
  /** Reserved and still BUSY. */
  busy: number;
  /** committed + busy. */
  total: number;
  /** Payload bytes of the committed ones. */
  committedBytes: number;
  /** consumer_pos and producer_pos when counted (unsigned). */
  consumerPos: number;
  producerPos: number;
  /** Whether the walk met positions or a header that cannot be right (the count stops there). */
  corrupt: boolean;
}

/** The counts of one walk (a fresh object per count, so that the visitor below allocates nothing more). */
class Tally {
  committed = 0;
  busy = 0;
  committedBytes = 0;
  readonly visit = (_pos: number, hdr: number): void => {
    if ((hdr & BUSY_BIT_I32) !== 0) this.busy++;
    else if ((hdr & BPF_RINGBUF_DISCARD_BIT) === 0) {
      this.committed++;
      this.committedBytes += hdr & HDR_LEN_MASK;
    }
  };
}

/**
 * Walks `ring`'s headers from the consumer's position to producer_pos with core's forEachRecord
 * (every header checked as the consumer's walk checks it). Thread: any.
 */
export function countLeftBehind(ring: RingBuffer): LeftBehind {
  const consPos = ring.consumerPos();
  const prodPos = ring.producerPos();
  const from = ring.overwrite ? posMax(consPos, ring.overwritePos()) : consPos;
  const tally = new Tally();
  let corrupt = false;
  try {
    ring.forEachRecord(from, prodPos, tally.visit);
  } catch (err) {
    if (!(err instanceof RingBufCorruptionError)) throw err;
    corrupt = true;
  }
  const { committed, busy, committedBytes } = tally;
  return {
    committed,
    busy,
    total: committed + busy,
    committedBytes,
    consumerPos: consPos >>> 0,
    producerPos: prodPos >>> 0,
    corrupt,
  };
}
