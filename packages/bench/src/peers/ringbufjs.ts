/**
 * Peer: padenot's `ringbuf.js` 0.4.0 (npm), SPSC over a SharedArrayBuffer of bytes. The producer
 * pushes one 16-byte record per `push` (or `peerBatch` records per push); a push that does not fit
 * counts as a drop, as a failed reservation does for ours. The consumer busy-polls `pop` (ringbuf.js
 * has no blocking wait) and publishes its hit count every 64 pops or when the ring is empty.
 */
import { RingBuffer as RbjsRing } from 'ringbuf.js';
import { workerData } from 'node:worker_threads';
import { stopRequested } from '../harness/control.js';
import { HITS_INDEX, dropsIndex } from '../harness/layout.js';
import type { ScenarioParams } from '../scenarios/types.js';
import { Probe, awaitStart, ctl } from '../workers/common.js';

const { role, sab, params } = workerData as {
  role: 'producer' | 'consumer';
  sab: SharedArrayBuffer;
  params: ScenarioParams;
};
const batch = params.peerBatch ?? 1;
const bytes = params.payload * batch;
const ring = new RbjsRing(sab, Uint8Array);
const buf = new Uint8Array(bytes);

if (role === 'producer') {
  const probe = new Probe('producer0');
  for (let i = 0; i < buf.length; i++) buf[i] = i & 0xff;
  const dropsAt = dropsIndex(0);
  awaitStart();
  let drops = 0;
  while (!stopRequested(ctl)) {
    for (let i = 0; i < 64; i++) {
      const n = ring.push(buf, bytes);
      if (n < bytes) drops = (drops + (((bytes - n) / params.payload) | 0)) | 0;
    }
    // Publishes the drop count; main reads it per window.
    Atomics.store(ctl, dropsAt, drops);
    probe.check();
  }
  await probe.finish();
} else {
  const probe = new Probe('consumer');
  awaitStart();
  /** Records consumed, kept a wrapping int32 (a small integer: adding to it never allocates). */
  let hits = 0;
  let pops = 0;
  for (;;) {
    const n = ring.pop(buf, bytes);
    hits = (hits + ((n / params.payload) | 0)) | 0;
    if (n === 0 || ++pops === 64) {
      pops = 0;
      // Publishes the hit count; main reads it per window.
      Atomics.store(ctl, HITS_INDEX, hits);
      if (n === 0 && stopRequested(ctl)) break;
      probe.check();
    }
  }
  await probe.finish();
}
