/**
 * The pool's accounting: the report shapes, one producer's report from its stats block, and a run's
 * totals. Pure functions of the stats blocks and the options. Thread: the pool's.
 *
 * The identity: for every incarnation, once it has finished or died (and been recovered),
 * `attempted = committed + discarded + dropped + abandoned` exactly, and `inFlight` is 0. While a
 * producer runs, `inFlight` is the record in its hands (0 or 1, a momentary value).
 */
import { clockMicros } from '@ringbuf/instrument';
import type { DeathMethod, DiePointName } from './options.js';
import type { InHandOutcome, Incarnation } from './incarnation.js';
import {
  ABANDONED_F64,
  ATTEMPTED_F64,
  COMMITTED_F64,
  DISCARDED_F64,
  DROPPED_F64,
  END_US_F64,
  LAST_SEQ_PLUS1_INDEX,
  LOCK_CONTENDED_F64,
  LOCK_TIMEOUTS_F64,
  LOCK_WAITS_F64,
  MAX_LAG_US_F64,
  START_US_F64,
  STATE_DEAD,
  STATE_FINISHED,
  STATE_INDEX,
  STATE_SETUP_FAILED,
  STATE_STARTING,
} from './stats-layout.js';

/** Accounting of one producer incarnation (one producer id). */
export interface ProducerReport {
  producerId: number;
  slot: number;
  state: 'starting' | 'running' | 'finished' | 'dead';
  /** Records attempted: committed + discarded + dropped + abandoned (+ inFlight while running). */
  attempted: number;
  committed: number;
  discarded: number;
  /** Reservations that returned -1 (ring full, or the lock not taken within lockTimeoutMs). */
  dropped: number;
  /**
   * Records this producer had in hand when it died and that it neither committed nor discarded: the
   * BUSY reservation crash recovery discarded, or an attempt cut short before its reservation
   * existed (0 or 1, and only for a dead producer). See DeathReport.inHand.
   */
  abandoned: number;
  /** attempted - committed - discarded - dropped - abandoned: 0 once finished or dead; 0 or 1 while running. */
  inFlight: number;
  /** Lock acquisitions that found the lock held, `Atomics.wait` calls on it, and acquisitions that timed out. */
  lockContended: number;
  lockWaits: number;
  lockTimeouts: number;
  /** Sequence of the last record committed, -1 if none (for a dead producer, reconciled at its recovery). */
  lastCommittedSeq: number;
  /** clockMicros() when the producer started (0 before start). */
  startUs: number;
  /** Microseconds from start to end (or to now while running; 0 before start). */
  elapsedUs: number;
  /** Open loop: records per second asked for (0 in closed loop). */
  targetRate: number;
  /** attempted / elapsed, per second. */
  achievedRate: number;
  /** Open loop: whether achievedRate is within rateTolerance of targetRate (true in closed loop). */
  rateMet: boolean;
  /** Open loop: the latest any trigger was sent after its intended time, in microseconds. */
  maxLagUs: number;
}

/** One producer death and its recovery. */
export interface DeathReport {
  producerId: number;
  slot: number;
  /**
   * 'injected' by fault injection, 'crashed' on its own (a bug, or a producer module that threw),
   * 'watchdog' terminated by `ProducerPool.terminateProducer` (a producer stuck in its record
   * in hand: `error` says why).
   */
  cause: 'injected' | 'crashed' | 'watchdog';
  method: DeathMethod | 'unknown';
  point: DiePointName | 'unknown';
  error: string;
  /**
   * Last sequence committed (-1 none), after the record in hand was reconciled (exact unless inHand is
   * 'undecided').
   */
  lastCommittedSeq: number;
  /** Whether the dead producer held the ring's lock and recovery freed it. */
  lockRecovered: boolean;
  /** Its reserved-but-unsubmitted records that recovery discarded (-1: recovery gave up on the lock). */
  recordsDiscarded: number;
  /** What became of the record it had in hand (see InHandOutcome). */
  inHand: InHandOutcome;
  /** Id of the replacement started in its slot, if any. */
  replacedBy: number | undefined;
}

/**
 * The pool's totals: the producers' counters summed (their `abandoned`: records in the hands of producers that
 * died).
 */
export type PoolTotals = Pick<
  ProducerReport,
  | 'attempted'
  | 'committed'
  | 'discarded'
  | 'dropped'
  | 'abandoned'
  | 'inFlight'
  | 'lockContended'
  | 'lockWaits'
  | 'lockTimeouts'
>;

/** The outcome of `run()`. */
export interface PoolResult {
  seed: number;
  /** Wall time of the run in milliseconds. */
  elapsedMs: number;
  /** Every producer incarnation, in start order. */
  producers: ProducerReport[];
  deaths: DeathReport[];
  totals: PoolTotals;
  /** Committed records per second over the run. */
  committedPerSecond: number;
  /** Whether the run ended on the AbortSignal. */
  aborted: boolean;
  /** Open loop only: the slowest finished producer's rate and whether every finished producer met its target. */
  rate: { targetPerProducer: number; slowestAchieved: number; met: boolean } | undefined;
}

/** What a report needs from the pool's options. */
export interface RateTarget {
  /** Records per second per producer (0: closed loop). */
  ratePerProducer: number;
  rateTolerance: number;
}

function stateName(word: number): ProducerReport['state'] {
  if (word === STATE_DEAD) return 'dead';
  if (word === STATE_FINISHED) return 'finished';
  // SETUP_FAILED: it never ran a record (its death is being handled).
  return word === STATE_STARTING || word === STATE_SETUP_FAILED ? 'starting' : 'running';
}

/** One incarnation's report: a momentary snapshot while it runs, exact once it is done. */
export function producerReport(inc: Incarnation, rate: RateTarget): ProducerReport {
  // Observes the producer's published state and last committed sequence.
  const stateWord = Atomics.load(inc.i32, STATE_INDEX);
  const lastSeqPlus1 = Atomics.load(inc.i32, LAST_SEQ_PLUS1_INDEX);
  const attempted = inc.counter(ATTEMPTED_F64);
  const committed = inc.counter(COMMITTED_F64);
  const discarded = inc.counter(DISCARDED_F64);
  const dropped = inc.counter(DROPPED_F64);
  const abandoned = inc.counter(ABANDONED_F64);
  const startUs = inc.counter(START_US_F64);
  const endUs = inc.counter(END_US_F64);
  const elapsedUs = startUs === 0 ? 0 : (endUs > 0 ? endUs : clockMicros()) - startUs;
  const achievedRate = elapsedUs > 0 ? (attempted * 1e6) / elapsedUs : 0;
  const targetRate = rate.ratePerProducer;
  return {
    producerId: inc.producerId,
    slot: inc.slot,
    state: stateName(stateWord),
    attempted,
    committed,
    discarded,
    dropped,
    abandoned,
    inFlight: attempted - committed - discarded - dropped - abandoned,
    lockContended: inc.counter(LOCK_CONTENDED_F64),
    lockWaits: inc.counter(LOCK_WAITS_F64),
    lockTimeouts: inc.counter(LOCK_TIMEOUTS_F64),
    lastCommittedSeq: lastSeqPlus1 - 1,
    startUs,
    elapsedUs,
    targetRate,
    achievedRate,
    rateMet: targetRate === 0 || Math.abs(achievedRate - targetRate) <= targetRate * rate.rateTolerance,
    maxLagUs: inc.counter(MAX_LAG_US_F64),
  };
}

/** The sum of the producers' counters. */
export function totalsOf(producers: readonly ProducerReport[]): PoolTotals {
  const totals: PoolTotals = {
    attempted: 0,
    committed: 0,
    discarded: 0,
    dropped: 0,
    abandoned: 0,
    inFlight: 0,
    lockContended: 0,
    lockWaits: 0,
    lockTimeouts: 0,
  };
  for (const p of producers) {
    totals.attempted += p.attempted;
    totals.committed += p.committed;
    totals.discarded += p.discarded;
    totals.dropped += p.dropped;
    totals.abandoned += p.abandoned;
    totals.inFlight += p.inFlight;
    totals.lockContended += p.lockContended;
    totals.lockWaits += p.lockWaits;
    totals.lockTimeouts += p.lockTimeouts;
  }
  return totals;
}

/** Open loop: the slowest finished producer's rate, and whether every finished producer met its target. */
export function rateOf(producers: readonly ProducerReport[], targetPerProducer: number): PoolResult['rate'] {
  if (targetPerProducer <= 0) return undefined;
  const finished = producers.filter((p) => p.state === 'finished');
  const slowest = finished.length === 0 ? 0 : Math.min(...finished.map((p) => p.achievedRate));
  return { targetPerProducer, slowestAchieved: slowest, met: finished.length > 0 && finished.every((p) => p.rateMet) };
}
