/**
 * Start a drain worker (drain-worker.ts) on a ring and stop it for its report.
 * Thread: the pool's thread (normally the main thread).
 */
import { RingBuffer, wakeConsumer, type RingShare } from '@ringbuf/core';
import { Worker } from 'node:worker_threads';
import { DRAIN_CONTROL_BYTES, DRAIN_STOP_INDEX } from './stats-layout.js';
import type { VerifySummary } from './verify.js';

/** What the drain worker receives. */
export interface DrainWorkerData {
  ring: RingShare;
  control: SharedArrayBuffer;
  verify: boolean;
  causal: boolean;
  pollMs: number;
  logLevel: string;
}

/** What the drain worker reports after it was stopped and had drained the ring. */
export interface DrainReport {
  records: number;
  bytes: number;
  discarded: number;
  busyStalls: number;
  polls: number;
  sleeps: number;
  wakeups: number;
  /** Milliseconds between start and the stop request. */
  activeMs: number;
  /** Positions after the final drain (equal when nothing is left). */
  prodPos: number;
  consPos: number;
  /** The lock's holder after the run (0 = free). */
  lockHolder: number;
  /** [producerId, records delivered] when verifying. */
  delivered: Array<[number, number]>;
  summary: VerifySummary | undefined;
}

export interface DrainHandle {
  /** Stops the drain after a final pass; resolves with its report. */
  stop(): Promise<DrainReport>;
}

export interface DrainOptions {
  /** Verify instrumented records (sequence, filler, owner; tokens in causal runs). @default true */
  verify?: boolean;
  causal?: boolean;
  /** Poll timeout; bounds how long a stop request can go unseen by a sleeping consumer. @default 20 */
  pollMs?: number;
  logLevel?: string;
}

/**
 * Starts a consumer worker on `ring`; resolves once it holds the ring's consumer slot.
 * @throws whatever the worker throws at start (e.g. ERR_RINGBUF_CONSUMER_EXISTS).
 */
export async function startDrain(ring: RingShare, options: DrainOptions = {}): Promise<DrainHandle> {
  const control = new SharedArrayBuffer(DRAIN_CONTROL_BYTES);
  const data: DrainWorkerData = {
    ring,
    control,
    verify: options.verify ?? true,
    causal: options.causal ?? false,
    pollMs: options.pollMs ?? 20,
    logLevel: options.logLevel ?? 'warn',
  };
  const worker = new Worker(new URL('./drain-worker.js', import.meta.url), { workerData: data });
  const messages: Array<{ type: string; report?: DrainReport }> = [];
  let waiter: (() => void) | undefined;
  let failure: unknown;
  worker.on('message', (m: { type: string; report?: DrainReport }) => {
    messages.push(m);
    waiter?.();
  });
  worker.on('error', (err) => {
    failure = err;
    waiter?.();
  });
  const next = async (type: string): Promise<{ type: string; report?: DrainReport }> => {
    for (;;) {
      if (failure !== undefined) throw failure;
      const i = messages.findIndex((m) => m.type === type);
      if (i >= 0) return messages.splice(i, 1)[0]!;
      await new Promise<void>((resolve) => (waiter = resolve));
    }
  };
  await next('ready');
  const handle = RingBuffer.attach(ring);
  const ctl = new Int32Array(control);
  return {
    async stop(): Promise<DrainReport> {
      // Publishes the stop request; the drain worker reads it between polls.
      Atomics.store(ctl, DRAIN_STOP_INDEX, 1);
      // Ends a sleeping poll at once (only notifies when the consumer announced its sleep).
      wakeConsumer(handle.wake);
      const m = await next('report');
      await worker.terminate();
      return m.report!;
    },
  };
}
