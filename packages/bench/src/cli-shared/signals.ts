/**
 * Ctrl-C and SIGTERM for the long-running commands. The first signal aborts `signal` (the commands
 * stop their producers, drain the consumer and print the final report, with the loss count); a
 * second one exits at once with status 130 and says on stderr what was not drained.
 * Thread: main.
 */

/** Exit status after a second Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** Handles SIGINT / SIGTERM while installed. */
export class Interrupts {
  private readonly controller = new AbortController();
  private count = 0;
  private readonly onSignal = (name: NodeJS.Signals): void => this.handle(name);

  /**
   * @param notDrained describes what would be left behind by exiting now (ring backlog, records not
   *   delivered); called on the second signal only.
   * @param say writes a line to the user (stderr), ending any progress line first.
   * @param exit ends the process (process.exit by default; tests pass a fake).
   */
  constructor(
    private readonly notDrained: () => string,
    private readonly say: (line: string) => void,
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {}

  /** Aborted by the first SIGINT or SIGTERM. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first signal's name, if one came. */
  reason: NodeJS.Signals | undefined;

  /** Starts listening (replacing Node's default exit on these signals). */
  install(): this {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    return this;
  }

  /** Stops listening (back to Node's defaults). */
  uninstall(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  /** What a signal does (public for tests). */
  handle(name: NodeJS.Signals): void {
    this.count++;
    if (this.count === 1) {
      this.reason = name;
      this.say(`ringbuf: ${name}: stopping the producers and draining the consumer (press Ctrl-C again to quit at once)`);
      this.controller.abort();
      return;
    }
    let detail: string;
    try {
      detail = this.notDrained();
    } catch (e) {
      detail = `unknown (${(e as Error).message})`;
    }
    this.say(`ringbuf: ${name} again: exiting without draining; not drained: ${detail}`);
    this.exit(EXIT_INTERRUPTED);
  }
}
