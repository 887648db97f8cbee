/**
 * A consumer worker for load runs and tests: drains one ring with the libbpf-style Consumer, counts
 * records, optionally verifies instrumented records (SequenceVerifier), and reports when told to
 * stop. Thread: a worker_threads Worker started by `startDrain()`.
 */
import { Consumer } from '@ringbuf/consumer';
import { BPF_RB_CONS_POS, BPF_RB_PROD_POS, RingBuffer } from '@ringbuf/core';
import { parentPort, workerData } from 'node:worker_threads';
import { threadLogger, type LogLevel } from '@ringbuf/instrument/log';
import { DRAIN_STOP_INDEX } from './stats-layout.js';
import type { DrainReport, DrainWorkerData } from './drain.js';
import { SequenceVerifier } from './verify.js';

const input = workerData as DrainWorkerData;
const log = threadLogger(input.logLevel as LogLevel).child({ role: 'drain' });
const ring = RingBuffer.attach(input.ring);
const ctl = new Int32Array(input.control);
const verifier = input.verify ? new SequenceVerifier(ring, { causal: input.causal }) : undefined;
const consumer = verifier ? new Consumer(ring, (d, o, s) => verifier.onRecord(d, o, s)) : new Consumer(ring, () => {});
parentPort!.postMessage({ type: 'ready' });
log.debug('drain started');

const startUs = performance.now();
// Observes the main thread's stop request between polls; a sleeping poll is ended by its wake.
while (Atomics.load(ctl, DRAIN_STOP_INDEX) === 0) consumer.poll(input.pollMs);
const endUs = performance.now();
// Every producer has settled and been recovered: whatever is left is committed or discarded.
while (consumer.consume() > 0);
const counters = consumer.ringCounters(0)!;
const report: DrainReport = {
  records: counters.records,
  bytes: counters.bytes,
  discarded: counters.discarded,
  busyStalls: counters.busyStalls,
  polls: consumer.counters.polls,
  sleeps: consumer.counters.sleeps,
  wakeups: consumer.counters.wakeups,
  activeMs: endUs - startUs,
  prodPos: ring.query(BPF_RB_PROD_POS),
  consPos: ring.query(BPF_RB_CONS_POS),
  lockHolder: ring.lockHolder(),
  delivered: verifier ? verifier.deliveredCounts() : [],
  summary: verifier ? verifier.summary() : undefined,
};
consumer.close();
log.debug({ records: report.records }, 'drain finished');
parentPort!.postMessage({ type: 'report', report });
