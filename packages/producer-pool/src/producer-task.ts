/**
 * The producer: one piscina task per producer lifetime, standing in for one CPU running a BPF
 * program that writes to the ring (the kernel bench's `ringbuf_bench.c` producer, generalised).
 *
 * Who writes what (see stats-layout.ts): this thread writes its stats block's counters, STAGE,
 * THREAD_ID, STATE (up to FINISHED or PARKED) and LAST_SEQ_PLUS1; it reads DIE_POINT/DIE_METHOD
 * (test hooks) and the control block's STOP; in causal scenarios it writes TOKEN only while holding
 * it. The ring is reached only through `RingBuffer`'s methods.
 *
 * Steps: {@link producerTask} logs and runs a {@link RecordLoop}: set-up (attach the ring, resolve
 * the scenario into fields) → start (publish THREAD_ID, START_US, RUNNING) → the record loop (per
 * trigger: stop, deadline, schedule; per record: hooks, then one record through reserve/submit,
 * reserve/discard or output) → finish (final counters, FINISHED). The record loop allocates nothing,
 * logs nothing and calls only this class's own methods and the ring's (monomorphic calls).
 * Thread: a piscina worker.
 */
import {
  causalKind,
  clockMicros,
  EventKind,
  INSTRUMENTED_HEADER_BYTES,
  stampCommit,
  writeInstrumented,
} from '@ringbuf/instrument';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  RingBuffer,
  recordFootprint,
  type LockStats,
  type RingShare,
} from '@ringbuf/core';
import { threadId } from 'node:worker_threads';
import { threadLogger, type LogLevel } from '@ringbuf/instrument/log';
import type { FilledScenario } from './options.js';
import { writeFiller } from './pattern.js';
import { Prng } from './prng.js';
import {
  ATTEMPTED_F64,
  COMMITTED_F64,
  DIE_AFTER_RESERVE,
  DIE_AFTER_SUBMIT,
  DIE_BETWEEN,
  DIE_IN_LOCK,
  DIE_METHOD_INDEX,
  DIE_POINT_INDEX,
  DISCARDED_F64,
  DROPPED_F64,
  END_US_F64,
  LAST_SEQ_PLUS1_INDEX,
  LOCK_CONTENDED_F64,
  LOCK_TIMEOUTS_F64,
  LOCK_WAITS_F64,
  MAX_LAG_US_F64,
  METHOD_EXIT,
  METHOD_TERMINATE,
  METHOD_THROW,
  METHOD_UNCAUGHT,
  STAGE_COMMITTING,
  STAGE_DISCARDING,
  STAGE_IDLE,
  STAGE_INDEX,
  STAGE_OUTPUTTING,
  STAGE_RESERVING,
  START_US_F64,
  STATE_FINISHED,
  STATE_INDEX,
  STATE_PARKED,
  STATE_RUNNING,
  STATE_SETUP_FAILED,
  STOP_INDEX,
  STOP_SLEEPERS_INDEX,
  TARGET_F64,
  THREAD_ID_INDEX,
  TOKEN_INDEX,
  TOKEN_WAITERS_INDEX,
} from './stats-layout.js';

/** What the pool sends to start one producer (structured-cloneable). */
export interface ProducerTask {
  ring: RingShare;
  producerId: number;
  /** Producer slot 0 .. producers - 1; a replacement takes over its predecessor's slot. */
  slot: number;
  producers: number;
  stats: SharedArrayBuffer;
  control: SharedArrayBuffer;
  scenario: FilledScenario;
  /** Records this incarnation attempts (Infinity with a duration). */
  records: number;
  /** clockMicros() deadline of a replacement: its slot's first start + duration (Infinity: use durationUs). */
  endAtUs: number;
  /** Duration from this producer's own start (Infinity without a duration). */
  durationUs: number;
  seed: number;
  logLevel: string;
  lockTimeoutMs: number;
  /** Check the test-only die hooks once per record. */
  hooks: boolean;
}

/** What a producer's task resolves to; the counters are in its stats block. */
export interface ProducerOutcome {
  producerId: number;
  stopped: boolean;
}

/** The error a producer throws when a fault hook tells it to die by throwing. */
export class InjectedDeath extends Error {
  override readonly name = 'InjectedDeath';
  readonly code = 'ERR_POOL_INJECTED_DEATH';
}

/** Exit code of a producer killed by the `exit` hook. */
export const INJECTED_EXIT_CODE = 70;

/** RecordLoop.run() outcomes. */
const FINISHED = 0;
const STOPPED = 1;
/** The producer arranged an uncaught exception on its event loop; the task must not settle. */
const DYING_ASYNC = 2;

/** RecordLoop.record() outcomes. */
const NEXT = 0;
/** Causal: the event could not be reserved and is tried again (it must exist). */
const RETRY = 1;
/** The loop ends (target reached, deadline, stop request: see `stopped`). */
const END = 2;
/** A hook made this producer die asynchronously. */
const DYING = 3;

/** Spins on the causal token before sleeping on it. */
const TOKEN_SPINS = 256;
/** Longest sleep on the token before re-checking the stop word and the deadline. */
const TOKEN_WAIT_MS = 50;
/** Closed loop: look at the clock once per this many records (a clock read costs ~30 ns). */
const CLOCK_EVERY = 64;
/** Spins to take the lock for the in-lock death hook before giving up and dying between records. */
const HOOK_LOCK_SPINS = 1_000_000;

/**
 * The piscina task: runs one producer to the end of its scenario, a stop request, or its death.
 * Resolves with its outcome; never settles when it dies by an uncaught exception.
 */
export default function producerTask(task: ProducerTask): ProducerOutcome | Promise<ProducerOutcome> | Promise<never> {
  const log = threadLogger(task.logLevel as LogLevel);
  // Publishes the thread id before anything else (a module's init may never return): the main
  // thread's watchdog and kill scheduler observe it to find this Worker.
  Atomics.store(new Int32Array(task.stats), THREAD_ID_INDEX, threadId);
  log.info({ producerId: task.producerId, slot: task.slot, threadId }, 'producer started');
  if (task.scenario.producerModule !== undefined) {
    return loadUserWrite(task).then(
      (write) => runLoop(task, log, write),
      (err: unknown) => setupFailed(task, err),
    );
  }
  return runLoop(task, log, undefined);
}

/**
 * The producer module could not be used: publish SETUP_FAILED, then reject with what failed (the
 * pool ends the run with a ProducerModuleError naming it).
 */
function setupFailed(task: ProducerTask, err: unknown): never {
  // Publishes SETUP_FAILED before the task rejects; the pool observes it in its death handling.
  Atomics.store(new Int32Array(task.stats), STATE_INDEX, STATE_SETUP_FAILED);
  throw err instanceof Error ? err : new Error(String(err));
}

/** An error as one line: `Name: message`. */
function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The user producer module's `write` (see Scenario.producerModule). */
export type UserWrite = (payload: Uint8Array, seq: number, producerId: number) => void;

/** How long a producer module's `init` may take before the producer gives up (and dies). */
export const USER_INIT_TIMEOUT_MS = 10_000;

/**
 * Imports the scenario's producer module (once per thread: the import is cached) and awaits its
 * optional `init(options, { producerId, slot })`, at most USER_INIT_TIMEOUT_MS.
 * @throws Error saying what failed ("import failed: ...", "init() threw ...", no `write`, an init
 *   that takes too long): the producer then dies before its first record and the pool ends the run
 *   with a ProducerModuleError.
 */
async function loadUserWrite(task: ProducerTask): Promise<UserWrite> {
  const spec = task.scenario.producerModule ?? '';
  let mod: { write?: unknown; default?: unknown; init?: unknown };
  try {
    mod = (await import(spec)) as typeof mod;
  } catch (err) {
    throw new Error(`import failed: ${describeError(err)}`);
  }
  const write =
    typeof mod.write === 'function' ? mod.write : typeof mod.default === 'function' ? mod.default : undefined;
  if (write === undefined) throw new Error("exports no 'write' (or default) function");
  if (typeof mod.init === 'function') {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`init() did not settle within ${USER_INIT_TIMEOUT_MS} ms`)),
        USER_INIT_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([callInit(mod.init as UserInit, task), late]);
    } finally {
      clearTimeout(timer);
    }
  }
  return write as UserWrite;
}

type UserInit = (o: unknown, who: { producerId: number; slot: number }) => unknown;

/** The module's init(), its throw or rejection named as such. */
async function callInit(init: UserInit, task: ProducerTask): Promise<void> {
  try {
    await init(task.scenario.producerOptions, { producerId: task.producerId, slot: task.slot });
  } catch (err) {
    throw new Error(`init() threw ${describeError(err)}`);
  }
}

/** Runs the record loop to its end and logs the outcome. */
function runLoop(
  task: ProducerTask,
  log: ReturnType<typeof threadLogger>,
  write: UserWrite | undefined,
): ProducerOutcome | Promise<never> {
  const code = new RecordLoop(task, write).run();
  if (code === DYING_ASYNC) return new Promise<never>(() => {});
  const f = new Float64Array(task.stats);
  log.info(
    {
      producerId: task.producerId,
      slot: task.slot,
      attempted: f[ATTEMPTED_F64],
      committed: f[COMMITTED_F64],
      discarded: f[DISCARDED_F64],
      dropped: f[DROPPED_F64],
      stopped: code === STOPPED,
    },
    'producer finished',
  );
  return { producerId: task.producerId, stopped: code === STOPPED };
}

/**
 * One producer incarnation's record loop. Set-up resolves the scenario into plain fields once; the
 * loop then reads only fields and locals. Thread: the producer's.
 */
class RecordLoop {
  private readonly ring: RingBuffer;
  private readonly st: Int32Array;
  private readonly f: Float64Array;
  private readonly ctl: Int32Array;
  private readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly lockStats: LockStats;
  private readonly rng: Prng;
  private readonly sc: FilledScenario;
  private readonly producerId: number;
  private readonly slot: number;
  private readonly producers: number;
  private readonly hooks: boolean;
  private readonly instrumented: boolean;
  private readonly useOutput: boolean;
  private readonly causal: boolean;
  private readonly discardRatio: number;
  private readonly batch: number;
  private readonly target: number;
  private readonly openLoop: boolean;
  private readonly intervalUs: number;
  private readonly sampled: boolean;
  private readonly sampledThreshold: number;
  private readonly fixedFlags: number;
  private readonly backoffUs: number;
  /** bpf_ringbuf_output copies from a buffer: one scratch buffer, and one view per size, made once. */
  private readonly scratch: Uint8Array;
  private readonly scratchView: DataView;
  private readonly outViews: (Uint8Array | undefined)[] = [];
  private readonly endAtUs: number;
  private readonly durationUs: number;
  /** The user's producer module (undefined: the pool's filler). */
  private readonly userWrite: UserWrite | undefined;
  /** Output mode with a user module: one payload view (after the header) per size, made once. */
  private readonly userViews: (Uint8Array | undefined)[] = [];
  /** Stages: the load profile (flat lists), the current stage, its start and the triggers scheduled in it. */
  private readonly staged: boolean;
  private readonly stageDurationsUs: readonly number[];
  private readonly stageTargets: readonly number[];
  private stage = 0;
  private stageStartUs = 0;
  private stageTriggers = 0;

  private endAt = Infinity;
  private seq = 0;
  private attempted = 0;
  private committedCount = 0;
  private discardedCount = 0;
  private droppedCount = 0;
  private contended = 0;
  private nextTriggerUs = 0;
  /** Open loop: the current trigger's intended time, every record of the trigger carries it. */
  private sendTime = 0;
  private maxLag = 0;
  private stopped = false;

  constructor(task: ProducerTask, userWrite: UserWrite | undefined) {
    const sc = task.scenario;
    this.userWrite = userWrite;
    this.staged = sc.stageTargets.length > 0;
    this.stageDurationsUs = sc.stageDurationsUs;
    this.stageTargets = sc.stageTargets;
    this.ring = RingBuffer.attach(task.ring, { producerId: task.producerId, lockTimeoutMs: task.lockTimeoutMs });
    this.st = new Int32Array(task.stats);
    this.f = new Float64Array(task.stats);
    this.ctl = new Int32Array(task.control);
    this.data = this.ring.data;
    this.view = this.ring.view;
    this.lockStats = this.ring.lockStats;
    this.rng = new Prng(task.seed);
    this.sc = sc;
    this.producerId = task.producerId;
    this.slot = task.slot;
    this.producers = task.producers;
    this.hooks = task.hooks;
    this.instrumented = sc.instrumented;
    this.useOutput = sc.api === 'output';
    this.causal = sc.causal;
    this.discardRatio = sc.discardRatio;
    this.batch = sc.batch;
    this.target = task.records;
    this.openLoop = sc.ratePerProducer > 0 || this.staged;
    this.intervalUs = sc.ratePerProducer > 0 ? (1e6 * sc.batch) / sc.ratePerProducer : 0;
    this.sampled = sc.wakeup === 'sampled';
    this.sampledThreshold = sc.sampledRecords * recordFootprint(Math.round(sc.meanSize));
    this.fixedFlags = sc.wakeup === 'none' ? BPF_RB_NO_WAKEUP : sc.wakeup === 'force' ? BPF_RB_FORCE_WAKEUP : 0;
    this.backoffUs = this.openLoop ? 0 : sc.dropBackoffUs;
    this.scratch = this.useOutput ? new Uint8Array(sc.sizeMax) : this.data;
    this.scratchView = this.useOutput ? new DataView(this.scratch.buffer) : this.view;
    this.endAtUs = task.endAtUs;
    this.durationUs = task.durationUs;
  }

  /** Start, the record loop, finish. Returns FINISHED, STOPPED or DYING_ASYNC. */
  run(): number {
    this.start();
    const batch = this.batch;
    main: for (;;) {
      if (this.targetReached() || !this.awaitTrigger()) break;
      for (let b = 0; b < batch;) {
        const r = this.record();
        if (r === NEXT) b++;
        else if (r === END) break main;
        else if (r === DYING) return DYING_ASYNC;
      }
    }
    this.finish();
    return this.stopped ? STOPPED : FINISHED;
  }

  /** Publishes who runs this producer (main finds the Worker by it), its start time, then RUNNING. */
  private start(): void {
    const st = this.st;
    // Publishes the thread id before RUNNING; the main thread's kill scheduler observes it.
    Atomics.store(st, THREAD_ID_INDEX, threadId);
    this.f[TARGET_F64] = this.target;
    const start = clockMicros();
    this.f[START_US_F64] = start;
    this.endAt = this.endAtUs !== Infinity ? this.endAtUs : start + this.durationUs;
    this.nextTriggerUs = start;
    if (this.staged) {
      // A replacement continues its slot's schedule (the slot's first start is endAtUs - duration).
      this.scheduleStagesFrom(this.endAtUs !== Infinity ? this.endAtUs - this.durationUs : start, start);
    }
    // Publishes RUNNING; the main thread's stats() observes it.
    Atomics.store(st, STATE_INDEX, STATE_RUNNING);
  }

  /** The final counters, then FINISHED. */
  private finish(): void {
    if (this.openLoop && !this.stopped) {
      // The schedule's last interval ends at nextTriggerUs (or the deadline): the rate is measured
      // over whole intervals, so a producer that kept up reports exactly its target.
      pace.until = Math.min(this.nextTriggerUs, this.endAt);
      waitUntil(this.ctl);
    }
    const f = this.f;
    f[LOCK_CONTENDED_F64] = this.lockStats.contended;
    f[LOCK_WAITS_F64] = this.lockStats.waits;
    f[LOCK_TIMEOUTS_F64] = this.lockStats.timeouts;
    f[MAX_LAG_US_F64] = this.maxLag;
    f[END_US_F64] = clockMicros();
    // Publishes the final counters' completion; the task's settlement also orders them.
    Atomics.store(this.st, STATE_INDEX, STATE_FINISHED);
  }

  private targetReached(): boolean {
    return (this.causal ? this.seq : this.attempted) >= this.target;
  }

  /**
   * Once per trigger. Open loop: sleep until the trigger's intended time (false when a stop request
   * or the deadline comes first) and track the lag. Closed loop: always true.
   */
  private awaitTrigger(): boolean {
    if (!this.openLoop) return true;
    pace.until = this.nextTriggerUs < this.endAt ? this.nextTriggerUs : this.endAt;
    waitUntil(this.ctl);
    const now = pace.now;
    // Observes the main thread's stop request; pairs with its store.
    if (Atomics.load(this.ctl, STOP_INDEX) !== 0) {
      this.stopped = true;
      return false;
    }
    if (now >= this.endAt) return false;
    const lag = now - this.nextTriggerUs;
    if (lag > this.maxLag) this.maxLag = lag;
    this.sendTime = this.nextTriggerUs;
    this.nextTriggerUs = this.staged ? this.nextStageTrigger() : this.nextTriggerUs + this.intervalUs;
    return true;
  }

  /**
   * Stages: positions the schedule that began at `scheduleStartUs` at `nowUs` (a replacement joins
   * its slot's schedule where it is, without the triggers its predecessor missed), then sets the
   * next trigger.
   */
  private scheduleStagesFrom(scheduleStartUs: number, nowUs: number): void {
    this.stage = 0;
    this.stageStartUs = scheduleStartUs;
    this.stageTriggers = 0;
    const durations = this.stageDurationsUs;
    while (this.stage < durations.length && this.stageStartUs + (durations[this.stage] ?? 0) <= nowUs) {
      this.stageStartUs += durations[this.stage] ?? 0;
      this.stage++;
    }
    if (this.stage < durations.length && nowUs > this.stageStartUs) {
      const { perUs, rampPerUs2 } = this.stageRates();
      const t = nowUs - this.stageStartUs;
      this.stageTriggers = Math.ceil(perUs * t + rampPerUs2 * t * t);
    }
    this.nextTriggerUs = this.nextStageTrigger();
  }

  /** Stages: the current stage's trigger rate at its start (per µs) and half its slope (per µs²). */
  private stageRates(): { perUs: number; rampPerUs2: number } {
    const from = this.stage === 0 ? 0 : (this.stageTargets[this.stage - 1] ?? 0);
    const to = this.stageTargets[this.stage] ?? 0;
    const durationUs = this.stageDurationsUs[this.stage] ?? 1;
    return { perUs: from / 1e6 / this.batch, rampPerUs2: (to - from) / 1e6 / this.batch / (2 * durationUs) };
  }

  /**
   * Stages: the intended time of the next trigger, from the linear ramp of the current stage (the
   * n-th trigger of a stage is at the t where the ramp's cumulative count reaches n), moving on to
   * the next stage once a stage has no trigger left; Infinity after the last one. Allocation-free.
   */
  private nextStageTrigger(): number {
    const durations = this.stageDurationsUs;
    const targets = this.stageTargets;
    while (this.stage < durations.length) {
      const durationUs = durations[this.stage] ?? 0;
      const from = this.stage === 0 ? 0 : (targets[this.stage - 1] ?? 0);
      const to = targets[this.stage] ?? 0;
      const t = rampTimeOf(
        this.stageTriggers,
        from / 1e6 / this.batch,
        (to - from) / 1e6 / this.batch / (2 * durationUs),
      );
      if (t < durationUs) {
        this.stageTriggers++;
        return this.stageStartUs + t;
      }
      this.stageStartUs += durationUs;
      this.stage++;
      this.stageTriggers = 0;
    }
    return Infinity;
  }

  /** One record: end conditions, hooks, then reserve/submit, reserve/discard or output. */
  private record(): number {
    if (this.targetReached()) return END;
    // Observes the main thread's stop request once per record: the record in hand is finished.
    if (Atomics.load(this.ctl, STOP_INDEX) !== 0) {
      this.stopped = true;
      return END;
    }
    if (
      !this.openLoop &&
      (this.attempted & (CLOCK_EVERY - 1)) === 0 &&
      this.endAt !== Infinity &&
      clockMicros() >= this.endAt
    )
      return END;
    let diePoint = 0;
    if (this.hooks) {
      // Observes a death request; DIE_METHOD was stored before it.
      diePoint = Atomics.load(this.st, DIE_POINT_INDEX);
      if (diePoint === DIE_BETWEEN) return die(this.st);
      if (diePoint === DIE_IN_LOCK) {
        // Takes the ring's lock as reserve() would and dies holding it; recovery frees it.
        for (let spin = 0; spin < HOOK_LOCK_SPINS; spin++) if (this.ring.tryHoldLockForFaultInjection()) break;
        return die(this.st);
      }
    }
    const size = pickSize(this.sc, this.rng);
    let token = 0;
    let kind: number = EventKind.Load;
    if (this.causal) {
      token = awaitToken(this.ctl, this.slot, this.producers, this.endAt);
      if (token === 0) {
        // Observes whether a stop request (rather than the deadline) ended the wait.
        this.stopped = Atomics.load(this.ctl, STOP_INDEX) !== 0;
        return END;
      }
      kind = causalKind(token);
    }
    const discard = this.discardRatio > 0 && this.rng.next() < this.discardRatio;
    const flags = this.wakeupFlags();
    const recordTime = this.openLoop ? this.sendTime : this.instrumented ? clockMicros() : 0;
    // STAGE before ATTEMPTED (see stats-layout.ts): while attempted exceeds the outcome counters by
    // one, STAGE says where that record is. Plain stores, ordered before the ring's atomics.
    this.st[STAGE_INDEX] = STAGE_RESERVING;
    this.f[ATTEMPTED_F64] = ++this.attempted;
    const r = this.useOutput
      ? this.outputRecord(size, flags, recordTime, token, kind, diePoint)
      : this.reserveRecord(size, flags, recordTime, token, kind, diePoint, discard);
    if (r !== NEXT) return r;
    this.syncLockStats();
    if (this.causal) passToken(this.ctl, token);
    return NEXT;
  }

  /** The wakeup flags of this record's commit. */
  private wakeupFlags(): number {
    if (!this.sampled) return this.fixedFlags;
    return this.ring.query(BPF_RB_AVAIL_DATA) >= this.sampledThreshold ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
  }

  /** bpf_ringbuf_reserve, write in place, then bpf_ringbuf_submit or bpf_ringbuf_discard. */
  private reserveRecord(
    size: number,
    flags: number,
    recordTime: number,
    token: number,
    kind: number,
    diePoint: number,
    discard: boolean,
  ): number {
    const off = this.ring.reserve(size);
    if (off < 0) return this.dropped();
    const st = this.st;
    if (discard) {
      st[STAGE_INDEX] = STAGE_DISCARDING;
      if (this.instrumented) writeInstrumented(this.view, off, this.producerId, 0xffffffff, recordTime, token, kind);
      if (diePoint === DIE_AFTER_RESERVE) return die(st);
      this.ring.discard(off, flags);
      this.f[DISCARDED_F64] = ++this.discardedCount;
      st[STAGE_INDEX] = STAGE_IDLE;
      return NEXT;
    }
    st[STAGE_INDEX] = STAGE_COMMITTING;
    if (this.instrumented) {
      writeInstrumented(this.view, off, this.producerId, this.seq, recordTime, token, kind);
      // Dies with the record BUSY and half written: recovery must discard it.
      if (diePoint === DIE_AFTER_RESERVE) return die(st);
      if (this.userWrite === undefined) writeFiller(this.data, off, size, this.producerId, this.seq);
      // The user's bytes, in place after the header (a subarray: the one object made per record).
      else this.userWrite(this.data.subarray(off + INSTRUMENTED_HEADER_BYTES, off + size), this.seq, this.producerId);
      // Open loop: the real commit time, so latency splits into send lag and ring latency; closed
      // loop commits right after the record time, which stands for it (no second clock read).
      stampCommit(this.view, off, this.openLoop ? clockMicros() : recordTime);
    } else if (diePoint === DIE_AFTER_RESERVE) {
      return die(st);
    }
    this.ring.submit(off, flags);
    // Dies committed but before the counters: the main thread counts it from STAGE_COMMITTING.
    if (diePoint === DIE_AFTER_SUBMIT) return die(st);
    this.committed();
    return NEXT;
  }

  /** bpf_ringbuf_output from the scratch buffer. */
  private outputRecord(
    size: number,
    flags: number,
    recordTime: number,
    token: number,
    kind: number,
    diePoint: number,
  ): number {
    if (this.instrumented) {
      writeInstrumented(this.scratchView, 0, this.producerId, this.seq, recordTime, token, kind);
      if (this.userWrite === undefined) writeFiller(this.scratch, 0, size, this.producerId, this.seq);
      else
        this.userWrite(
          this.userViews[size] ?? (this.userViews[size] = this.scratch.subarray(INSTRUMENTED_HEADER_BYTES, size)),
          this.seq,
          this.producerId,
        );
      // As in reserveRecord: output commits right after this copy.
      stampCommit(this.scratchView, 0, this.openLoop ? clockMicros() : recordTime);
    }
    const payload = this.outViews[size] ?? (this.outViews[size] = this.scratch.subarray(0, size));
    const st = this.st;
    // bpf_ringbuf_output has no window between reserve and commit: die before it (nothing reserved).
    if (diePoint === DIE_AFTER_RESERVE) return die(st);
    st[STAGE_INDEX] = STAGE_OUTPUTTING;
    if (!this.ring.output(payload, flags)) return this.dropped();
    st[STAGE_INDEX] = STAGE_COMMITTING;
    if (diePoint === DIE_AFTER_SUBMIT) return die(st);
    this.committed();
    return NEXT;
  }

  /** Counts the record in hand committed: seq, COMMITTED, LAST_SEQ_PLUS1, then STAGE idle. */
  private committed(): void {
    this.seq++;
    this.f[COMMITTED_F64] = ++this.committedCount;
    // Publishes the last committed sequence (+1) for crash reports; read by the main thread.
    Atomics.store(this.st, LAST_SEQ_PLUS1_INDEX, this.seq);
    this.st[STAGE_INDEX] = STAGE_IDLE;
  }

  /** Counts the record in hand dropped (the reservation failed); backs off; causal events retry. */
  private dropped(): number {
    this.f[DROPPED_F64] = ++this.droppedCount;
    this.st[STAGE_INDEX] = STAGE_IDLE;
    if (this.backoffUs > 0) {
      pace.until = clockMicros() + this.backoffUs;
      waitUntil(this.ctl);
    }
    if (!this.causal) return NEXT;
    // The event must exist before the token moves on: retry, or stop holding the token.
    // Observes a stop request.
    if (Atomics.load(this.ctl, STOP_INDEX) === 0) return RETRY;
    this.stopped = true;
    return END;
  }

  /** Copies the handle's lock counters to the stats block when they moved. */
  private syncLockStats(): void {
    const lockStats = this.lockStats;
    if (lockStats.contended === this.contended) return;
    this.contended = lockStats.contended;
    this.f[LOCK_CONTENDED_F64] = this.contended;
    this.f[LOCK_WAITS_F64] = lockStats.waits;
    this.f[LOCK_TIMEOUTS_F64] = lockStats.timeouts;
  }
}

/** A payload size drawn from the scenario's distribution. Allocation-free. */
function pickSize(sc: FilledScenario, rng: Prng): number {
  if (sc.sizeKind === 'fixed') return sc.sizeMin;
  if (sc.sizeKind === 'uniform') return rng.int(sc.sizeMin, sc.sizeMax);
  const u = rng.next();
  const cum = sc.weightedCum;
  const sizes = sc.weightedSizes;
  // fillScenario makes both lists the same non-empty length, the last weight exactly 1.
  for (let i = 0; i < cum.length; i++) if (u < (cum[i] ?? 1)) return sizes[i] ?? sc.sizeMax;
  return sc.sizeMax;
}

/**
 * Stages: the smallest t >= 0 (µs) with `perUs * t + rampPerUs2 * t^2 = n` (the n-th trigger of a
 * linear ramp), or Infinity when the ramp never reaches n (a stage at rate 0, or a ramp down that
 * ends first). Written as 2n / (b + sqrt(b^2 + 4an)), stable for a slope of either sign or none.
 */
function rampTimeOf(n: number, perUs: number, rampPerUs2: number): number {
  if (perUs === 0 && rampPerUs2 === 0) return Infinity;
  const disc = perUs * perUs + 4 * rampPerUs2 * n;
  if (disc < 0) return Infinity;
  const den = perUs + Math.sqrt(disc);
  if (den <= 0) return n === 0 ? 0 : Infinity;
  return (2 * n) / den;
}

/**
 * The last stretch before an open-loop send time that is spun rather than slept: a sleep ends late
 * by the kernel's timer slack (50 us by default) plus a wakeup (13-20 us), and that lateness would
 * be charged to the ring as latency. 200 us covers both with margin; gaps shorter than this are
 * spun whole.
 */
export const SPIN_BEFORE_SEND_US = 200;
/** Clock reads between two looks at the stop word while spinning. */
const SPIN_STOP_CHECK = 64;

/**
 * The times waitUntil works with, as fields of one object: a double passed to or returned from a
 * function V8 does not inline is boxed (16 bytes a call, a scavenge every second or so at 20 k
 * sends/s, and each scavenge a pause in the producer's send lag); a double field is updated in place.
 */
const pace = {
  /** When waitUntil is to return (clockMicros()). */
  until: 0,
  /** clockMicros() when it returned. */
  now: 0,
};

/**
 * Open loop: wait until `pace.until`: sleep on the stop word (so a stop request ends the sleep) in
 * whole milliseconds until at most SPIN_BEFORE_SEND_US + 1 ms before it, then spin on the clock so
 * the send is on time. Sets `pace.now` to clockMicros() on return.
 */
function waitUntil(ctl: Int32Array): void {
  const until = pace.until;
  for (;;) {
    const now = clockMicros();
    if (now >= until) {
      pace.now = now;
      return;
    }
    // Whole milliseconds of sleep (a computed double timeout is boxed by Atomics.wait on Node 20):
    // what is left below a millisecond plus the spin stretch is spun.
    const sleepMs = Math.floor((until - now - SPIN_BEFORE_SEND_US) / 1000);
    if (sleepMs < 1) {
      spinUntil(ctl);
      return;
    }
    // Announces a sleeper so the stop request notifies; pairs with the main thread's load of it.
    Atomics.add(ctl, STOP_SLEEPERS_INDEX, 1);
    // Sleeps unless stop was requested; woken by the main thread's notify after its STOP store.
    Atomics.wait(ctl, STOP_INDEX, 0, sleepMs);
    // Withdraws the announcement.
    Atomics.sub(ctl, STOP_SLEEPERS_INDEX, 1);
    // Observes a stop request that ended the sleep.
    if (Atomics.load(ctl, STOP_INDEX) !== 0) {
      pace.now = clockMicros();
      return;
    }
  }
}

/** Spins on the clock until `pace.until`, looking at the stop word every SPIN_STOP_CHECK reads; sets `pace.now`. */
function spinUntil(ctl: Int32Array): void {
  const until = pace.until;
  for (let i = 1; ; i++) {
    const now = clockMicros();
    // Observes a stop request while spinning (every SPIN_STOP_CHECK reads); pairs with the main thread's STOP store.
    if (now >= until || (i % SPIN_STOP_CHECK === 0 && Atomics.load(ctl, STOP_INDEX) !== 0)) {
      pace.now = now;
      return;
    }
  }
}

/**
 * Causal: wait until this slot holds the token ((token - 1) % producers === slot). Returns the token,
 * or 0 when the run stops or its deadline passes first.
 */
function awaitToken(ctl: Int32Array, slot: number, producers: number, endAt: number): number {
  for (let spin = 0; ; spin++) {
    // Observes the previous holder's hand-over; pairs with its store in passToken().
    const token = Atomics.load(ctl, TOKEN_INDEX);
    if ((token - 1) % producers === slot) return token;
    // Observes a stop request.
    if (Atomics.load(ctl, STOP_INDEX) !== 0) return 0;
    if (spin < TOKEN_SPINS) continue;
    const now = clockMicros();
    if (now >= endAt) return 0;
    // Announces a waiter so the hand-over notifies; pairs with passToken()'s load of it.
    Atomics.add(ctl, TOKEN_WAITERS_INDEX, 1);
    // Sleeps while the token is unchanged; woken by passToken() or a stop request.
    Atomics.wait(ctl, TOKEN_INDEX, token, Math.min(TOKEN_WAIT_MS, (endAt - now) / 1000));
    // Withdraws the announcement.
    Atomics.sub(ctl, TOKEN_WAITERS_INDEX, 1);
  }
}

/** Causal: hand the token to the next slot, waking waiters only if someone sleeps. */
function passToken(ctl: Int32Array, token: number): void {
  // Publishes the hand-over (and, before it, our committed event); pairs with awaitToken()'s load.
  Atomics.store(ctl, TOKEN_INDEX, token + 1);
  // Observes whether any slot announced that it sleeps on the token.
  if (Atomics.load(ctl, TOKEN_WAITERS_INDEX) > 0) {
    // Wakes the sleepers of awaitToken(); only the next slot proceeds, the rest sleep again.
    Atomics.notify(ctl, TOKEN_INDEX);
  }
}

/** Dies as the death request says. Returns DYING for the uncaught-exception method. */
function die(st: Int32Array): number {
  // Observes the method stored before the death point.
  const method = Atomics.load(st, DIE_METHOD_INDEX);
  if (method === METHOD_EXIT) process.exit(INJECTED_EXIT_CODE);
  if (method === METHOD_UNCAUGHT) {
    // Thrown from a microtask once the task has returned: nothing catches it, the thread ends.
    queueMicrotask(() => {
      throw new InjectedDeath('injected uncaught exception');
    });
    return DYING;
  }
  if (method === METHOD_TERMINATE) {
    // Publishes "parked at the death point"; the main thread observes it and terminates us.
    Atomics.store(st, STATE_INDEX, STATE_PARKED);
    // Parks for good: only worker.terminate() ends this.
    for (;;) Atomics.wait(st, STATE_INDEX, STATE_PARKED);
  }
  if (method === METHOD_THROW) throw new InjectedDeath('injected death (throw)');
  throw new InjectedDeath(`unknown death method ${method}`);
}
