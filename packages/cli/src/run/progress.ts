/**
 * The once-a-second progress line on stderr, like the kernel bench's per-iteration lines: redrawn in
 * place (`\r` + clear line) when stderr is a terminal, one plain line per update otherwise (pipes,
 * CI logs, tests). Never on stdout, which carries the final table or JSON only. A line never wraps:
 * it is cut to the terminal's width (`columns`, else 80) less one column. Thread: main.
 */

/** Width assumed when the stream does not say (a pipe, a CI log). */
export const DEFAULT_COLUMNS = 80;

/** Where progress goes (stderr by default; tests pass a fake). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  /** The terminal's width, when it is one. */
  columns?: number;
}

/**
 * `text` as code points: what the CLI counts as terminal columns (µ, …, box rules: one column each;
 * the CLI prints no wide or combining characters, so graphemes would count the same).
 */
export function codePoints(text: string): string[] {
  return Array.from(text);
}

/** `text` cut to fit `columns` without wrapping (one column kept free for the cursor). */
export function fitLine(text: string, columns: number | undefined): string {
  const width = (columns !== undefined && columns > 1 ? columns : DEFAULT_COLUMNS) - 1;
  const chars = codePoints(text);
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

/** One progress line, redrawn or appended. */
export class ProgressLine {
  private open = false;

  /**
   * @param stream where to write (process.stderr by default)
   * @param enabled false prints nothing (`--quiet`)
   */
  constructor(
    private readonly stream: ProgressStream = process.stderr,
    private readonly enabled = true,
  ) {}

  /** Columns a line may use: the terminal's width, else {@link DEFAULT_COLUMNS}. */
  get columns(): number {
    const c = this.stream.columns;
    return c !== undefined && c > 1 ? c : DEFAULT_COLUMNS;
  }

  /** Whether the line is redrawn in place. */
  get tty(): boolean {
    return this.stream.isTTY === true;
  }

  /** Shows `text` as the current progress. */
  update(text: string): void {
    if (!this.enabled) return;
    text = fitLine(text, this.stream.columns);
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.open = true;
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  /** Ends a line being redrawn, so the next output starts on a fresh line. */
  end(): void {
    if (this.open) this.stream.write('\n');
    this.open = false;
  }

  /** Writes a message line (e.g. "stopping..."), ending any line being redrawn first. */
  message(text: string): void {
    this.end();
    this.stream.write(`${text}\n`);
  }
}
