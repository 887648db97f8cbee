/**
 * Logging: one pino logger per thread, writing JSON lines to stderr (fd 2) so that stdout carries
 * results only. Components take children of it with their own bindings (`{ component: 'runtime' }`).
 * Level: the `level` option, else env `RINGBUF_LOG_LEVEL`, else `'warn'` (tests and the CLI stay
 * quiet). Nothing is ever logged per record.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { isMainThread, threadId } from 'node:worker_threads';

export type { Logger } from 'pino';

/** Log levels accepted by {@link threadLogger}. */
export type LogLevel = LevelWithSilent;

const LEVELS: ReadonlySet<string> = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

let root: Logger | undefined;

/** The level a thread uses when none is given: env `RINGBUF_LOG_LEVEL` if valid, else 'warn'. */
export function defaultLogLevel(): LogLevel {
  const env = process.env['RINGBUF_LOG_LEVEL'];
  return env !== undefined && LEVELS.has(env) ? (env as LogLevel) : 'warn';
}

/**
 * This thread's logger (created on first use), with `{ thread }` bound. A later call with a `level`
 * changes the level of the thread's logger. Thread: any; each thread has its own.
 * @throws RangeError when `level` is not a pino level.
 */
export function threadLogger(level?: LogLevel): Logger {
  if (level !== undefined && !LEVELS.has(level)) {
    throw new RangeError(`log level must be one of ${[...LEVELS].join(', ')}, got ${String(level)}`);
  }
  if (root === undefined) {
    root = pino(
      { name: 'ringbuf', level: level ?? defaultLogLevel(), base: { pid: process.pid, thread: isMainThread ? 'main' : threadId } },
      pino.destination({ fd: 2, sync: true }),
    );
  } else if (level !== undefined) {
    root.level = level;
  }
  return root;
}

/**
 * A child of this thread's logger with `bindings` (e.g. `{ component: 'runtime', runtime: id }`),
 * at `level` when given (the thread's logger keeps its own level). Thread: any.
 * @throws RangeError when `level` is not a pino level.
 */
export function childLogger(bindings: Record<string, unknown>, level?: LogLevel): Logger {
  if (level !== undefined && !LEVELS.has(level)) {
    throw new RangeError(`log level must be one of ${[...LEVELS].join(', ')}, got ${String(level)}`);
  }
  return level === undefined ? threadLogger().child(bindings) : threadLogger().child(bindings, { level });
}
