/**
 * One pino logger per thread, to stderr (fd 2), with child bindings per producer. Lifecycle events
 * only: nothing is ever logged per record.
 */
import { pino, type Logger } from 'pino';
import { isMainThread, threadId } from 'node:worker_threads';

let root: Logger | undefined;

/** This thread's logger (created on first use at `level`; later calls may lower or raise it). */
export function threadLogger(level: string): Logger {
  if (root === undefined) {
    // Synchronous writes: a producer may end with process.exit() right after a lifecycle line.
    root = pino(
      { name: 'ringbuf-producer-pool', level, base: { thread: isMainThread ? 'main' : `worker-${threadId}` } },
      pino.destination({ fd: 2, sync: true }),
    );
  } else {
    root.level = level;
  }
  return root;
}
