/**
 * Fault injection: every `everyMs`, kill one random live producer by a random method at a random
 * point, until `maxKills`. Hook points are requested through the producer's stats block (DIE_METHOD,
 * then DIE_POINT; the producer checks them once per record); `'anywhere'` and the `terminate` method
 * end the thread with `worker.terminate()` from this thread. Piscina then rejects the task and the
 * pool's death handling recovers and replaces the producer.
 * Thread: the pool's.
 */
import type { DeathMethod, DiePointName, FaultOptions } from './options.js';
import type { Incarnation } from './incarnation.js';
import { Prng } from './prng.js';
import {
  DIE_AFTER_RESERVE,
  DIE_AFTER_SUBMIT,
  DIE_BETWEEN,
  DIE_IN_LOCK,
  DIE_METHOD_INDEX,
  DIE_POINT_INDEX,
  METHOD_EXIT,
  METHOD_TERMINATE,
  METHOD_THROW,
  METHOD_UNCAUGHT,
  STATE_FINISHED,
  STATE_INDEX,
  STATE_PARKED,
  STATE_RUNNING,
  THREAD_ID_INDEX,
} from './stats-layout.js';

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

/** What the scheduler needs from the pool. */
export interface KillTargets {
  /** Incarnations that may be chosen (filtered further by state). */
  candidates(): readonly Incarnation[];
  /** Terminates the worker thread running `threadId`; false when no such thread is known. */
  terminateThread(threadId: number): boolean;
}

/** A random element of a non-empty list. */
function pick<T>(prng: Prng, list: readonly T[]): T {
  const item = list[prng.int(0, list.length - 1)];
  if (item === undefined) throw new RangeError('pick from an empty list');
  return item;
}

export class KillScheduler {
  private timer: NodeJS.Timeout | undefined;
  private parkTimers = new Set<NodeJS.Timeout>();
  private kills = 0;
  private readonly prng: Prng;

  constructor(
    private readonly faults: Required<FaultOptions>,
    seed: number,
    private readonly targets: KillTargets,
  ) {
    this.prng = new Prng(seed);
  }

  /** Starts the kill timer (no-op when maxKills is 0). */
  start(): void {
    if (this.faults.maxKills > 0) this.timer = setInterval(() => this.tick(), this.faults.everyMs);
  }

  /** Stops injecting; pending park polls are cancelled. Idempotent. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const t of this.parkTimers) clearTimeout(t);
    this.parkTimers.clear();
  }

  /** One tick: kill one random live producer by a random method at a random point. */
  private tick(): void {
    const faults = this.faults;
    if (this.kills >= faults.maxKills) {
      this.stop();
      return;
    }
    // Observes each producer's published state.
    const live = this.targets
      .candidates()
      .filter((inc) => !inc.settled && inc.kill === undefined && Atomics.load(inc.i32, STATE_INDEX) === STATE_RUNNING);
    if (live.length === 0) return;
    const prng = this.prng;
    const inc = pick(prng, live);
    const point = pick(prng, faults.points);
    let method = pick(prng, faults.methods);
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
      const t = setTimeout(() => {
        this.parkTimers.delete(t);
        this.terminateWhenParked(inc, since);
      }, PARK_POLL_MS);
      this.parkTimers.add(t);
    }
  }

  private terminate(inc: Incarnation): void {
    // Observes the thread id the producer published at start.
    const tid = Atomics.load(inc.i32, THREAD_ID_INDEX);
    if (!this.targets.terminateThread(tid)) inc.kill = undefined;
  }
}
