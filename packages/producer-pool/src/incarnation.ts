/**
 * One producer incarnation (one producer id) as the pool's thread sees it: its stats block, its
 * lifecycle flags, and the reconciliation of the record it had in hand when it died.
 *
 * The main thread writes a block's PRODUCER_ID and SLOT before start, DIE_* through the kill
 * scheduler, and, once the producer's thread runs none of its code (STATE = DEAD), the outcome of
 * the record in hand (see stats-layout.ts, "Exact accounting of the record in hand").
 * Thread: the pool's.
 */
import type { DeathMethod, DiePointName } from './options.js';
import {
  ABANDONED_F64,
  ATTEMPTED_F64,
  COMMITTED_F64,
  DISCARDED_F64,
  DROPPED_F64,
  LAST_SEQ_PLUS1_INDEX,
  PRODUCER_ID_INDEX,
  SLOT_INDEX,
  STAGE_COMMITTING,
  STAGE_DISCARDING,
  STAGE_IDLE,
  STAGE_INDEX,
  STAGE_OUTPUTTING,
  STATE_DEAD,
  STATE_INDEX,
  STATS_BYTES,
} from './stats-layout.js';

/**
 * What became of the record a producer had in hand when it died:
 * - `'none'`: nothing in hand (between records);
 * - `'committed'`: its submit (or output) had committed it; counted committed;
 * - `'discarded'`: its own discard had run; counted discarded;
 * - `'abandoned'`: recovery discarded its BUSY reservation, or it died before the reservation
 *   existed; counted abandoned;
 * - `'undecided'`: it died inside `output()` and recovery found nothing BUSY: either output
 *   committed it or it never reserved, which the pool cannot tell apart (the consumer can). Counted
 *   abandoned; at most one such record per death.
 */
export type InHandOutcome = 'none' | 'committed' | 'discarded' | 'abandoned' | 'undecided';

/** A kill the scheduler asked for. */
export interface KillRequest {
  method: DeathMethod;
  point: DiePointName;
}

export class Incarnation {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly stats: SharedArrayBuffer;
  /** The task settled (finished) or the thread died; no code of this producer runs any more. */
  settled = false;
  /** Set when the kill scheduler chose this producer. */
  kill: KillRequest | undefined = undefined;
  /** Set when a watchdog terminated this producer (`ProducerPool.terminateProducer`): why. */
  watchdog: string | undefined = undefined;

  constructor(
    readonly producerId: number,
    readonly slot: number,
    /** Its place in the pool's start-order list of incarnations. */
    readonly order: number,
  ) {
    this.stats = new SharedArrayBuffer(STATS_BYTES);
    this.i32 = new Int32Array(this.stats);
    this.f64 = new Float64Array(this.stats);
    // Plain stores: the task's structured clone publishes them to the producer.
    this.i32[PRODUCER_ID_INDEX] = producerId;
    this.i32[SLOT_INDEX] = slot;
  }

  /** A Float64 counter of the block (indices come from stats-layout.ts and are always in range). */
  counter(index: number): number {
    return this.f64[index] ?? 0;
  }

  /** Records attempted so far (a momentary value while the producer runs). */
  attempted(): number {
    return this.counter(ATTEMPTED_F64);
  }

  /**
   * The producer's thread is gone: publish DEAD (from here on only this thread writes for that
   * producer id). Call before recovery.
   */
  markDead(): void {
    this.settled = true;
    // Publishes DEAD; stats() readers observe it.
    Atomics.store(this.i32, STATE_INDEX, STATE_DEAD);
  }

  /**
   * Moves the record in hand at death to exactly one counter, given what crash recovery discarded
   * of this producer's records (-1: recovery gave up, the record stays BUSY). Afterwards
   * `attempted = committed + discarded + dropped + abandoned` holds exactly. Call once, after
   * {@link markDead} and recovery.
   */
  settleRecordInHand(recordsDiscarded: number): InHandOutcome {
    const f = this.f64;
    const inHand =
      this.attempted() - this.counter(COMMITTED_F64) - this.counter(DISCARDED_F64) - this.counter(DROPPED_F64);
    let outcome: InHandOutcome = 'none';
    if (inHand > 0) {
      // Plain read: the dead producer's last STAGE store, ordered before its exit by the thread's end.
      const stage = this.i32[STAGE_INDEX];
      this.i32[STAGE_INDEX] = STAGE_IDLE;
      if (recordsDiscarded !== 0) outcome = 'abandoned';
      else if (stage === STAGE_COMMITTING) outcome = 'committed';
      else if (stage === STAGE_DISCARDING) outcome = 'discarded';
      else if (stage === STAGE_OUTPUTTING) outcome = 'undecided';
      else outcome = 'abandoned';
      if (outcome === 'committed') f[COMMITTED_F64] = this.counter(COMMITTED_F64) + 1;
      else if (outcome === 'discarded') f[DISCARDED_F64] = this.counter(DISCARDED_F64) + 1;
      else f[ABANDONED_F64] = this.counter(ABANDONED_F64) + 1;
    }
    // The sequence numbers only committed records: seq + 1 of the last one is the committed count.
    // Derived here rather than patched, since the producer may have died between storing its
    // COMMITTED counter and its LAST_SEQ_PLUS1 (in hand: none, yet the word one behind) as well as
    // before either. Publishes the reconciled last sequence; crash reports read it.
    Atomics.store(this.i32, LAST_SEQ_PLUS1_INDEX, this.counter(COMMITTED_F64));
    return outcome;
  }
}
