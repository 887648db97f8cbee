/**
 * The achieved rate of each `--stages` stage, measured on the main thread from the pool's live
 * counters: every few milliseconds it reads each producer slot's attempted records (all of the
 * slot's incarnations) and the slot's schedule start (its first producer's start time), and when a
 * slot's elapsed time crosses a stage boundary it interpolates the slot's count at the boundary
 * between the two samples around it. A stage's achieved rate is then its records per second per
 * producer over the slots. Thread: main; nothing here runs per record.
 */
import { clockMicros } from '@ringbuf/instrument';
import type { ProducerReport } from '@ringbuf/producer-pool';
import type { StageSpec } from '../options.js';

/** A stage as reported. */
export interface StageResult {
  durationSec: number;
  /** The rate the stage ramps to (records/s per producer). */
  targetRate: number;
  /** The rate it starts from (the previous stage's target; 0 for the first). */
  fromRate: number;
  /** The stage's mean scheduled rate: (fromRate + targetRate) / 2. */
  expectedRate: number;
  /** Records attempted per second per producer while the stage ran; null if it never ran. */
  achievedRate: number | null;
  /** Seconds of the stage that ran (less than durationSec when the run was cut short). */
  ranSec: number;
}

interface SlotTrack {
  startUs: number;
  lastUs: number;
  lastCount: number;
  /** The slot's count at each boundary crossed so far (index k: end of stage k). */
  atBoundary: number[];
}

/** Samples the pool; {@link StageMonitor.results} once the run has ended. */
export class StageMonitor {
  private readonly boundariesUs: number[] = [];
  private readonly slots = new Map<number, SlotTrack>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param stages the stages
   * @param stats the pool's live counters (ProducerPool.stats)
   * @param everyMs sampling period
   */
  constructor(
    private readonly stages: readonly StageSpec[],
    private readonly stats: () => readonly ProducerReport[],
    private readonly everyMs = 10,
  ) {
    let acc = 0;
    for (const s of stages) this.boundariesUs.push((acc += s.durationSec * 1e6));
  }

  start(): void {
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  /** One sample of every slot. */
  sample(nowUs = clockMicros()): void {
    const bySlot = new Map<number, { startUs: number; count: number }>();
    for (const p of this.stats()) {
      const e = bySlot.get(p.slot) ?? { startUs: Infinity, count: 0 };
      if (p.startUs > 0 && p.startUs < e.startUs) e.startUs = p.startUs;
      e.count += p.attempted;
      bySlot.set(p.slot, e);
    }
    for (const [slot, { startUs, count }] of bySlot) {
      if (startUs === Infinity) continue;
      let track = this.slots.get(slot);
      if (track === undefined) {
        track = { startUs, lastUs: startUs, lastCount: 0, atBoundary: [] };
        this.slots.set(slot, track);
      }
      while (track.atBoundary.length < this.boundariesUs.length) {
        const b = startUs + (this.boundariesUs[track.atBoundary.length] ?? Infinity);
        if (nowUs < b) break;
        const span = nowUs - track.lastUs;
        const at = span > 0 ? track.lastCount + ((count - track.lastCount) * (b - track.lastUs)) / span : count;
        track.atBoundary.push(at);
      }
      track.lastUs = nowUs;
      track.lastCount = count;
    }
  }

  /** Stops sampling (after one last sample). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  /** Each stage's target and achieved rate. */
  results(): StageResult[] {
    const tracks = [...this.slots.values()];
    return this.stages.map((s, k) => {
      const fromRate = k === 0 ? 0 : (this.stages[k - 1]?.targetRate ?? 0);
      const startUs = k === 0 ? 0 : (this.boundariesUs[k - 1] ?? 0);
      let records = 0;
      let ranUs = 0;
      let ran = 0;
      for (const t of tracks) {
        const from = k === 0 ? 0 : t.atBoundary[k - 1];
        if (from === undefined) continue;
        const to = t.atBoundary[k] ?? t.lastCount;
        const endUs = t.atBoundary[k] !== undefined ? (this.boundariesUs[k] ?? 0) : t.lastUs - t.startUs;
        if (endUs <= startUs) continue;
        records += to - from;
        ranUs += endUs - startUs;
        ran++;
      }
      return {
        durationSec: s.durationSec,
        targetRate: s.targetRate,
        fromRate,
        expectedRate: (fromRate + s.targetRate) / 2,
        achievedRate: ran === 0 ? null : records / (ranUs / 1e6),
        ranSec: ran === 0 ? 0 : ranUs / ran / 1e6,
      };
    });
  }
}
