/**
 * The open-loop schedule: the intended time of each trigger (a trigger carries `batch` records).
 * At a fixed rate, triggers are `1e6 * batch / ratePerProducer` µs apart; with stages (a load profile
 * like k6's), each stage ramps the rate linearly from the previous stage's target (0 before the
 * first) to its own, and the n-th trigger of a stage is at the time the ramp's cumulative count
 * reaches n. Allocation-free after construction. Thread: the producer's.
 */
import type { FilledScenario } from './options.js';

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

/** One producer's trigger times: a fixed interval, or the stages' ramps. */
export class TriggerSchedule {
  /** The intended time (clockMicros()) of the next trigger; Infinity after the last stage. */
  nextUs = 0;
  private readonly staged: boolean;
  /** Fixed rate: µs between two triggers. */
  private readonly intervalUs: number;
  private readonly batch: number;
  /** Stages: the load profile (flat lists), the current stage, its start and the triggers scheduled in it. */
  private readonly durationsUs: readonly number[];
  private readonly targets: readonly number[];
  private stage = 0;
  private stageStartUs = 0;
  private stageTriggers = 0;
  /** The current stage's trigger rate at its start (per µs) and half its slope (per µs²). */
  private perUs = 0;
  private rampPerUs2 = 0;

  constructor(sc: FilledScenario) {
    this.staged = sc.stageTargets.length > 0;
    this.intervalUs = sc.ratePerProducer > 0 ? (1e6 * sc.batch) / sc.ratePerProducer : 0;
    this.batch = sc.batch;
    this.durationsUs = sc.stageDurationsUs;
    this.targets = sc.stageTargets;
  }

  /**
   * The first trigger is at `nowUs`; stages: position the schedule that began at `scheduleStartUs`
   * at `nowUs` (a replacement joins its slot's schedule where it is, without the triggers its
   * predecessor missed).
   */
  start(scheduleStartUs: number, nowUs: number): void {
    this.nextUs = nowUs;
    if (!this.staged) return;
    this.stage = 0;
    this.stageStartUs = scheduleStartUs;
    this.stageTriggers = 0;
    const durations = this.durationsUs;
    while (this.stage < durations.length && this.stageStartUs + (durations[this.stage] ?? 0) <= nowUs) {
      this.stageStartUs += durations[this.stage] ?? 0;
      this.stage++;
    }
    this.setStageRates();
    if (this.stage < durations.length && nowUs > this.stageStartUs) {
      const t = nowUs - this.stageStartUs;
      this.stageTriggers = Math.ceil(this.perUs * t + this.rampPerUs2 * t * t);
    }
    this.nextUs = this.nextStageTrigger();
  }

  /** Moves `nextUs` on by one trigger. */
  advance(): void {
    this.nextUs = this.staged ? this.nextStageTrigger() : this.nextUs + this.intervalUs;
  }

  /** The rate formula: the current stage's rate at its start and half its slope, from the targets. */
  private setStageRates(): void {
    const from = this.stage === 0 ? 0 : (this.targets[this.stage - 1] ?? 0);
    const to = this.targets[this.stage] ?? 0;
    const durationUs = this.durationsUs[this.stage] ?? 1;
    this.perUs = from / 1e6 / this.batch;
    this.rampPerUs2 = (to - from) / 1e6 / this.batch / (2 * durationUs);
  }

  /**
   * Stages: the intended time of the next trigger, from the linear ramp of the current stage, moving
   * on to the next stage once a stage has no trigger left; Infinity after the last one.
   */
  private nextStageTrigger(): number {
    const durations = this.durationsUs;
    while (this.stage < durations.length) {
      const durationUs = durations[this.stage] ?? 0;
      const t = rampTimeOf(this.stageTriggers, this.perUs, this.rampPerUs2);
      if (t < durationUs) {
        this.stageTriggers++;
        return this.stageStartUs + t;
      }
      this.stageStartUs += durationUs;
      this.stage++;
      this.stageTriggers = 0;
      this.setStageRates();
    }
    return Infinity;
  }
}
