/**
 * The messages between the pool and a producer thread: the task the pool posts to start one
 * producer and what the task resolves to. Types only, so the main thread loads none of the
 * producer's code to name them.
 */
import type { RingShare } from '@ringbuf/core';
import type { FilledScenario } from './options.js';

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
