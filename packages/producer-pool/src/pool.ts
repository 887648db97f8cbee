/**
 * ProducerPool: N producer workers on piscina, each standing in for a CPU with its own producer id,
 * with exact accounting, open/closed loop load, causal scenarios, fault injection and crash
 * recovery (see docs/DESIGN.md section 10 for the protocol and its proof sketch).
 *
 * Who writes what in the pool's shared memory (stats-layout.ts): each producer its own stats block
 * (counters, THREAD_ID, STATE up to FINISHED/PARKED, LAST_SEQ_PLUS1); this thread a block's
 * PRODUCER_ID/SLOT before start, DIE_* (fault requests) and STATE = DEAD once the producer's thread
 * runs none of its code any more; this thread the control block's STOP; the token holder TOKEN.
 *
 * Thread: a ProducerPool is used from the thread that created it (normally the main thread).
 */
import { clockMicros } from '@ringbuf/instrument';
import type { RingBuffer } from '@ringbuf/core';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { threadLogger, type LogLevel } from '@ringbuf/instrument/log';
import {
  PoolError,
  fillPoolOptions,
  type DeathMethod,
  type DiePointName,
  type FilledPoolOptions,
  type ProducerPoolOptions,
} from './options.js';
import type { ProducerOutcome, ProducerTask } from './producer-task.js';
import { Prng, deriveSeed } from './prng.js';
import {
  ATTEMPTED_F64,
  COMMITTED_F64,
  CONTROL_BYTES,
  DIE_AFTER_RESERVE,
  DIE_AFTER_SUBMIT,
  DIE_BETWEEN,
  DIE_IN_LOCK,
  DIE_METHOD_INDEX,
  DIE_POINT_INDEX,
  DISCARDED_F64,
  DROPPED_F64,
  END_US_F64,
  FIRST_TOKEN,
  LAST_SEQ_PLUS1_INDEX,
  LOCK_CONTENDED_F64,
  LOCK_TIMEOUTS_F64,
  LOCK_WAITS_F64,
  MAX_LAG_US_F64,
  METHOD_EXIT,
  METHOD_TERMINATE,
  METHOD_THROW,
  METHOD_UNCAUGHT,
  PRODUCER_ID_INDEX,
  SLOT_INDEX,
  START_US_F64,
  STATE_DEAD,
  STATE_FINISHED,
  STATE_INDEX,
  STATE_PARKED,
  STATE_RUNNING,
  STATS_BYTES,
  STOP_INDEX,
  STOP_SLEEPERS_INDEX,
  THREAD_ID_INDEX,
  TOKEN_INDEX,
  TOKEN_WAITERS_INDEX,
} from './stats-layout.js';

/** Accounting of one producer incarnation (one producer id). */
export interface ProducerReport {
  producerId: number;
  slot: number;
  state: 'starting' | 'running' | 'finished' | 'dead';
  /** Records attempted: committed + discarded + dropped (+ inFlight for a dead producer). */
  attempted: number;
  committed: number;
  discarded: number;
  /** Reservations that returned -1 (ring full, or the lock not taken within lockTimeoutMs). */
  dropped: number;
  /** attempted - committed - discarded - dropped: 0 for a live or finished producer; 0 or 1 for a dead one (the record in hand). */
  inFlight: number;
  /** Lock acquisitions that found the lock held, `Atomics.wait` calls on it, and acquisitions that timed out. */
  lockContended: number;
  lockWaits: number;
  lockTimeouts: number;
  /**
   * Sequence of the last record known committed, -1 if none. For a dead producer this is a lower
   * bound: it may have committed exactly one more (killed between submit and this word's store).
   */
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
  /** 'injected' by fault injection, or 'crashed' on its own. */
  cause: 'injected' | 'crashed';
  method: DeathMethod | 'unknown';
  point: DiePointName | 'unknown';
  error: string;
  /** Last sequence surely committed (-1 none); at most one more may have been committed. */
  lastCommittedSeq: number;
  /** Whether the dead producer held the ring's lock and recovery freed it. */
  lockRecovered: boolean;
  /** Its reserved-but-unsubmitted records that recovery discarded. */
  recordsDiscarded: number;
  /** Id of the replacement started in its slot, if any. */
  replacedBy: number | undefined;
}

export interface PoolTotals {
  attempted: number;
  committed: number;
  discarded: number;
  dropped: number;
  inFlight: number;
  lockContended: number;
  lockWaits: number;
  lockTimeouts: number;
}

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

/** Options of one run. */
export interface RunOptions {
  /** Stops the run: producers finish the record in hand, submit it and report. */
  signal?: AbortSignal;
}

interface Incarnation {
  readonly producerId: number;
  readonly slot: number;
  readonly stats: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly log: Logger;
  settled: boolean;
  kill: { method: DeathMethod; point: DiePointName } | undefined;
}

interface Slot {
  /** The clockMicros() deadline every incarnation of this slot shares (duration scenarios). */
  endAtUs: number;
  incarnations: Incarnation[];
  done: boolean;
}

const METHOD_CODE: Record<DeathMethod, number> = {
  throw: METHOD_THROW,
  exit: METHOD_EXIT,
  uncaught: METHOD_UNCAUGHT,
  terminate: METHOD_TERMINATE,
};
const POINT_CODE: Record<Exclude<DiePointName, 'anywhere'>, number> = {
  between: DIE_BETWEEN,
  'in-lock': DIE_IN_LOCK,
  'after-reserve': DIE_AFTER_RESERVE,
  'after-submit': DIE_AFTER_SUBMIT,
};
/** How often the main thread looks for a producer parked at a terminate hook. */
const PARK_POLL_MS = 1;
/** Give up waiting for a parked producer after this long (it finished or died otherwise). */
const PARK_GIVE_UP_MS = 5000;
/** Recovery keeps retrying for the ring's lock this long before it reports failure (-1). */
const RECOVERY_GIVE_UP_MS = 30_000;

/**
 * A pool of producer workers standing in for CPUs.
 *
 * ```ts
 * const pool = new ProducerPool({ ring: ring.share(), producers: 4, scenario: { durationMs: 1000 } });
 * const result = await pool.run({ signal });
 * ```
 * Thread: the thread that created it.
 */
export class ProducerPool {
  private readonly opts: FilledPoolOptions;
  private readonly log: Logger;
  private nextId: number;
  private running = false;
  private slots: Slot[] = [];
  private incarnations: Incarnation[] = [];
  private deaths: DeathReport[] = [];
  private control = new SharedArrayBuffer(CONTROL_BYTES);
  private ctl = new Int32Array(this.control);
  private piscina: Piscina | undefined;
  private stopping = false;
  private aborted = false;
  private kills = 0;
  private killTimer: NodeJS.Timeout | undefined;
  private prng: Prng;
  private openSlots = 0;
  private finish: (() => void) | undefined;

  /**
   * Validates the options; starts nothing.
   * @throws PoolError `ERR_POOL_OPTIONS` / `ERR_POOL_SCENARIO` naming the first bad option.
   */
  constructor(options: ProducerPoolOptions) {
    this.opts = fillPoolOptions(options);
    this.nextId = this.opts.firstProducerId;
    this.prng = new Prng(this.opts.seed);
    this.log = threadLogger(this.opts.logLevel as LogLevel).child({ component: 'producer-pool' });
  }

  /** The seed in use (print it with test results). */
  get seed(): number {
    return this.opts.seed;
  }

  /**
   * Runs the scenario on every producer slot until each slot finishes its records or duration, or
   * the signal aborts. Dead producers are recovered and replaced (new ids) while the run lasts.
   * @throws PoolError `ERR_POOL_STATE` when a run is already in progress.
   */
  async run(options: RunOptions = {}): Promise<PoolResult> {
    if (this.running) throw new PoolError('ERR_POOL_STATE', 'this pool is already running');
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new PoolError('ERR_POOL_OPTIONS', 'signal must be an AbortSignal');
    this.running = true;
    this.reset();
    const { producers, scenario } = this.opts;
    const startedAt = performance.now();
    this.piscina = new Piscina({
      filename: new URL('./producer-task.js', import.meta.url).href,
      minThreads: producers,
      maxThreads: producers,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
    });
    const done = new Promise<void>((resolve) => (this.finish = resolve));
    const onAbort = (): void => {
      this.aborted = true;
      this.stop();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    this.openSlots = producers;
    for (let s = 0; s < producers; s++) {
      this.slots.push({ endAtUs: Infinity, incarnations: [], done: false });
      this.startProducer(s, scenario.records);
    }
    const faults = this.opts.faults;
    if (faults !== undefined && faults.maxKills > 0) {
      this.killTimer = setInterval(() => this.killOne(), faults.everyMs);
    }
    this.log.info({ producers, seed: this.opts.seed }, 'pool run started');
    try {
      await done;
    } finally {
      if (this.killTimer !== undefined) clearInterval(this.killTimer);
      this.killTimer = undefined;
      signal?.removeEventListener('abort', onAbort);
      await this.piscina.destroy();
      this.piscina = undefined;
      this.running = false;
    }
    const result = this.result(performance.now() - startedAt);
    this.log.info({ elapsedMs: result.elapsedMs, totals: result.totals, deaths: result.deaths.length }, 'pool run finished');
    if (result.rate !== undefined && !result.rate.met && !result.aborted) {
      this.log.warn(result.rate, 'open-loop rate not met');
    }
    return result;
  }

  /** A live snapshot of every producer's accounting (momentary values). Thread: the pool's. */
  stats(): ProducerReport[] {
    return this.incarnations.map((inc) => this.report(inc));
  }

  /** Deaths recovered so far in the current (or last) run. */
  deathsSoFar(): readonly DeathReport[] {
    return this.deaths;
  }

  /** Asks every producer to finish the record in hand and report; run() then resolves. */
  stop(): void {
    this.stopping = true;
    if (this.killTimer !== undefined) clearInterval(this.killTimer);
    this.killTimer = undefined;
    const ctl = this.ctl;
    // Publishes the stop request; pairs with the producers' per-record loads.
    Atomics.store(ctl, STOP_INDEX, 1);
    // Observes open-loop sleepers; they announced themselves before sleeping on STOP.
    if (Atomics.load(ctl, STOP_SLEEPERS_INDEX) > 0) {
      // Ends open-loop sleeps (waitUntil in the producer).
      Atomics.notify(ctl, STOP_INDEX);
    }
    // Observes causal waiters on the token.
    if (Atomics.load(ctl, TOKEN_WAITERS_INDEX) > 0) {
      // Ends causal token waits (awaitToken in the producer), which then see STOP.
      Atomics.notify(ctl, TOKEN_INDEX);
    }
  }

  private reset(): void {
    this.slots = [];
    this.incarnations = [];
    this.deaths = [];
    this.stopping = false;
    this.aborted = false;
    this.kills = 0;
    this.control = new SharedArrayBuffer(CONTROL_BYTES);
    this.ctl = new Int32Array(this.control);
    this.ctl[TOKEN_INDEX] = FIRST_TOKEN;
  }

  private startProducer(slotIndex: number, records: number): Incarnation {
    const { rings, scenario, producers, seed, logLevel, lockTimeoutMs, faults } = this.opts;
    const slot = this.slots[slotIndex]!;
    const producerId = this.nextId++;
    const stats = new SharedArrayBuffer(STATS_BYTES);
    const i32 = new Int32Array(stats);
    i32[PRODUCER_ID_INDEX] = producerId;
    i32[SLOT_INDEX] = slotIndex;
    const inc: Incarnation = {
      producerId,
      slot: slotIndex,
      stats,
      i32,
      f64: new Float64Array(stats),
      log: this.log.child({ producerId, slot: slotIndex }),
      settled: false,
      kill: undefined,
    };
    slot.incarnations.push(inc);
    this.incarnations.push(inc);
    const task: ProducerTask = {
      ring: rings[slotIndex % rings.length]!,
      producerId,
      slot: slotIndex,
      producers,
      stats,
      control: this.control,
      scenario,
      records,
      endAtUs: slot.endAtUs,
      durationUs: scenario.durationMs * 1000,
      seed: deriveSeed(seed, producerId),
      logLevel,
      lockTimeoutMs,
      hooks: faults !== undefined,
    };
    this.piscina!.run(task).then(
      (outcome: ProducerOutcome) => this.onFinished(inc, outcome),
      (err: unknown) => void this.onDeath(inc, err),
    );
    return inc;
  }

  private onFinished(inc: Incarnation, outcome: ProducerOutcome): void {
    inc.settled = true;
    const slot = this.slots[inc.slot]!;
    inc.log.debug({ stopped: outcome.stopped }, 'producer settled');
    this.slotDone(slot);
  }

  /**
   * The producer's task rejected: its thread exited (terminate, process.exit, uncaught exception)
   * or its code threw out of the loop. Either way none of its code runs any more, so this thread may
   * now write on its behalf: recover the lock and its BUSY records, then replace it.
   */
  private async onDeath(inc: Incarnation, err: unknown): Promise<void> {
    inc.settled = true;
    const i32 = inc.i32;
    // Publishes DEAD: from here on only this thread writes for that producer id.
    Atomics.store(i32, STATE_INDEX, STATE_DEAD);
    const slot = this.slots[inc.slot]!;
    const firstStartUs = slot.incarnations[0]!.f64[START_US_F64]!;
    if (slot.endAtUs === Infinity && firstStartUs > 0) slot.endAtUs = firstStartUs + this.opts.scenario.durationMs * 1000;
    const handle = this.opts.handles[inc.slot % this.opts.handles.length]!;
    const { lockRecovered, recordsDiscarded } = await recover(handle, inc.producerId);
    const lastCommittedSeq = Atomics.load(i32, LAST_SEQ_PLUS1_INDEX) - 1;
    const report: DeathReport = {
      producerId: inc.producerId,
      slot: inc.slot,
      cause: inc.kill !== undefined ? 'injected' : 'crashed',
      method: inc.kill?.method ?? 'unknown',
      point: inc.kill?.point ?? 'unknown',
      error: err instanceof Error ? err.message : String(err),
      lastCommittedSeq,
      lockRecovered,
      recordsDiscarded,
      replacedBy: undefined,
    };
    this.deaths.push(report);
    const level = report.cause === 'injected' ? 'debug' : 'error';
    inc.log[level]({ ...report }, 'producer died and was recovered');
    // Replace it unless the run is ending, the slot's work is done, or it crashed on its own before
    // attempting anything (a crash loop would only repeat).
    const attemptedSoFar = slot.incarnations.reduce((sum, x) => sum + x.f64[ATTEMPTED_F64]!, 0);
    const remaining = this.opts.scenario.records - attemptedSoFar;
    const timeLeft = slot.endAtUs - clockMicros();
    const uselessCrash = report.cause === 'crashed' && inc.f64[ATTEMPTED_F64] === 0;
    if (this.stopping || remaining <= 0 || timeLeft <= 0 || uselessCrash || this.piscina === undefined) {
      this.slotDone(slot);
      return;
    }
    const next = this.startProducer(inc.slot, remaining);
    report.replacedBy = next.producerId;
    next.log.debug({ replaces: inc.producerId }, 'replacement producer started');
  }

  private slotDone(slot: Slot): void {
    if (slot.done) return;
    slot.done = true;
    if (--this.openSlots === 0) this.finish?.();
  }

  /** Fault injection tick: kill one random live producer by a random method at a random point. */
  private killOne(): void {
    const faults = this.opts.faults!;
    if (this.stopping || this.kills >= faults.maxKills) {
      if (this.killTimer !== undefined) clearInterval(this.killTimer);
      this.killTimer = undefined;
      return;
    }
    // Observes each producer's published state.
    const live = this.incarnations.filter((inc) => !inc.settled && inc.kill === undefined && Atomics.load(inc.i32, STATE_INDEX) === STATE_RUNNING);
    if (live.length === 0) return;
    const prng = this.prng;
    const inc = live[prng.int(0, live.length - 1)]!;
    const point = faults.points[prng.int(0, faults.points.length - 1)]!;
    let method = faults.methods[prng.int(0, faults.methods.length - 1)]!;
    if (point === 'anywhere') method = 'terminate';
    inc.kill = { method, point };
    this.kills++;
    if (point === 'anywhere') {
      this.terminate(inc);
      return;
    }
    // The method first: the producer reads it only after it observes the point.
    Atomics.store(inc.i32, DIE_METHOD_INDEX, METHOD_CODE[method]);
    // Publishes the death request; pairs with the producer's per-record load.
    Atomics.store(inc.i32, DIE_POINT_INDEX, POINT_CODE[point]);
    if (method === 'terminate') this.terminateWhenParked(inc, performance.now());
  }

  private terminateWhenParked(inc: Incarnation, since: number): void {
    if (inc.settled) return;
    // Observes the producer's PARKED store at its death point.
    const state = Atomics.load(inc.i32, STATE_INDEX);
    if (state === STATE_PARKED) {
      this.terminate(inc);
    } else if (state !== STATE_FINISHED && performance.now() - since < PARK_GIVE_UP_MS) {
      setTimeout(() => this.terminateWhenParked(inc, since), PARK_POLL_MS);
    }
  }

  private terminate(inc: Incarnation): void {
    // Observes the thread id the producer published at start.
    const tid = Atomics.load(inc.i32, THREAD_ID_INDEX);
    const worker = this.piscina?.threads.find((w) => w.threadId === tid);
    if (worker === undefined) {
      inc.kill = undefined;
      return;
    }
    // piscina sees the exit, rejects the task (onDeath) and starts a fresh thread.
    void worker.terminate();
  }

  private report(inc: Incarnation): ProducerReport {
    const f = inc.f64;
    // Observes the producer's published state and last committed sequence.
    const stateWord = Atomics.load(inc.i32, STATE_INDEX);
    const lastSeqPlus1 = Atomics.load(inc.i32, LAST_SEQ_PLUS1_INDEX);
    const attempted = f[ATTEMPTED_F64]!;
    const committed = f[COMMITTED_F64]!;
    const discarded = f[DISCARDED_F64]!;
    const dropped = f[DROPPED_F64]!;
    const startUs = f[START_US_F64]!;
    const endUs = f[END_US_F64]!;
    const state: ProducerReport['state'] =
      stateWord === STATE_DEAD ? 'dead' : stateWord === STATE_FINISHED ? 'finished' : stateWord === 0 ? 'starting' : 'running';
    const elapsedUs = startUs === 0 ? 0 : (endUs > 0 ? endUs : clockMicros()) - startUs;
    const achievedRate = elapsedUs > 0 ? (attempted * 1e6) / elapsedUs : 0;
    const targetRate = this.opts.scenario.ratePerProducer;
    return {
      producerId: inc.producerId,
      slot: inc.slot,
      state,
      attempted,
      committed,
      discarded,
      dropped,
      inFlight: attempted - committed - discarded - dropped,
      lockContended: f[LOCK_CONTENDED_F64]!,
      lockWaits: f[LOCK_WAITS_F64]!,
      lockTimeouts: f[LOCK_TIMEOUTS_F64]!,
      lastCommittedSeq: lastSeqPlus1 - 1,
      startUs,
      elapsedUs,
      targetRate,
      achievedRate,
      rateMet: targetRate === 0 || Math.abs(achievedRate - targetRate) <= targetRate * this.opts.rateTolerance,
      maxLagUs: f[MAX_LAG_US_F64]!,
    };
  }

  private result(elapsedMs: number): PoolResult {
    const producers = this.stats();
    const totals: PoolTotals = {
      attempted: 0,
      committed: 0,
      discarded: 0,
      dropped: 0,
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
      totals.inFlight += p.inFlight;
      totals.lockContended += p.lockContended;
      totals.lockWaits += p.lockWaits;
      totals.lockTimeouts += p.lockTimeouts;
    }
    let rate: PoolResult['rate'];
    const target = this.opts.scenario.ratePerProducer;
    if (target > 0) {
      const finished = producers.filter((p) => p.state === 'finished');
      const slowest = finished.length === 0 ? 0 : Math.min(...finished.map((p) => p.achievedRate));
      rate = { targetPerProducer: target, slowestAchieved: slowest, met: finished.length > 0 && finished.every((p) => p.rateMet) };
    }
    return {
      seed: this.opts.seed,
      elapsedMs,
      producers,
      deaths: [...this.deaths],
      totals,
      committedPerSecond: elapsedMs > 0 ? (totals.committed * 1000) / elapsedMs : 0,
      aborted: this.aborted,
      rate,
    };
  }
}

/**
 * Recovers a dead producer on one ring (docs/DESIGN.md section 10): frees the lock if it holds it and discards its
 * BUSY records, retrying asynchronously while the lock cannot be taken in time (never blocking this
 * thread long: another dead producer may hold the lock, and only this thread can free it).
 * `recoverProducer` also ends any consumer sleep the dead producer claimed but never notified.
 */
async function recover(handle: RingBuffer, deadId: number): Promise<{ lockRecovered: boolean; recordsDiscarded: number }> {
  let lockRecovered = false;
  let recordsDiscarded = -1;
  const since = performance.now();
  for (;;) {
    // Blocks at most RECOVERY_LOCK_TIMEOUT_MS; returns -1 discarded when the lock was not taken.
    const r = handle.recoverProducer(deadId);
    lockRecovered ||= r.lockRecovered;
    recordsDiscarded = r.recordsDiscarded;
    if (recordsDiscarded >= 0 || performance.now() - since > RECOVERY_GIVE_UP_MS) break;
    // Let this thread learn of other deaths (one of them may hold the lock) before retrying.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return { lockRecovered, recordsDiscarded };
}
