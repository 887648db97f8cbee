/**
 * Recovery of writers that die mid-line. A worker thread terminated (or exiting) between reserving a
 * record and submitting it leaves the record BUSY, and the consumer can pass no BUSY record. Node
 * tells only the thread that created a Worker when it is gone (its 'exit' event), so every thread
 * that has a transport or a destination watches the workers it creates (node:diagnostics_channel's
 * built-in 'worker_threads' channel announces each new Worker in the thread that made it) and, when
 * one exits, runs `ring.recoverProducer(threadId + 1)` on every ring it logs into: the dead thread's
 * BUSY records are discarded, its committed lines stay. Workers created before this thread made its
 * first transport or destination are not watched (make the transport first).
 */
import { subscribe } from 'node:diagnostics_channel';
import type { Worker } from 'node:worker_threads';
import type { RingBuffer } from '@ringbuf/core';
import { RECOVERED_INDEX } from './layout.js';

/** Rings this thread logs into, with their control blocks (held weakly: a dropped transport is not kept). */
const rings = new Set<WeakRef<RingBuffer>>();
const controls = new WeakMap<RingBuffer, Int32Array>();
let subscribed = false;

/** Registers this thread's handle of a ring for recovery of the workers this thread creates. */
export function watchWorkers(ring: RingBuffer, ctl?: Int32Array): void {
  rings.add(new WeakRef(ring));
  if (ctl !== undefined) controls.set(ring, ctl);
  if (subscribed) return;
  subscribed = true;
  subscribe('worker_threads', (message) => {
    const worker = (message as { worker?: Worker }).worker;
    if (worker === undefined || typeof worker.on !== 'function') return;
    const producerId = worker.threadId + 1;
    worker.once('exit', () => recoverDead(producerId));
  });
}

/** Registers the control block of a ring for recovery counts. */
export function watchControl(ring: RingBuffer, ctl: Int32Array): void {
  controls.set(ring, ctl);
}

/** Discards the BUSY records a dead thread left in every ring this thread logs into. */
function recoverDead(producerId: number): number {
  let discarded = 0;
  for (const ref of rings) {
    const ring = ref.deref();
    if (ring === undefined) {
      rings.delete(ref);
      continue;
    }
    if (ring.producerId === producerId) continue;
    try {
      const { recordsDiscarded } = ring.recoverProducer(producerId);
      if (recordsDiscarded > 0) {
        discarded += recordsDiscarded;
        const ctl = controls.get(ring);
        // Counts recovered records for stats.
        if (ctl !== undefined) Atomics.add(ctl, RECOVERED_INDEX, recordsDiscarded);
      }
    } catch {
      // A corrupt ring: the consumer reports it (RingBufCorruptionError) on its next pass.
    }
  }
  return discarded;
}
