/**
 * Logging: one pino logger per thread, writing JSON lines to stderr (fd 2) so that stdout carries
 * results only. Components take children of it with their own bindings (`{ component: 'runtime' }`).
 * Level: the `level` option, else env `RINGBUF_LOG_LEVEL`, else `'warn'` (tests and the CLI stay
 * quiet). Nothing is ever logged per record.
 *
 * Readable on a terminal: when the main thread's stderr is a TTY, lines are formatted by pino-pretty
 * (synchronously, in this thread). Worker threads' stderr is never a TTY, so the main thread decides
 * for the process and records it in env `RINGBUF_LOG_PRETTY`, which workers created afterwards
 * inherit. Set `RINGBUF_LOG_PRETTY=0` to keep JSON lines.
 */
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';
import PinoPretty from 'pino-pretty';
import { isMainThread, threadId } from 'node:worker_threads';
import { InstrumentError, InstrumentRangeError, describe } from './errors.js';

if (isMainThread && process.env['RINGBUF_LOG_PRETTY'] === undefined && process.stderr.isTTY) {
  process.env['RINGBUF_LOG_PRETTY'] = '1';
}

/** Levels accepted by {@link threadLogger}, in order of severity. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type { Logger } from 'pino';

/** Log levels accepted by {@link threadLogger}. */
export type LogLevel = LevelWithSilent;

const LEVELS: ReadonlySet<string> = new Set(LOG_LEVELS);

/** The fields the logger writes on every line itself, which bindings may not rebind. */
const OWN_FIELDS = ['level', 'time', 'pid', 'thread', 'name', 'msg'] as const;

function levelRefusal(level: unknown): InstrumentRangeError {
  return new InstrumentRangeError(
    'ERR_INSTRUMENT_LOG_LEVEL',
    `log level must be one of ${LOG_LEVELS.join(', ')}, got ${describe(level)}`,
  );
}

let root: Logger | undefined;

/** The level a thread uses when none is given: env `RINGBUF_LOG_LEVEL` if valid, else 'warn'. */
export function defaultLogLevel(): LogLevel {
  const env = process.env['RINGBUF_LOG_LEVEL'];
  return env !== undefined && LEVELS.has(env) ? (env as LogLevel) : 'warn';
}

/**
 * This thread's logger (created on first use), with `{ thread }` bound. A later call with a `level`
 * changes the level of the thread's logger. Thread: any; each thread has its own.
 * @throws InstrumentRangeError `ERR_INSTRUMENT_LOG_LEVEL` when `level` is not one of LOG_LEVELS (the
 *   logger is then neither created nor changed).
 */
export function threadLogger(level?: LogLevel): Logger {
  if (level !== undefined && !LEVELS.has(level)) throw levelRefusal(level);
  if (root === undefined) {
    // Synchronous writes: a thread may end with process.exit() right after a lifecycle line.
    const destination: DestinationStream =
      process.env['RINGBUF_LOG_PRETTY'] === '1'
        ? PinoPretty({ destination: 2, sync: true, colorize: true })
        : pino.destination({ fd: 2, sync: true });
    root = pino(
      {
        name: 'ringbuf',
        level: level ?? defaultLogLevel(),
        base: { pid: process.pid, thread: isMainThread ? 'main' : threadId },
      },
      destination,
    );
  } else if (level !== undefined) {
    root.level = level;
  }
  return root;
}

/**
 * A child of this thread's logger with `bindings` (e.g. `{ component: 'runtime', runtime: id }`),
 * at `level` when given (the thread's logger keeps its own level). Thread: any.
 * @throws InstrumentRangeError `ERR_INSTRUMENT_LOG_LEVEL` when `level` is not one of LOG_LEVELS;
 *   InstrumentError `ERR_INSTRUMENT_LOG_BINDINGS` when `bindings` is not an object, or binds a field
 *   of every line (`level`, `time`, `pid`, `thread`, `name`, `msg`: pino drops a bound `level` and
 *   writes the others twice, and a JSON parser keeps the last).
 */
export function childLogger(bindings: Record<string, unknown>, level?: LogLevel): Logger {
  if (level !== undefined && !LEVELS.has(level)) throw levelRefusal(level);
  // Untrusted: checked as whatever it is.
  const raw: unknown = bindings;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InstrumentError('ERR_INSTRUMENT_LOG_BINDINGS', `bindings must be an object, got ${describe(raw)}`);
  }
  for (const name of OWN_FIELDS) {
    if (Object.hasOwn(bindings, name)) {
      throw new InstrumentError(
        'ERR_INSTRUMENT_LOG_BINDINGS',
        `bindings must not bind ${JSON.stringify(name)}: the logger writes ` +
          `${OWN_FIELDS.map((f) => JSON.stringify(f)).join(', ')} itself`,
      );
    }
  }
  return level === undefined ? threadLogger().child(bindings) : threadLogger().child(bindings, { level });
}
