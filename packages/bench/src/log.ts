/**
 * The CLI's logging: the workspace's one logger module (`@ringbuf/consumer`'s pino logger per
 * thread, stderr, pretty on a terminal), with the level set from `--log-level`. Worker threads get
 * the level through their options and set it before logging. Nothing here is called per record.
 */
import { LOG_LEVELS, childLogger, threadLogger, type LogLevel } from '@ringbuf/instrument/log';

export { LOG_LEVELS, childLogger };
export type { LogLevel };

/** Sets this thread's log level. Thread: any (affects only this thread). */
export function setLogLevel(level: LogLevel): void {
  threadLogger(level);
}
