/**
 * ProducerPool: N producer workers on piscina, each standing in for a CPU with its own producer id,
 * with exact accounting, open/closed loop load, causal scenarios, fault injection and crash
 * recovery (see docs/DESIGN.md for the protocol and its proof sketch).
 *
 * This module is the lifecycle: a run starts piscina and one producer per slot, replaces producers
 * that die (new ids) while the run lasts, and ends when every slot is done. The other jobs live in
 * their own modules: incarnation.ts (one producer's stats block and the reconciliation of its record
 * in hand), accounting.ts (reports and totals), faults.ts (the kill scheduler), recovery.ts (crash
 * recovery on the ring).
 *
 * Who writes what in the pool's shared memory (stats-layout.ts): each producer its own stats block;
 * this thread a block's PRODUCER_ID/SLOT before start, DIE_* (fault requests) and, once the
 * producer's thread runs none of its code, STATE = DEAD and the reconciled record in hand; this
 * thread the control block's STOP; the token holder TOKEN.
 *
 * Thread: a ProducerPool is used from the thread that created it (normally the main thread).
 */
import { clockMicros } from '@ringbuf/instrument';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { threadLogger, type LogLevel } from '@ringbuf/instrument/log';
import {
  producerReport,
  rateOf,
  totalsOf,
  type DeathReport,
  type PoolResult,
  type ProducerReport,
  type RateTarget,
} from './accounting.js';
import { KillScheduler } from './faults.js';
import { Incarnation } from './incarnation.js';
import { ProducerModuleError } from './errors.js';
import {
  PoolError,
  checkRunOptions,
  fillPoolOptions,
  type FilledPoolOptions,
  type ProducerPoolOptions,
  type RunOptions,
} from './options.js';
import type { ProducerOutcome, ProducerTask } from './messages.js';
import { deriveSeed } from './prng.js';
import { recover } from './recovery.js';
import {
  FIRST_TOKEN,
  POOL_CONTROL_BYTES,
  START_US_F64,
  STATE_INDEX,
  STATE_SETUP_FAILED,
  STOP_INDEX,
  STOP_SLEEPERS_INDEX,
  THREAD_ID_INDEX,
  TOKEN_INDEX,
  TOKEN_WAITERS_INDEX,
} from './stats-layout.js';

/**
 * A slot whose producers die this many times in a row without committing a record is not refilled:
 * a producer module whose write() always throws would otherwise be replaced thousands of times a
 * second, each death logged.
 */
export const MAX_STARTUP_DEATHS = 3;

/** One producer slot (a stand-in CPU): its incarnations in order, the last one current. */
interface Slot {
  readonly index: number;
  /** The clockMicros() deadline every incarnation of this slot shares (duration scenarios). */
  endAtUs: number;
  /** Records attempted by this slot's finished or dead incarnations. */
  attemptedBefore: number;
  /** Deaths in a row of this slot's producers that had committed nothing (see MAX_STARTUP_DEATHS). */
  startupDeaths: number;
  current: Incarnation;
  done: boolean;
}

/** One run's mutable state; a fresh one per run(). */
class Run {
  readonly control = new SharedArrayBuffer(POOL_CONTROL_BYTES);
  readonly ctl = new Int32Array(this.control);
  readonly slots: Slot[] = [];
  /**
   * Every incarnation in start order: the live ones as themselves, the settled ones as their final
   * report (retire()), so that a long run with many deaths keeps a small frozen object per producer
   * id rather than its stats block and typed arrays.
   */
  readonly producers: Array<Incarnation | ProducerReport> = [];
  readonly deaths: DeathReport[] = [];
  stopping = false;
  aborted = false;
  openSlots = 0;
  /** The first producer whose module failed to load or initialise: run() rejects with it. */
  moduleFailure: ProducerModuleError | undefined;
  /** Crash messages already logged at 'error' (repeats go to 'debug'). */
  readonly loggedCrashes = new Set<string>();
  constructor(
    readonly piscina: Piscina,
    readonly finish: () => void,
  ) {
    // Plain store: published to the producers by their tasks' structured clone.
    this.ctl[TOKEN_INDEX] = FIRST_TOKEN;
  }
}

/**
 * A pool of producer workers standing in for CPUs.
 *
 * ```ts
 * const pool = new ProducerPool({ ring: ring.share(), producers: 4, scenario: { durationMs: 1000 } });
 * const result = await pool.run();
 * ```
 * Thread: the thread that created it.
 */
export class ProducerPool {
  private readonly opts: FilledPoolOptions;
  private readonly log: Logger;
  private readonly rate: RateTarget;
  private nextId: number;
  private run_: Run | undefined;
  /** The last run's incarnations and deaths, kept for stats() and deathsSoFar() after it ends. */
  private last: Run | undefined;

  /**
   * Validates the options; starts nothing.
   * @throws PoolError `ERR_POOL_OPTIONS` / `ERR_POOL_SCENARIO` naming the first bad option.
   */
  constructor(options: ProducerPoolOptions) {
    this.opts = fillPoolOptions(options);
    this.nextId = this.opts.firstProducerId;
    this.rate = { ratePerProducer: this.opts.scenario.ratePerProducer, rateTolerance: this.opts.rateTolerance };
    this.log = threadLogger(this.opts.logLevel as LogLevel).child({ component: 'producer-pool' });
  }

  /** The seed in use (print it with test results). */
  get seed(): number {
    return this.opts.seed;
  }

  /**
   * Runs the scenario on every producer slot until each slot finishes its records or duration, or
   * the signal aborts. Dead producers are recovered and replaced (new ids) while the run lasts,
   * except after MAX_STARTUP_DEATHS deaths in a row of a slot's producers that committed nothing.
   * @throws PoolError `ERR_POOL_STATE` when a run is already in progress.
   * @throws ProducerModuleError (`ERR_POOL_PRODUCER_MODULE`) when the scenario's producer module
   *   failed to import or initialise in a producer before any producer started its records: the
   *   run is stopped first. (Later, in a replacement, it is a crash like any other.)
   */
  async run(options: RunOptions = {}): Promise<PoolResult> {
    if (this.run_ !== undefined) throw new PoolError('ERR_POOL_STATE', 'this pool is already running');
    checkRunOptions(options);
    const signal = options.signal;
    const { producers, scenario, faults } = this.opts;
    const startedAt = performance.now();
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const run = new Run(this.startPiscina(), finish);
    this.run_ = run;
    this.last = run;
    const kills = faults === undefined ? undefined : new KillScheduler(faults, this.opts.seed, this.killTargets(run));
    const onAbort = (): void => {
      run.aborted = true;
      this.stop();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    this.startSlots(run, producers, scenario.records);
    if (!run.stopping) kills?.start();
    this.log.info({ producers, seed: this.opts.seed }, 'pool run started');
    try {
      await done;
    } finally {
      kills?.stop();
      signal?.removeEventListener('abort', onAbort);
      await run.piscina.destroy();
      this.run_ = undefined;
    }
    if (run.moduleFailure !== undefined) throw run.moduleFailure;
    const result = this.result(run, performance.now() - startedAt);
    this.log.info(
      { elapsedMs: result.elapsedMs, totals: result.totals, deaths: result.deaths.length },
      'pool run finished',
    );
    if (result.rate !== undefined && !result.rate.met && !result.aborted) {
      this.log.warn(result.rate, 'open-loop rate not met');
    }
    return result;
  }

  /** A live snapshot of every producer's accounting (momentary values). Thread: the pool's. */
  stats(): ProducerReport[] {
    return reportsOf(this.last, this.rate);
  }

  /**
   * A live snapshot of the producers running now (each slot's current incarnation, unless it has
   * settled): what a watchdog looks at often, without the reports of every settled incarnation of a
   * long run with kills. Thread: the pool's.
   */
  liveStats(): ProducerReport[] {
    const run = this.run_;
    if (run === undefined) return [];
    return run.slots.filter((s) => !s.current.settled).map((s) => producerReport(s.current, this.rate));
  }

  /** Deaths recovered so far in the current (or last) run. */
  deathsSoFar(): readonly DeathReport[] {
    return this.last?.deaths ?? [];
  }

  /** Asks every producer to finish the record in hand and report; run() then resolves. */
  stop(): void {
    const run = this.run_;
    if (run === undefined) return;
    run.stopping = true;
    const ctl = run.ctl;
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

  /**
   * Terminates the thread of live producer `producerId` (a watchdog's decision: a producer stuck in
   * its record in hand, e.g. a producer module whose write() never returns). Its death is then
   * handled as any other (recovery discards its BUSY record: abandoned) and reported with cause
   * 'watchdog' and `reason` as its error; it is not replaced. Returns false when no live producer
   * has that id or its thread is unknown. Thread: the pool's.
   */
  terminateProducer(producerId: number, reason: string): boolean {
    const run = this.run_;
    const inc = run?.slots.find((s) => s.current.producerId === producerId && !s.current.settled)?.current;
    if (run === undefined || inc === undefined) return false;
    // Observes the thread id the producer published first thing.
    const tid = Atomics.load(inc.i32, THREAD_ID_INDEX);
    const worker = tid === 0 ? undefined : run.piscina.threads.find((w) => w.threadId === tid);
    if (worker === undefined) return false;
    inc.watchdog = reason;
    this.log.warn({ producerId, slot: inc.slot, reason }, 'terminating a stuck producer');
    // piscina sees the exit and rejects the task: onDeath recovers the ring.
    void worker.terminate();
    return true;
  }

  private startPiscina(): Piscina {
    const { producers } = this.opts;
    return new Piscina({
      filename: new URL('./producer-task.js', import.meta.url).href,
      minThreads: producers,
      maxThreads: producers,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
    });
  }

  private startSlots(run: Run, producers: number, records: number): void {
    run.openSlots = producers;
    for (let s = 0; s < producers; s++) {
      const inc = this.newIncarnation(run, s);
      const slot: Slot = {
        index: s,
        endAtUs: Infinity,
        attemptedBefore: 0,
        startupDeaths: 0,
        current: inc,
        done: false,
      };
      run.slots.push(slot);
      this.startProducer(run, slot, records);
    }
  }

  private killTargets(run: Run): ConstructorParameters<typeof KillScheduler>[2] {
    return {
      candidates: () => (run.stopping ? [] : run.slots.map((s) => s.current)),
      terminateThread: (threadId) => {
        const worker = run.piscina.threads.find((w) => w.threadId === threadId);
        if (worker === undefined) return false;
        // piscina sees the exit, rejects the task (onDeath) and starts a fresh thread.
        void worker.terminate();
        return true;
      },
    };
  }

  private newIncarnation(run: Run, slotIndex: number): Incarnation {
    const inc = new Incarnation(this.nextId++, slotIndex, run.producers.length);
    run.producers.push(inc);
    return inc;
  }

  /**
   * The incarnation's counters are final (it finished, or died and was reconciled): keep its report
   * and let its stats block go.
   */
  private retire(run: Run, inc: Incarnation): ProducerReport {
    const report = Object.freeze(producerReport(inc, this.rate));
    run.producers[inc.order] = report;
    return report;
  }

  private startProducer(run: Run, slot: Slot, records: number): void {
    const { rings, scenario, producers, seed, logLevel, lockTimeoutMs, faults } = this.opts;
    const inc = slot.current;
    const task: ProducerTask = {
      ring: pickRing(rings, slot.index),
      producerId: inc.producerId,
      slot: slot.index,
      producers,
      stats: inc.stats,
      control: run.control,
      scenario,
      records,
      endAtUs: slot.endAtUs,
      durationUs: scenario.durationMs * 1000,
      seed: deriveSeed(seed, inc.producerId),
      logLevel,
      lockTimeoutMs,
      hooks: faults !== undefined,
    };
    run.piscina.run(task).then(
      (outcome: ProducerOutcome) => this.onFinished(run, slot, inc, outcome),
      (err: unknown) => void this.onDeath(run, slot, inc, err),
    );
  }

  private onFinished(run: Run, slot: Slot, inc: Incarnation, outcome: ProducerOutcome): void {
    inc.settled = true;
    this.retire(run, inc);
    this.log.debug({ producerId: inc.producerId, slot: slot.index, stopped: outcome.stopped }, 'producer settled');
    this.slotDone(run, slot);
  }

  /**
   * The producer's task rejected: its thread exited (terminate, process.exit, uncaught exception)
   * or its code threw out of the loop. Either way none of its code runs any more, so this thread may
   * now write on its behalf: recover the lock and its BUSY records, settle its record in hand, then
   * replace it.
   */
  private async onDeath(run: Run, slot: Slot, inc: Incarnation, err: unknown): Promise<void> {
    // Observes SETUP_FAILED, stored by the producer before its task rejected.
    const setupFailed = Atomics.load(inc.i32, STATE_INDEX) === STATE_SETUP_FAILED;
    inc.markDead();
    this.fixSlotDeadline(slot, inc);
    const handle = pickRing(this.opts.handles, slot.index);
    const { lockRecovered, recordsDiscarded } = await recover(handle, inc.producerId);
    const inHand = inc.settleRecordInHand(recordsDiscarded);
    const final = this.retire(run, inc);
    const report: DeathReport = {
      producerId: inc.producerId,
      slot: slot.index,
      cause: inc.kill !== undefined ? 'injected' : inc.watchdog !== undefined ? 'watchdog' : 'crashed',
      method: inc.kill?.method ?? 'unknown',
      point: inc.kill?.point ?? 'unknown',
      error: inc.watchdog ?? (err instanceof Error ? err.message : String(err)),
      lastCommittedSeq: final.lastCommittedSeq,
      lockRecovered,
      recordsDiscarded,
      inHand,
      replacedBy: undefined,
    };
    run.deaths.push(report);
    // A module that failed before any producer ran is reported once, by run()'s rejection.
    if (!setupFailed || anyStarted(run)) this.logDeath(run, report);
    slot.attemptedBefore += inc.attempted();
    if (setupFailed && this.opts.scenario.producerModule !== undefined && !anyStarted(run)) {
      // Every producer loads the same module: end the run, run() rejects with it. (A replacement
      // whose module fails once others ran is a crash like any other: the run has results to report.)
      run.moduleFailure ??= new ProducerModuleError(this.opts.scenario.producerModule, report.error);
      this.stop();
    }
    if (!this.replaces(run, slot, report)) {
      this.slotDone(run, slot);
      return;
    }
    const remaining = this.opts.scenario.records - slot.attemptedBefore;
    slot.current = this.newIncarnation(run, slot.index);
    report.replacedBy = slot.current.producerId;
    this.startProducer(run, slot, remaining);
    this.log.debug({ producerId: slot.current.producerId, replaces: inc.producerId }, 'replacement producer started');
  }

  /**
   * Whether a dead producer is replaced: not when the run is ending, the slot's work is done, a
   * watchdog ended it, or the slot's producers died MAX_STARTUP_DEATHS times in a row without
   * committing a record (a crash loop would only repeat).
   */
  private replaces(run: Run, slot: Slot, report: DeathReport): boolean {
    slot.startupDeaths = report.cause === 'crashed' && report.lastCommittedSeq < 0 ? slot.startupDeaths + 1 : 0;
    if (slot.startupDeaths >= MAX_STARTUP_DEATHS) {
      this.log.warn(
        { slot: slot.index, deaths: slot.startupDeaths },
        'producer slot not refilled: its producers die before their first record',
      );
      return false;
    }
    const remaining = this.opts.scenario.records - slot.attemptedBefore;
    const timeLeft = slot.endAtUs - clockMicros();
    return !run.stopping && remaining > 0 && timeLeft > 0 && report.cause !== 'watchdog';
  }

  /** Logs a death: injected ones at 'debug', a crash at 'error' the first time its message is seen. */
  private logDeath(run: Run, report: DeathReport): void {
    let level: 'debug' | 'warn' | 'error' =
      report.cause === 'injected' ? 'debug' : report.cause === 'watchdog' ? 'warn' : 'error';
    if (level === 'error') {
      if (run.loggedCrashes.has(report.error)) level = 'debug';
      else run.loggedCrashes.add(report.error);
    }
    if (this.log.isLevelEnabled(level)) this.log[level]({ ...report }, 'producer died and was recovered');
  }

  /** A duration slot's deadline is its first incarnation's start + duration, shared by replacements. */
  private fixSlotDeadline(slot: Slot, inc: Incarnation): void {
    if (slot.endAtUs !== Infinity) return;
    const firstStartUs = inc.counter(START_US_F64);
    if (firstStartUs > 0) slot.endAtUs = firstStartUs + this.opts.scenario.durationMs * 1000;
  }

  private slotDone(run: Run, slot: Slot): void {
    if (slot.done) return;
    slot.done = true;
    if (--run.openSlots === 0) run.finish();
  }

  private result(run: Run, elapsedMs: number): PoolResult {
    const producers = reportsOf(run, this.rate);
    const totals = totalsOf(producers);
    return {
      seed: this.opts.seed,
      elapsedMs,
      producers,
      deaths: [...run.deaths],
      totals,
      committedPerSecond: elapsedMs > 0 ? (totals.committed * 1000) / elapsedMs : 0,
      aborted: run.aborted,
      rate: rateOf(producers, this.opts.scenario.ratePerProducer),
    };
  }
}

/** Every incarnation's report, in start order: final ones as kept, live ones as of now. */
function reportsOf(run: Run | undefined, rate: RateTarget): ProducerReport[] {
  if (run === undefined) return [];
  return run.producers.map((p) => (p instanceof Incarnation ? producerReport(p, rate) : p));
}

/** Whether any producer of the run has started its record loop (published its start time). */
function anyStarted(run: Run): boolean {
  return run.producers.some((p) => (p instanceof Incarnation ? p.counter(START_US_F64) : p.startUs) > 0);
}

/** Slot i's ring: ring i % rings.length (the options guarantee a non-empty list). */
function pickRing<T>(list: readonly T[], slot: number): T {
  const item = list[slot % list.length];
  if (item === undefined) throw new RangeError('the pool has no rings');
  return item;
}
