/**
 * Ctrl-C and SIGTERM, one convention for every command. The `ringbuf` entry installs the handlers
 * before it loads anything else (cli.ts), so a signal at any moment is handled:
 *
 * - before a run has started (loading, parsing options) or after it ended: one line on stderr and
 *   exit 130 (there is nothing to drain);
 * - during a run ({@link Interrupts.begin}): the first signal aborts the run's AbortSignal (load,
 *   order and latency stop their producers, drain the consumer and print the final report; bench
 *   stops after the step in progress and prints and writes the partial report); a second one exits
 *   at once with status 130 and says on stderr what was not drained.
 * Imports nothing, so that installing it costs nothing. Thread: main.
 */

/** Exit status after a signal that ends the process (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** What a command hands {@link Interrupts.begin} for its run. */
export interface RunInterrupts {
  /** What the first signal does, e.g. 'stopping the producers and draining the consumer'. */
  stopping: string;
  /** What exiting now would leave behind; called on the second signal only. */
  notDrained: () => string;
  /** Writes a line to the user (stderr), ending any progress line first. */
  say: (line: string) => void;
}

/** Handles SIGINT / SIGTERM while installed. */
export class Interrupts {
  private state: 'idle' | 'running' | 'ended' = 'idle';
  private run: RunInterrupts | undefined;
  private controller = new AbortController();
  private count = 0;
  private readonly onSignal = (name: NodeJS.Signals): void => this.handle(name);

  /** The first signal's name during the current run, if one came. */
  reason: NodeJS.Signals | undefined;

  /**
   * @param exit ends the process (process.exit by default; tests pass a fake).
   * @param write writes a line outside a run (stderr by default).
   */
  constructor(
    private readonly exit: (code: number) => void = (code) => process.exit(code),
    private readonly write: (line: string) => void = (line) => void process.stderr.write(`${line}\n`),
  ) {}

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

  /**
   * A run starts: from now on the first signal aborts the returned signal and the second exits
   * 130. A command with several runs (order, latency) calls it once and checks `aborted` between them.
   */
  begin(run: RunInterrupts): AbortSignal {
    this.state = 'running';
    this.run = run;
    this.controller = new AbortController();
    this.count = 0;
    this.reason = undefined;
    return this.controller.signal;
  }

  /** The run ended (its report is being printed): a signal now exits at once. */
  end(): void {
    this.state = 'ended';
    this.run = undefined;
  }

  /** Whether a run is in progress (between {@link begin} and {@link end}). */
  get running(): boolean {
    return this.state === 'running';
  }

  /** What a signal does (public for tests). */
  handle(name: NodeJS.Signals): void {
    const run = this.run;
    if (this.state !== 'running' || run === undefined) {
      this.write(
        `ringbuf: ${name} ${this.state === 'idle' ? 'before a run started' : 'after the run ended'}` +
          `: exiting (nothing to drain)`,
      );
      this.exit(EXIT_INTERRUPTED);
      return;
    }
    this.count++;
    if (this.count === 1) {
      this.reason = name;
      run.say(`ringbuf: ${name}: ${run.stopping} (press Ctrl-C again to quit at once)`);
      this.controller.abort();
      return;
    }
    let detail: string;
    try {
      detail = run.notDrained();
    } catch (e) {
      detail = `unknown (${(e as Error).message})`;
    }
    run.say(`ringbuf: ${name} again: exiting without draining; not drained: ${detail}`);
    this.exit(EXIT_INTERRUPTED);
  }
}

/** The process's handlers: installed by cli.ts first thing, used by every command. */
export const interrupts = new Interrupts();
