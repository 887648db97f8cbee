/**
 * Peer: `postMessage` from a producer worker to a consumer worker through a MessageChannel, one
 * 16-byte record per message or `peerBatch` records per message (one buffer of batch × payload
 * bytes, structured-cloned). postMessage has no backpressure: by default the producer keeps at most
 * `peerWindow` (4096) records in flight (it reads the consumer's hit count); with `peerWindow: null`
 * it posts as fast as it can (fire and forget, the backlog growing in memory for the few seconds of
 * a run), and the consumer closes its port at the stop request rather than drain that backlog.
 * Records are never dropped while the run lasts.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { stopRequested } from '../harness/control.js';
import { HITS_INDEX } from '../harness/layout.js';
import type { ScenarioParams } from '../scenarios/types.js';
import { Probe, awaitStart, ctl, markReady, toMain } from '../workers/common.js';

/** Records in flight at most by default (the consumer's hit count lags the sends by at most this). */
const WINDOW_RECORDS = 4096;

const { role, port, params } = workerData as {
  role: 'producer' | 'consumer';
  port: MessagePort;
  params: ScenarioParams;
};
const batch = params.peerBatch ?? 1;
const window = params.peerWindow === null ? Infinity : (params.peerWindow ?? WINDOW_RECORDS);

if (role === 'producer') {
  const probe = new Probe('producer0');
  const message = new Uint8Array(params.payload * batch);
  for (let i = 0; i < message.length; i++) message[i] = i & 0xff;
  awaitStart();
  let sent = 0;
  while (!stopRequested(ctl)) {
    // Observes the consumer's hit count (flow control).
    if (sent - Atomics.load(ctl, HITS_INDEX) < window) {
      port.postMessage(message);
      sent += batch;
      if ((sent & 1023) < batch) probe.check();
    }
  }
  port.close();
  await probe.finish();
} else {
  const probe = new Probe('consumer');
  let hits = 0;
  port.on('message', () => {
    hits += batch;
    // Publishes the hit count; main and the producer read it.
    Atomics.store(ctl, HITS_INDEX, hits);
    if ((hits & 1023) < batch) {
      probe.check();
      // An unbounded backlog is not drained after the stop request: close the port, so that the
      // stop message is reached.
      if (window === Infinity && stopRequested(ctl)) port.close();
    }
  });
  toMain.once('message', () => {
    port.close();
    void probe.finish();
  });
  markReady();
}
