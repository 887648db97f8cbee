/**
 * The producer: one piscina task per producer lifetime, standing in for one CPU running a BPF
 * program that writes to the ring (the kernel bench's `ringbuf_bench.c` producer, generalised).
 *
 * Who writes what (see stats-layout.ts): this thread writes its stats block's counters, THREAD_ID,
 * STATE (up to FINISHED or PARKED) and LAST_SEQ_PLUS1; it reads DIE_POINT/DIE_METHOD (test hooks)
 * and the control block's STOP; in causal scenarios it writes TOKEN only while holding it.
 *
 * The record loop allocates nothing and logs nothing; lifecycle lines are logged at start and end.
 * Thread: a piscina worker.
 */
import { EventKind, clockMicros, writeInstrumented } from '@ringbuf/instrument';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  RingBuffer,
  layout,
  recordFootprint,
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
  START_US_F64,
  STATE_FINISHED,
  STATE_INDEX,
  STATE_PARKED,
  STATE_RUNNING,
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

/** run() outcomes. */
const FINISHED = 0;
const STOPPED = 1;
/** The producer arranged an uncaught exception on its event loop; the task must not settle. */
const DYING_ASYNC = 2;

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
export default function producerTask(task: ProducerTask): ProducerOutcome | Promise<never> {
  const log = threadLogger(task.logLevel as LogLevel).child({ producerId: task.producerId, slot: task.slot });
  log.info({ threadId }, 'producer started');
  const code = runProducer(task);
  if (code === DYING_ASYNC) return new Promise<never>(() => {});
  const f = new Float64Array(task.stats);
  log.info(
    {
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

function runProducer(task: ProducerTask): number {
  const { producerId, scenario: sc, slot, producers } = task;
  const ring = RingBuffer.attach(task.ring, { producerId, lockTimeoutMs: task.lockTimeoutMs });
  const st = new Int32Array(task.stats);
  const f = new Float64Array(task.stats);
  const ctl = new Int32Array(task.control);
  const data = ring.data;
  const view = ring.view;
  const lockStats = ring.lockStats;
  const rng = new Prng(task.seed);
  const hooks = task.hooks;
  const instrumented = sc.instrumented;
  const useOutput = sc.api === 'output';
  const causal = sc.causal;
  const discardRatio = sc.discardRatio;
  const batch = sc.batch;
  const target = task.records;
  const openLoop = sc.ratePerProducer > 0;
  const intervalUs = openLoop ? (1e6 * batch) / sc.ratePerProducer : 0;
  const sampledThreshold = sc.sampledRecords * recordFootprint(Math.round(sc.meanSize));
  const fixedFlags = sc.wakeup === 'none' ? BPF_RB_NO_WAKEUP : sc.wakeup === 'force' ? BPF_RB_FORCE_WAKEUP : 0;
  const sampled = sc.wakeup === 'sampled';
  const backoffUs = openLoop ? 0 : sc.dropBackoffUs;
  // bpf_ringbuf_output copies from a buffer: one scratch buffer, and one view per size, made once.
  const scratch = useOutput ? new Uint8Array(sc.sizeMax) : data;
  const scratchView = useOutput ? new DataView(scratch.buffer) : view;
  const outViews: (Uint8Array | undefined)[] = [];

  // Publishes who runs this producer (main finds the Worker by it) before RUNNING.
  Atomics.store(st, THREAD_ID_INDEX, threadId);
  f[TARGET_F64] = target;
  const start = clockMicros();
  f[START_US_F64] = start;
  const endAt = task.endAtUs !== Infinity ? task.endAtUs : start + task.durationUs;
  // Publishes RUNNING; the main thread's stats() observes it.
  Atomics.store(st, STATE_INDEX, STATE_RUNNING);

  let seq = 0;
  let attempted = 0;
  let contended = 0;
  let nextTriggerUs = start;
  let maxLag = 0;
  let stopped = false;

  main: for (;;) {
    // ---- once per trigger: stop, deadline, schedule ----
    if ((causal ? seq : attempted) >= target) break;
    if (openLoop) {
      const now = waitUntil(ctl, nextTriggerUs, endAt);
      // Observes the main thread's stop request; pairs with its store.
      if (Atomics.load(ctl, STOP_INDEX) !== 0) {
        stopped = true;
        break;
      }
      if (now >= endAt) break;
      const lag = now - nextTriggerUs;
      if (lag > maxLag) maxLag = lag;
    }
    const sendTime = openLoop ? nextTriggerUs : 0;
    nextTriggerUs += intervalUs;

    for (let b = 0; b < batch; b++) {
      if ((causal ? seq : attempted) >= target) break main;
      // Observes the main thread's stop request once per record: the record in hand is finished.
      if (Atomics.load(ctl, STOP_INDEX) !== 0) {
        stopped = true;
        break main;
      }
      if (!openLoop && (attempted & (CLOCK_EVERY - 1)) === 0 && endAt !== Infinity && clockMicros() >= endAt) break main;

      // ---- test-only death hooks ----
      let diePoint = 0;
      if (hooks) {
        // Observes a death request; DIE_METHOD was stored before it.
        diePoint = Atomics.load(st, DIE_POINT_INDEX);
        if (diePoint === DIE_BETWEEN) return die(st);
        if (diePoint === DIE_IN_LOCK) {
          const tag = producerId << 1;
          for (let spin = 0; spin < HOOK_LOCK_SPINS; spin++) {
            // Takes the ring's lock as reserve() would, to die holding it; recovery frees it.
            if (Atomics.compareExchange(ring.i32, layout.LOCK_INDEX, 0, tag) === 0) break;
          }
          return die(st);
        }
      }

      // ---- one record ----
      const size = pickSize(sc, rng);
      let token = 0;
      let kind: number = EventKind.Load;
      if (causal) {
        token = awaitToken(ctl, slot, producers, endAt);
        if (token === 0) {
          stopped = Atomics.load(ctl, STOP_INDEX) !== 0;
          break main;
        }
        kind = EventKind.Fork + ((token - 1) % 3);
      }
      const discard = discardRatio > 0 && rng.next() < discardRatio;
      const flags = sampled ? (ring.query(BPF_RB_AVAIL_DATA) >= sampledThreshold ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP) : fixedFlags;
      const recordTime = openLoop ? sendTime : instrumented ? clockMicros() : 0;
      attempted++;
      f[ATTEMPTED_F64] = attempted;

      if (useOutput) {
        if (instrumented) {
          writeInstrumented(scratchView, 0, producerId, seq, recordTime, token, kind);
          writeFiller(scratch, 0, size, producerId, seq);
        }
        const payload = outViews[size] ?? (outViews[size] = scratch.subarray(0, size));
        // bpf_ringbuf_output has no window between reserve and commit: die before it.
        if (diePoint === DIE_AFTER_RESERVE) return die(st);
        if (ring.output(payload, flags)) {
          if (diePoint === DIE_AFTER_SUBMIT) return die(st);
          seq++;
          f[COMMITTED_F64]++;
          // Publishes the last committed sequence (+1) for crash reports; read by the main thread.
          Atomics.store(st, LAST_SEQ_PLUS1_INDEX, seq);
        } else {
          f[DROPPED_F64]++;
          if (backoffUs > 0) waitUntil(ctl, clockMicros() + backoffUs, Infinity);
          if (causal) {
            // The event must exist before the token moves on: retry, or stop holding the token.
            if (!retryCausal(ctl)) {
              stopped = true;
              break main;
            }
            b--;
            continue;
          }
        }
      } else {
        const off = ring.reserve(size);
        if (off < 0) {
          f[DROPPED_F64]++;
          if (backoffUs > 0) waitUntil(ctl, clockMicros() + backoffUs, Infinity);
        } else if (discard) {
          if (instrumented) writeInstrumented(view, off, producerId, 0xffffffff, recordTime, token, kind);
          if (diePoint === DIE_AFTER_RESERVE) return die(st);
          ring.discard(off, flags);
          f[DISCARDED_F64]++;
        } else {
          if (instrumented) {
            writeInstrumented(view, off, producerId, seq, recordTime, token, kind);
            // Dies with the record BUSY and half written: recovery must discard it.
            if (diePoint === DIE_AFTER_RESERVE) return die(st);
            writeFiller(data, off, size, producerId, seq);
          } else if (diePoint === DIE_AFTER_RESERVE) {
            return die(st);
          }
          ring.submit(off, flags);
          // Dies committed but before the counters: the verifier's "one more than reported" window.
          if (diePoint === DIE_AFTER_SUBMIT) return die(st);
          seq++;
          f[COMMITTED_F64]++;
          // Publishes the last committed sequence (+1) for crash reports; read by the main thread.
          Atomics.store(st, LAST_SEQ_PLUS1_INDEX, seq);
        }
        if (off < 0 && causal) {
          // The event must exist before the token moves on: retry, or stop holding the token.
          if (!retryCausal(ctl)) {
            stopped = true;
            break main;
          }
          b--;
          continue;
        }
      }
      if (lockStats.contended !== contended) {
        contended = lockStats.contended;
        f[LOCK_CONTENDED_F64] = contended;
        f[LOCK_WAITS_F64] = lockStats.waits;
        f[LOCK_TIMEOUTS_F64] = lockStats.timeouts;
      }
      if (causal) passToken(ctl, token);
    }
  }

  if (openLoop && !stopped) {
    // The schedule's last interval ends at nextTriggerUs (or the deadline): the rate is measured
    // over whole intervals, so a producer that kept up reports exactly its target.
    waitUntil(ctl, Math.min(nextTriggerUs, endAt), Infinity);
  }
  f[LOCK_CONTENDED_F64] = lockStats.contended;
  f[LOCK_WAITS_F64] = lockStats.waits;
  f[LOCK_TIMEOUTS_F64] = lockStats.timeouts;
  f[MAX_LAG_US_F64] = maxLag;
  f[END_US_F64] = clockMicros();
  // Publishes the final counters' completion; the task's settlement also orders them.
  Atomics.store(st, STATE_INDEX, STATE_FINISHED);
  return stopped ? STOPPED : FINISHED;
}

/** A payload size drawn from the scenario's distribution. Allocation-free. */
function pickSize(sc: FilledScenario, rng: Prng): number {
  if (sc.sizeKind === 'fixed') return sc.sizeMin;
  if (sc.sizeKind === 'uniform') return rng.int(sc.sizeMin, sc.sizeMax);
  const u = rng.next();
  const cum = sc.weightedCum;
  for (let i = 0; i < cum.length; i++) if (u < cum[i]!) return sc.weightedSizes[i]!;
  return sc.weightedSizes[cum.length - 1]!;
}

/**
 * Open loop: sleep until `targetUs` on the stop word (so a stop request ends the sleep), but never
 * past `endAt`. Returns clockMicros() on return.
 */
function waitUntil(ctl: Int32Array, targetUs: number, endAt: number): number {
  const until = targetUs < endAt ? targetUs : endAt;
  for (;;) {
    const now = clockMicros();
    if (now >= until) return now;
    // Announces a sleeper so the stop request notifies; pairs with the main thread's load of it.
    Atomics.add(ctl, STOP_SLEEPERS_INDEX, 1);
    // Sleeps unless stop was requested; woken by the main thread's notify after its STOP store.
    Atomics.wait(ctl, STOP_INDEX, 0, (until - now) / 1000);
    // Withdraws the announcement.
    Atomics.sub(ctl, STOP_SLEEPERS_INDEX, 1);
    // Observes a stop request that ended the sleep.
    if (Atomics.load(ctl, STOP_INDEX) !== 0) return clockMicros();
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

/** Causal: an event that could not be reserved is retried (unless the run stops): it must exist. */
function retryCausal(ctl: Int32Array): boolean {
  // Observes a stop request.
  return Atomics.load(ctl, STOP_INDEX) === 0;
}

/** Dies as the death request says. Returns DYING_ASYNC for the uncaught-exception method. */
function die(st: Int32Array): number {
  // Observes the method stored before the death point.
  const method = Atomics.load(st, DIE_METHOD_INDEX);
  if (method === METHOD_EXIT) process.exit(INJECTED_EXIT_CODE);
  if (method === METHOD_UNCAUGHT) {
    // Thrown from a microtask once the task has returned: nothing catches it, the thread ends.
    queueMicrotask(() => {
      throw new InjectedDeath('injected uncaught exception');
    });
    return DYING_ASYNC;
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
