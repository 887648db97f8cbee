/**
 * The producer's worker entry: one piscina task per producer lifetime, standing in for one CPU
 * running a BPF program that writes to the ring (the kernel bench's `ringbuf_bench.c` producer,
 * generalised). The pool loads this file by URL (pool.ts, `startPiscina`): keep its name.
 *
 * Steps: {@link producerTask} publishes THREAD_ID, logs, loads the user's producer module if the
 * scenario names one (user-module.ts), then runs a {@link RecordLoop} (record-loop.ts) to its end and
 * logs the outcome. The messages it receives and resolves to are in messages.ts. Thread: a piscina
 * worker.
 */
import { threadId } from 'node:worker_threads';
import { threadLogger, type LogLevel } from '@ringbuf/instrument/log';
import type { ProducerOutcome, ProducerTask } from './messages.js';
import { DYING_ASYNC, RecordLoop, STOPPED } from './record-loop.js';
import {
  ATTEMPTED_F64,
  COMMITTED_F64,
  DISCARDED_F64,
  DROPPED_F64,
  STATE_INDEX,
  STATE_SETUP_FAILED,
  THREAD_ID_INDEX,
} from './stats-layout.js';
import { loadUserWrite, type UserWrite } from './user-module.js';

/**
 * The piscina task: runs one producer to the end of its scenario, a stop request, or its death.
 * Resolves with its outcome; never settles when it dies by an uncaught exception.
 */
export default function producerTask(task: ProducerTask): ProducerOutcome | Promise<ProducerOutcome> | Promise<never> {
  const log = threadLogger(task.logLevel as LogLevel);
  // Publishes the thread id before anything else (a module's init may never return): the main
  // thread's watchdog and kill scheduler observe it to find this Worker.
  Atomics.store(new Int32Array(task.stats), THREAD_ID_INDEX, threadId);
  log.info({ producerId: task.producerId, slot: task.slot, threadId }, 'producer started');
  if (task.scenario.producerModule !== undefined) {
    return loadUserWrite(task).then(
      (write) => runLoop(task, log, write),
      (err: unknown) => setupFailed(task, err),
    );
  }
  return runLoop(task, log, undefined);
}

/**
 * The producer module could not be used: publish SETUP_FAILED, then reject with what failed (the
 * pool ends the run with a ProducerModuleError naming it).
 */
function setupFailed(task: ProducerTask, err: unknown): never {
  // Publishes SETUP_FAILED before the task rejects; the pool observes it in its death handling.
  Atomics.store(new Int32Array(task.stats), STATE_INDEX, STATE_SETUP_FAILED);
  throw err instanceof Error ? err : new Error(String(err));
}

/** Runs the record loop to its end and logs the outcome. */
function runLoop(
  task: ProducerTask,
  log: ReturnType<typeof threadLogger>,
  write: UserWrite | undefined,
): ProducerOutcome | Promise<never> {
  const code = new RecordLoop(task, write).run();
  if (code === DYING_ASYNC) return new Promise<never>(() => {});
  const f = new Float64Array(task.stats);
  log.info(
    {
      producerId: task.producerId,
      slot: task.slot,
      attempted: f[ATTEMPTED_F64],
      committed: f[COMMITTED_F64],
      discarded: f[DISCARDED_F64],
      dropped: f[DROPPED_F64],
      stopped: code === STOPPED,
    },
    'producer finished',
  );
  return { producerId: task.producerId, stopped: code === STOPPED };
}
