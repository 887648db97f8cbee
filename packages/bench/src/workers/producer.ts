/**
 * A bench producer: the kernel's `ringbuf_bench.c` program as a thread. Per batch ("trigger") it
 * makes `batchCnt` records with reserve+submit or output; a failed reservation counts as a drop.
 * Sampled mode picks the wakeup flag per record exactly as the kernel's bench does:
 * `query(BPF_RB_AVAIL_DATA) >= sampleRate * recordFootprint(payload)` -> FORCE, else NO_WAKEUP
 * (the kernel's `wakeup_data_size = sample_rate * 16`, 16 being its record footprint).
 *
 * Modes: parallel (batches back to back until STOP), b2b (one batch per consumer trigger), paced
 * (one timestamped record every `intervalUs`, plain flags; for the latency distribution). The api
 * 'batch' claims `claim` records per reserveBatch and commits them with one submitBatch (beyond the
 * kernel: the Disruptor's next(n) / publish(lo, hi)). With `exclusive`, the one producer holds the
 * ring's lock for good (claimExclusive, beyond the kernel: Agrona's one-to-one ring).
 */
import { workerData } from 'node:worker_threads';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  RingBuffer,
  recordFootprint,
  type RingShare,
} from '@ringbuf/core';
import { clockMicros } from '@ringbuf/instrument';
import { publish, stopRequested, waitChange } from '../harness/control.js';
import { payloadFiller } from '../harness/fill.js';
import {
  BATCH_DONE_INDEX,
  BATCH_SLEEPER_INDEX,
  TRIGGER_INDEX,
  TRIGGER_SLEEPER_INDEX,
  dropsIndex,
} from '../harness/layout.js';
import type { ScenarioParams } from '../scenarios/types.js';
import { Probe, awaitStart, ctl } from './common.js';

const { slot, share, params } = workerData as { slot: number; share: RingShare; params: ScenarioParams };
const ring = RingBuffer.attach(share, { producerId: slot + 1 });
if (params.exclusive === true && !ring.claimExclusive())
  throw new Error(`producer ${slot} could not claim the ring exclusively`);
const data = ring.data;
const view = ring.view;
const payload = new Uint8Array(params.payload);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + slot) & 0xff;
const wakeupBytes = params.sampleRate === null ? 0 : params.sampleRate * recordFootprint(params.payload);
const useOutput = params.api === 'output';
const size = params.payload;
const batchCnt = params.batchCnt;
const dropsAt = dropsIndex(slot);
const probe = new Probe(`producer${slot}`);
/** Failed reservations, kept a wrapping int32 (a small integer: incrementing it never allocates). */
let drops = 0;

/** The kernel bench's get_flags(). */
function flags(): number {
  if (wakeupBytes === 0) return 0;
  return ring.query(BPF_RB_AVAIL_DATA) >= wakeupBytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

const claim = params.claim ?? 64;
/** Copies the staged payload into a reservation (fill 'set' or 'words'). */
const fill = payloadFiller(data, payload, params.fill ?? 'set');

/** The batched claim/publish: `batchCnt` records as reserveBatch(size, claim) + submitBatch. */
function claimBatches(): void {
  for (let done = 0; done < batchCnt; done += claim) {
    const first = ring.reserveBatch(size, claim);
    if (first < 0) {
      drops = (drops + claim) | 0;
      continue;
    }
    for (let i = 0; i < claim; i++) fill(ring.batchOffset(first, i));
    ring.submitBatch(first, claim, flags());
  }
}

function batch(): void {
  if (params.api === 'batch') {
    claimBatches();
  } else if (useOutput) {
    for (let i = 0; i < batchCnt; i++) {
      if (!ring.output(payload, flags())) drops = (drops + 1) | 0;
    }
  } else {
    for (let i = 0; i < batchCnt; i++) {
      const off = ring.reserve(size);
      if (off < 0) {
        drops = (drops + 1) | 0;
        continue;
      }
      fill(off);
      ring.submit(off, flags());
    }
  }
  // Publishes this producer's drop count; main reads it per window.
  Atomics.store(ctl, dropsAt, drops);
}

function parallel(): void {
  while (!stopRequested(ctl)) {
    batch();
    probe.check();
  }
}

function backToBack(): void {
  let seq = 0;
  for (;;) {
    let t = waitChange(ctl, TRIGGER_INDEX, TRIGGER_SLEEPER_INDEX, seq);
    while (t === seq) {
      if (stopRequested(ctl)) return;
      t = waitChange(ctl, TRIGGER_INDEX, TRIGGER_SLEEPER_INDEX, seq);
    }
    if (stopRequested(ctl)) return;
    seq = t;
    batch();
    publish(ctl, BATCH_DONE_INDEX, BATCH_SLEEPER_INDEX, seq);
    probe.check();
  }
}

/**
 * The pacing deadline, as a field: a double passed to a function V8 does not inline is boxed (16
 * bytes a record, a scavenge every second or two at 50 k records/s), while a double field is updated
 * in place. Measured on this loop: 3-6 scavenges in 4 s with the deadline as an argument, 0 as a field.
 */
const pace = { next: 0 };

/**
 * Spins on the clock until `pace.next`. A small function called once per record, so that V8
 * compiles it whole and inlines the clock (whose [seconds, nanoseconds] array it then removes).
 */
function spinUntil(): void {
  const until = pace.next;
  let now = clockMicros();
  while (now < until) now = clockMicros();
}

/** Writes the commit time into the record and commits it (out of the long-running loop, as spinUntil). */
function stampAndSubmit(off: number): void {
  view.setFloat64(off, clockMicros(), true);
  ring.submit(off, 0);
}

function paced(): void {
  const interval = params.intervalUs ?? 20;
  pace.next = clockMicros();
  while (!stopRequested(ctl)) {
    pace.next += interval;
    spinUntil();
    const off = ring.reserve(size);
    if (off < 0) {
      drops = (drops + 1) | 0;
      // Publishes the drop count; main reads it per window.
      Atomics.store(ctl, dropsAt, drops);
    } else {
      stampAndSubmit(off);
    }
    probe.check();
  }
}

awaitStart();
if (params.mode === 'b2b') backToBack();
else if (params.mode === 'paced') paced();
else parallel();
await probe.finish();
