/**
 * The frame every run command (`load`, `order`, `latency`) runs its measurement in: the thread's
 * logger, the progress line on stderr, Ctrl-C handling, and a throw turned into exit 1 with one line
 * on stderr. Thread: main.
 */
import { childLogger, threadLogger, type LogLevel, type Logger } from '@ringbuf/instrument/log';
import { EXIT_FAILED } from '../report/load-report.js';
import { describeNotDrained } from './engine.js';
import { ProgressLine } from './progress.js';
import { interrupts } from './signals.js';

/** What a command's body gets from {@link runCommand}. */
export interface CommandContext {
  /** The command's logger (`component: 'cli', command: <name>`). */
  log: Logger;
  /** The progress line (silent with `--quiet`). */
  progress: ProgressLine;
  /** Aborted by the first Ctrl-C (or SIGTERM): stop the producers and drain. */
  signal: AbortSignal;
}

/** How {@link runCommand} runs a command. */
export interface CommandFrame {
  /** The command's name, as `ringbuf <name>` and in the logs. */
  name: string;
  /** The level of the thread's logger. */
  level: LogLevel;
  /** `--quiet`: no progress line. */
  quiet: boolean;
  /** Claims a throw before the default handling: returns the exit status, or undefined to decline. */
  onError?: (err: unknown) => number | undefined;
}

/** `--help`: prints the command's usage on stdout; true when it did (the command then exits 0). */
export function printedHelp(help: boolean, usage: string): boolean {
  if (help) process.stdout.write(usage);
  return help;
}

/**
 * Runs `body` in the command's frame and returns its exit status; a throw (not claimed by
 * `frame.onError`) is logged, printed as `ringbuf <name>: <message>` on stderr and exits 1.
 */
export async function runCommand(
  frame: CommandFrame,
  body: (context: CommandContext) => Promise<number>,
): Promise<number> {
  threadLogger(frame.level);
  const log = childLogger({ component: 'cli', command: frame.name });
  const progress = new ProgressLine(process.stderr, !frame.quiet);
  const signal = interrupts.begin({
    stopping: 'stopping the producers and draining the consumer',
    notDrained: describeNotDrained,
    say: (line) => progress.message(line),
  });
  try {
    return await body({ log, progress, signal });
  } catch (err) {
    progress.end();
    const claimed = frame.onError?.(err);
    if (claimed !== undefined) return claimed;
    log.error({ err }, `${frame.name} run failed`);
    process.stderr.write(`ringbuf ${frame.name}: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    interrupts.end();
  }
}
