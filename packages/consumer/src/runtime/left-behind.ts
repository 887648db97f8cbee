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
import { RingBuffer, layout, posDiff, posMax } from '@ringbuf/core';

const { BPF_RINGBUF_DISCARD_BIT, BUSY_BIT_I32, CONS_POS_INDEX, HDR_LEN_MASK, PROD_POS_INDEX, headerIndex, recordFootprint } = layout;

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
  /** Whether the walk met a header that cannot be right (the count stops there). */
  corrupt: boolean;
}

/** Walks `ring`'s headers from the consumer's position to producer_pos. Thread: any. */
export function countLeftBehind(ring: RingBuffer): LeftBehind {
  const i32 = ring.i32;
  const mask = ring.mask;
  // Observes the consumer's last store of consumer_pos.
  const consPos = Atomics.load(i32, CONS_POS_INDEX);
  // Observes the latest reservation; every header before it is framed.
  const prodPos = Atomics.load(i32, PROD_POS_INDEX);
  let pos = ring.overwrite ? posMax(consPos, ring.overwritePos()) : consPos;
  let committed = 0;
  let busy = 0;
  let committedBytes = 0;
  let corrupt = false;
  while (posDiff(prodPos, pos) > 0) {
    // Observes the record's commit (or its absence).
    const hdr = Atomics.load(i32, headerIndex(pos & mask));
    const size = hdr & HDR_LEN_MASK;
    const len = recordFootprint(size);
    if (len > posDiff(prodPos, pos)) {
      corrupt = true;
      break;
    }
    if ((hdr & BUSY_BIT_I32) !== 0) busy++;
    else if ((hdr & BPF_RINGBUF_DISCARD_BIT) === 0) {
      committed++;
      committedBytes += size;
    }
    pos = (pos + len) | 0;
  }
  return { committed, busy, total: committed + busy, committedBytes, consumerPos: consPos >>> 0, producerPos: prodPos >>> 0, corrupt };
}
