/**
 * The once-a-second progress line on stderr, like the kernel bench's per-iteration lines: redrawn in
 * place (`\r` + clear line) when stderr is a terminal, one plain line per update otherwise (pipes,
 * CI logs, tests). Never on stdout, which carries the final table or JSON only. Thread: main.
 */

/** Where progress goes (stderr by default; tests pass a fake). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
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

  /** Whether the line is redrawn in place. */
  get tty(): boolean {
    return this.stream.isTTY === true;
  }

  /** Shows `text` as the current progress. */
  update(text: string): void {
    if (!this.enabled) return;
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

/** Formats a rate: `1.234 M/s`, `12.3 k/s`, `17 /s`. */
export function rate(perSec: number): string {
  if (!Number.isFinite(perSec)) return 'n/a';
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(3)} M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)} k/s`;
  return `${perSec.toFixed(0)} /s`;
}

/** Formats bytes: `512 B`, `12.0 KiB`, `3.50 MiB`. */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Formats microseconds: `12.3 us`, `1.25 ms`, `n/a`. */
export function micros(us: number): string {
  if (!Number.isFinite(us)) return 'n/a';
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  return `${us.toFixed(1)} us`;
}
