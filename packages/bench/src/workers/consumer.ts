/**
 * A bench consumer: the libbpf-style `Consumer.poll(-1)` loop over one ring (or, for the
 * perf-buffer analogue, one ring per producer drained ring by ring), counting hits in its callback
 * (as the kernel bench's callback does) and publishing them in the control block. In b2b mode it triggers each batch
 * and polls once the batch is produced,
 * as the kernel bench's consumer does after its `bufs_trigger_batch()`.
 */
import { createHistogram } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import { BPF_RB_AVAIL_DATA, RingBuffer, WakeGroup, type RingShare } from '@ringbuf/core';
import { Consumer, summarize } from '@ringbuf/consumer';
import { clockMicros } from '@ringbuf/instrument';
import { publish, stopRequested, waitChange } from '../harness/control.js';
import {
  BATCH_DONE_INDEX,
  BATCH_SLEEPER_INDEX,
  HITS_INDEX,
  TRIGGER_INDEX,
  TRIGGER_SLEEPER_INDEX,
} from '../harness/layout.js';
import type { ScenarioParams } from '../scenarios/types.js';
import { Probe, awaitStart, ctl } from './common.js';

const { shares, params } = workerData as { shares: RingShare[]; params: ScenarioParams };
const wakeBuffer = shares[0]?.wakeBuffer;
if (wakeBuffer === undefined) throw new Error('the bench consumer needs at least one ring created with a wake group');
const group = WakeGroup.attach(wakeBuffer);
const rings = shares.map((s) => RingBuffer.attach(s, { wakeGroup: group }));
const [first, ...others] = rings as [RingBuffer, ...RingBuffer[]];
const histogram = createHistogram();
const latencyView = first.view;
let hits = 0;
/**
 * Counts a hit, publishing the count every 1024 records: one pass of poll() can run for as long as
 * producers keep up with it (libbpf's walk re-reads producer_pos until nothing new came).
 */
const count = (): void => {
  if ((++hits & 1023) === 0) {
    // Publishes the hit count; main reads it per window.
    Atomics.store(ctl, HITS_INDEX, hits);
  }
};
const recordLatency = (_data: Uint8Array, offset: number): void => {
  const ns = Math.round((clockMicros() - latencyView.getFloat64(offset, true)) * 1000);
  histogram.record(ns > 0 ? ns : 1);
  count();
};
const callback = params.mode === 'paced' ? recordLatency : count;
const consumer = new Consumer(first, callback, { publish: params.consumerPublish ?? 'record' });
for (const ring of others) consumer.add(ring, callback);
const probe = new Probe('consumer');

/** poll(-1) sleeps on the wake word; poll(0) never waits (a busy-polling consumer, one core busy). */
const pollTimeout = params.consumerWait === 'busy' ? 0 : -1;

function parallel(): void {
  while (!stopRequested(ctl)) {
    if (consumer.poll(pollTimeout) > 0) {
      // Publishes the exact hit count after the pass; main reads it per window.
      Atomics.store(ctl, HITS_INDEX, hits);
    }
    // The latency distribution covers the measurement windows only.
    if (probe.check()) histogram.reset();
  }
}

function backToBack(): void {
  const ring = first;
  let seq = 0;
  while (!stopRequested(ctl)) {
    seq++;
    publish(ctl, TRIGGER_INDEX, TRIGGER_SLEEPER_INDEX, seq);
    let done = waitChange(ctl, BATCH_DONE_INDEX, BATCH_SLEEPER_INDEX, seq - 1);
    while (done !== seq) {
      if (stopRequested(ctl)) return;
      done = waitChange(ctl, BATCH_DONE_INDEX, BATCH_SLEEPER_INDEX, seq - 1);
    }
    // The batch is produced: poll(-1) returns at once (level-triggered). Guard the all-dropped case.
    if (ring.query(BPF_RB_AVAIL_DATA) === 0) continue;
    consumer.poll(-1);
    // Publishes the hit count; main reads it per window.
    Atomics.store(ctl, HITS_INDEX, hits);
    probe.check();
  }
}

awaitStart();
if (params.mode === 'b2b') backToBack();
else parallel();
const latency = params.mode === 'paced' && histogram.count > 0 ? summarize(histogram) : undefined;
consumer.close();
await probe.finish({
  wakeups: consumer.counters.wakeups,
  sleeps: consumer.counters.sleeps,
  ...(latency ? { latency } : {}),
});
