/**
 * The timeline's sampler: the engine's once-a-second tick turns the run's cumulative counters (the
 * consumer's records, wakeups and handler errors, the producers' drops, the injected deaths) into
 * one {@link TimelineRow} per interval, with the live-latency window's percentiles, the backlog read
 * now and the stage the interval's middle fell in. Nothing here runs per record. Thread: main.
 */
import type { DeathReport, ProducerReport } from '@ringbuf/producer-pool';
import type { LiveWindow } from './live-latency.js';
import type { StageSpec } from '../options.js';
import type { TimelineRow } from './timeline.js';

/** Where the sampler reads the run's counters. */
export interface SamplerSources {
  /** The consumer's cumulative counters (ConsumerRuntime.stats). */
  consumer: () => { records: number; wakeups: number; handlerErrors: number };
  /** The producers' live counters (ProducerPool.stats). */
  producers: () => readonly ProducerReport[];
  /** The deaths so far (ProducerPool.deathsSoFar). */
  deaths: () => readonly DeathReport[];
  /** The live latency buckets' window: the records timed since the last sample. */
  window: LiveWindow;
  /** Unconsumed bytes in every ring, read now (live even when the consumer is stuck in a handler). */
  backlog: () => number;
}

/** A partial last interval shorter than this (ms) is not sampled by {@link TimelineSampler.finish}. */
const MIN_LAST_INTERVAL_MS = 10;

/** One row per sample: each counter's change since the previous sample, per second where a rate. */
export class TimelineSampler {
  /** The rows sampled so far, in time order. */
  readonly rows: TimelineRow[] = [];
  private readonly stageEndsSec: number[] = [];
  private lastAt: number;
  private lastRecords = 0;
  private lastDropped = 0;
  private lastWakeups = 0;
  private lastKilled = 0;
  private lastErrors = 0;

  /**
   * @param sources where the counters are read
   * @param startedAt the producers' start (performance.now()): the rows' time origin
   * @param stages the scenario's stages, to tag each row with its stage (none: null)
   */
  constructor(
    private readonly sources: SamplerSources,
    private readonly startedAt: number,
    stages: readonly StageSpec[] = [],
  ) {
    this.lastAt = startedAt;
    for (const st of stages)
      this.stageEndsSec.push((this.stageEndsSec[this.stageEndsSec.length - 1] ?? 0) + st.durationSec);
  }

  /** Producers killed by fault injection up to the last sample. */
  get killed(): number {
    return this.lastKilled;
  }

  /** Handler throws up to the last sample. */
  get handlerErrors(): number {
    return this.lastErrors;
  }

  /** Samples the interval ending at `now` (performance.now()), appends its row and returns it. */
  sample(now: number): TimelineRow {
    const s = this.sources.consumer();
    let dropped = 0;
    let killedSoFar = 0;
    for (const p of this.sources.producers()) dropped += p.dropped;
    for (const d of this.sources.deaths()) if (d.cause === 'injected') killedSoFar++;
    const dt = (now - this.lastAt) / 1000;
    const window = this.sources.window;
    const timed = window.next();
    const tSec = (now - this.startedAt) / 1000;
    // The stage the interval's middle fell in.
    const mid = tSec - dt / 2;
    const stage = this.stageEndsSec.findIndex((end) => mid <= end);
    const row: TimelineRow = {
      tSec,
      recordsPerSec: (s.records - this.lastRecords) / dt,
      dropsPerSec: (dropped - this.lastDropped) / dt,
      backlogBytes: this.sources.backlog(),
      p50Us: timed > 0 ? window.percentileUs(50) : null,
      p99Us: timed > 0 ? window.percentileUs(99) : null,
      wakeups: s.wakeups - this.lastWakeups,
      kills: killedSoFar - this.lastKilled,
      handlerErrors: s.handlerErrors - this.lastErrors,
      stage: stage < 0 ? null : stage,
    };
    this.lastAt = now;
    this.lastRecords = s.records;
    this.lastDropped = dropped;
    this.lastWakeups = s.wakeups;
    this.lastKilled = killedSoFar;
    this.lastErrors = s.handlerErrors;
    this.rows.push(row);
    return row;
  }

  /**
   * Samples the last partial interval, unless it is too short to mean anything (so the rows account for every
   * record delivered).
   */
  finish(now: number): void {
    if (now - this.lastAt >= MIN_LAST_INTERVAL_MS) this.sample(now);
  }
}
