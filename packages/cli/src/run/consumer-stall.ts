/**
 * A stalled consumer, seen from the main thread (beyond the kernel; core's heartbeat.ts): the
 * consumer stamps each ring's heartbeat word every few milliseconds while it runs or sleeps, so a
 * stamp older than a threshold while the ring holds unread data says the consumer thread is dead or
 * stuck (a handler that never returns), not merely slow. Every {@link STALL_EVERY_MS} this reads each
 * ring's `consumerHeartbeatAgeMs()` and AVAIL_DATA (two loads and a clock read per ring, nothing per
 * record) and keeps the longest stall seen, for the progress line ("consumer stalled: no heartbeat
 * for N ms") and the final report. A hint only: a consumer stopped in a debugger, or inside one very
 * long handler call, looks the same; the run's verdict does not depend on it.
 * Thread: main.
 */
import { BPF_RB_AVAIL_DATA, type RingBuffer } from '@ringbuf/core';

/** How often the heartbeats are read (ms). */
const STALL_EVERY_MS = 100;

/** The longest stall a run saw. */
export interface ConsumerStall {
  /** The oldest heartbeat seen while data waited, in ms. */
  maxAgeMs: number;
  /** Seconds into the run when the stall was first seen. */
  firstAtSec: number;
  /** Unread bytes (AVAIL_DATA, all rings) at the longest stall. */
  backlogBytes: number;
  /** The threshold it crossed, in ms. */
  thresholdMs: number;
}

/** Watches the consumer's heartbeat on every ring of a run. */
export class StallWatch {
  private worst: ConsumerStall | undefined;
  private currentMs = -1;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param rings the run's rings
   * @param thresholdMs a heartbeat older than this, with data waiting, is a stall
   * @param startedAt performance.now() at the run's start
   */
  constructor(
    private readonly rings: readonly RingBuffer[],
    private readonly thresholdMs: number,
    private readonly startedAt: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), STALL_EVERY_MS);
  }

  /** Stops reading (after one last look). Idempotent. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  /** One look at every ring (public for tests). Returns the current stall's age in ms, or -1. */
  sample(now = performance.now()): number {
    let age = -1;
    let backlog = 0;
    for (const ring of this.rings) {
      const unread = ring.query(BPF_RB_AVAIL_DATA);
      const beat = ring.consumerHeartbeatAgeMs();
      if (unread > 0 && beat > this.thresholdMs) age = Math.max(age, beat);
      backlog += unread;
    }
    this.currentMs = age;
    if (age >= 0 && (this.worst === undefined || age > this.worst.maxAgeMs)) {
      const firstAtSec = this.worst?.firstAtSec ?? (now - this.startedAt) / 1000;
      this.worst = { maxAgeMs: age, firstAtSec, backlogBytes: backlog, thresholdMs: this.thresholdMs };
    }
    return age;
  }

  /** The current stall's age in ms as of the last look, or -1 when none. */
  get current(): number {
    return this.currentMs;
  }

  /** The longest stall seen, if any. */
  get longest(): ConsumerStall | undefined {
    return this.worst;
  }
}

/** A stall as the progress line and the report say it. */
export function describeStall(ms: number): string {
  return `consumer stalled: no heartbeat for ${Math.round(ms)} ms`;
}
