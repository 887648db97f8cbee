/**
 * The producer watchdog: a run always ends, whatever a `--producer` module's write() does. A
 * producer thread stuck in user code (blocked in `Atomics.wait`, a busy loop) never reaches its next
 * look at the stop word or its deadline, so the pool would wait for it forever. Every
 * {@link WATCH_EVERY_MS} this reads each producer's published progress (its stats block's ATTEMPTED
 * counter, through `pool.liveStats()`: plain loads, nothing per record) and, once the run is over for
 * that producer, terminates one that has made no progress for the patience:
 *
 *   over     = the stop request (Ctrl-C, SIGTERM, a failed consumer), or the producer's scheduled end:
 *              its slot's first start + the scenario's duration (or, before its slot started at
 *              all, the watchdog's start + the duration: a module init that never returns);
 *   stuck    = now >= over + patience, and ATTEMPTED unchanged for the patience (for a producer
 *              still starting, at least STARTING_PATIENCE_MS).
 *
 * A healthy producer ends within microseconds of `over` (it finishes the record in hand and looks at
 * the stop word or the clock), so a producer still there a whole patience later, without progress,
 * is inside user code. `worker.terminate()` ends even a busy loop; the pool then recovers the ring
 * (its BUSY reservation discarded: counted abandoned) and reports the death with cause 'watchdog'
 * and the reason given here, which names the record (seq) it was stuck on. With `--records` alone
 * there is no scheduled end: the stop request (Ctrl-C) is what bounds the run.
 * Thread: main.
 */
import { clockMicros } from '@ringbuf/instrument';
import type { ProducerReport } from '@ringbuf/producer-pool';

/** How often the watchdog looks (ms). */
const WATCH_EVERY_MS = 50;
/** Patience with a producer past the end of its run (ms), unless the drain timeout is shorter. */
export const STUCK_AFTER_MS = 1000;
/**
 * Patience with a producer that has not begun its first record (ms): a thread start and a module
 * import take longer on a loaded machine than a record (an init() that never settles is bounded by
 * the pool's own USER_INIT_TIMEOUT_MS; this catches one that never returns).
 */
export const STARTING_PATIENCE_MS = 5000;

/** What the watchdog needs from the pool (ProducerPool). */
export interface WatchedPool {
  liveStats(): readonly ProducerReport[];
  terminateProducer(producerId: number, reason: string): boolean;
}

/** Watches one run's producers; see the module doc. */
export class ProducerWatchdog {
  private readonly progress = new Map<number, { attempted: number; sinceUs: number }>();
  private readonly ended = new Set<number>();
  /** Each slot's earliest start seen (its first incarnation's, looked at from the run's start). */
  private readonly slotStart = new Map<number, number>();
  private startUs = 0;
  private stopAtUs = Infinity;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param pool the run's pool
   * @param durationMs each producer's scheduled run time (Infinity: none, `--records` alone)
   * @param patienceMs no progress for this long past the end: stuck
   */
  constructor(
    private readonly pool: WatchedPool,
    private readonly durationMs: number,
    private readonly patienceMs: number,
  ) {}

  /** Starts watching (call when the pool's run starts). */
  start(nowUs = clockMicros()): void {
    this.startUs = nowUs;
    this.timer = setInterval(() => this.check(), WATCH_EVERY_MS);
  }

  /** The run was asked to stop: from now on every producer's run is over. */
  stopRequested(nowUs = clockMicros()): void {
    if (this.stopAtUs === Infinity) this.stopAtUs = nowUs;
  }

  /** Stops watching. Idempotent. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at every live producer; terminates the stuck ones (public for tests). */
  check(nowUs = clockMicros()): void {
    const reports = this.pool.liveStats();
    const slotStart = this.slotStart;
    for (const p of reports)
      if (p.startUs > 0 && p.startUs < (slotStart.get(p.slot) ?? Infinity)) slotStart.set(p.slot, p.startUs);
    for (const p of reports) {
      if ((p.state !== 'running' && p.state !== 'starting') || this.ended.has(p.producerId)) continue;
      const patienceUs =
        (p.state === 'starting' ? Math.max(this.patienceMs, STARTING_PATIENCE_MS) : this.patienceMs) * 1000;
      const quietUs = this.quietFor(p, nowUs);
      const scheduledEndUs = (slotStart.get(p.slot) ?? this.startUs) + this.durationMs * 1000;
      const overUs = Math.min(this.stopAtUs, scheduledEndUs);
      if (nowUs - overUs < patienceUs || quietUs < patienceUs) continue;
      const after = overUs === this.stopAtUs ? 'the stop request' : 'the end of its run';
      if (this.pool.terminateProducer(p.producerId, describeStuck(p, quietUs / 1000, after)))
        this.ended.add(p.producerId);
    }
  }

  /** Microseconds since producer `p`'s ATTEMPTED counter last moved (as seen by this watchdog). */
  private quietFor(p: ProducerReport, nowUs: number): number {
    const seen = this.progress.get(p.producerId);
    if (seen === undefined || seen.attempted !== p.attempted) {
      this.progress.set(p.producerId, { attempted: p.attempted, sinceUs: nowUs });
      return 0;
    }
    return nowUs - seen.sinceUs;
  }
}

/** Why a producer is terminated: the record it is stuck on, or that it never began one. */
export function describeStuck(p: ProducerReport, quietMs: number, after: string): string {
  const ms = Math.round(quietMs);
  if (p.state === 'starting')
    return `stuck before its first record (its module's init()?): no progress for ${ms} ms after ${after}`;
  const where =
    p.inFlight > 0
      ? `on record seq ${p.lastCommittedSeq + 1} (in hand, not committed)`
      : `after record seq ${p.lastCommittedSeq}`;
  return `stuck ${where}: no progress for ${ms} ms after ${after}`;
}
