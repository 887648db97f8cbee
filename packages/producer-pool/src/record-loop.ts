/**
 * One producer incarnation's record loop: start (publish THREAD_ID, START_US, RUNNING) → per
 * trigger: stop, deadline, schedule (schedule.ts, pacing.ts); per record: hooks (die.ts), the causal
 * token (token.ts), then one record through reserve/submit, reserve/discard or output → finish
 * (final counters, FINISHED). The loop allocates nothing, logs nothing and calls only this class's
 * own methods, the ring's and the small helpers of those modules (monomorphic calls).
 *
 * Who writes what (see stats-layout.ts): this thread writes its stats block's counters, STAGE,
 * THREAD_ID, STATE (up to FINISHED or PARKED) and LAST_SEQ_PLUS1; it reads DIE_POINT/DIE_METHOD
 * (test hooks) and the control block's STOP; in causal scenarios it writes TOKEN only while holding
 * it. The ring is reached only through `RingBuffer`'s methods. Thread: the producer's.
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
} from '@ringbuf/core';
import { threadId } from 'node:worker_threads';
import { DYING, die, dieInLock } from './die.js';
import type { ProducerTask } from './messages.js';
import type { FilledScenario } from './options.js';
import { pace, waitUntil } from './pacing.js';
import { writeFiller } from './pattern.js';
import { Prng } from './prng.js';
import { TriggerSchedule } from './schedule.js';
import {
  ATTEMPTED_F64,
  COMMITTED_F64,
  DIE_AFTER_RESERVE,
  DIE_AFTER_SUBMIT,
  DIE_BETWEEN,
  DIE_IN_LOCK,
  DIE_NONE,
  DIE_POINT_INDEX,
  DISCARDED_F64,
  DROPPED_F64,
  END_US_F64,
  LAST_SEQ_PLUS1_INDEX,
  LOCK_CONTENDED_F64,
  LOCK_TIMEOUTS_F64,
  LOCK_WAITS_F64,
  MAX_LAG_US_F64,
  STAGE_COMMITTING,
  STAGE_DISCARDING,
  STAGE_IDLE,
  STAGE_INDEX,
  STAGE_OUTPUTTING,
  STAGE_RESERVING,
  START_US_F64,
  STATE_FINISHED,
  STATE_INDEX,
  STATE_RUNNING,
  STOP_INDEX,
  TARGET_F64,
  THREAD_ID_INDEX,
} from './stats-layout.js';
import { awaitToken, passToken } from './token.js';
import type { UserWrite } from './user-module.js';

/** RecordLoop.run() outcomes. */
const FINISHED = 0;
export const STOPPED = 1;
/** The producer arranged an uncaught exception on its event loop; the task must not settle. */
export const DYING_ASYNC = 2;

/** RecordLoop.record() outcomes (and DYING, from die.ts: a hook made this producer die asynchronously). */
const NEXT = 0;
/** Causal: the event could not be reserved and is tried again (it must exist). */
const RETRY = 1;
/** The loop ends (target reached, deadline, stop request: see `stopped`). */
const END = 2;

/** Closed loop: look at the clock once per this many records (a clock read costs ~30 ns). */
const CLOCK_EVERY = 64;

/**
 * One producer incarnation's record loop. Set-up resolves the scenario into plain fields once; the
 * loop then reads only fields and locals. Thread: the producer's.
 */
export class RecordLoop {
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
  /** Open loop: the intended time of each trigger. */
  private readonly schedule: TriggerSchedule;

  private endAt = Infinity;
  private seq = 0;
  private attempted = 0;
  private committedCount = 0;
  private discardedCount = 0;
  private droppedCount = 0;
  private contended = 0;
  /** Open loop: the current trigger's intended time, every record of the trigger carries it. */
  private sendTime = 0;
  private maxLag = 0;
  private stopped = false;

  constructor(task: ProducerTask, userWrite: UserWrite | undefined) {
    const sc = task.scenario;
    this.userWrite = userWrite;
    this.schedule = new TriggerSchedule(sc);
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
    this.openLoop = sc.ratePerProducer > 0 || sc.stageTargets.length > 0;
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
    // A replacement continues its slot's schedule (the slot's first start is endAtUs - duration).
    this.schedule.start(this.endAtUs !== Infinity ? this.endAtUs - this.durationUs : start, start);
    // Publishes RUNNING; the main thread's stats() observes it.
    Atomics.store(st, STATE_INDEX, STATE_RUNNING);
  }

  /** The final counters, then FINISHED. */
  private finish(): void {
    if (this.openLoop && !this.stopped) {
      // The schedule's last interval ends at its next trigger (or the deadline): the rate is measured
      // over whole intervals, so a producer that kept up reports exactly its target.
      pace.until = Math.min(this.schedule.nextUs, this.endAt);
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
    const schedule = this.schedule;
    pace.until = schedule.nextUs < this.endAt ? schedule.nextUs : this.endAt;
    waitUntil(this.ctl);
    const now = pace.now;
    // Observes the main thread's stop request; pairs with its store.
    if (Atomics.load(this.ctl, STOP_INDEX) !== 0) {
      this.stopped = true;
      return false;
    }
    if (now >= this.endAt) return false;
    const lag = now - schedule.nextUs;
    if (lag > this.maxLag) this.maxLag = lag;
    this.sendTime = schedule.nextUs;
    schedule.advance();
    return true;
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
    let diePoint = DIE_NONE;
    if (this.hooks) {
      // Observes a death request; DIE_METHOD was stored before it.
      diePoint = Atomics.load(this.st, DIE_POINT_INDEX);
      if (diePoint === DIE_BETWEEN) return die(this.st);
      if (diePoint === DIE_IN_LOCK) return dieInLock(this.st, this.ring);
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
