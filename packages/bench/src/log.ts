/**
 * One pino logger per thread, writing to stderr (fd 2); stdout is kept for results.
 *
 * The level comes from `setLogLevel` (the CLI's `--log-level`), else the `RINGBUF_LOG_LEVEL`
 * environment variable, else `warn`. Worker threads get the level through `workerData.logLevel`
 * and call `setLogLevel` before logging. Nothing here is called per record.
 */
import pino, { type Logger } from 'pino';
import { isMainThread, threadId } from 'node:worker_threads';

/** Levels accepted by `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function envLevel(): LogLevel {
  const env = process.env['RINGBUF_LOG_LEVEL'];
  return (LOG_LEVELS as readonly string[]).includes(env ?? '') ? (env as LogLevel) : 'warn';
}

/** This thread's root logger (bindings: thread id, main or worker). */
export const logger: Logger = pino(
  { level: envLevel(), base: { thread: threadId, role: isMainThread ? 'main' : 'worker' } },
  pino.destination({ dest: 2, sync: true }),
);

/** Sets this thread's log level. Thread: any (affects only this thread). */
export function setLogLevel(level: LogLevel): void {
  logger.level = level;
}

/** A child logger with extra bindings (e.g. `{ component: 'bench', scenario }`). Thread: any. */
export function childLogger(bindings: Record<string, unknown>): Logger {
  return logger.child(bindings);
}
