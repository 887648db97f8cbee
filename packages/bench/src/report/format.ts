/**
 * Number formatting shared by every report: the bench's stdout table and Markdown report, and the
 * `ringbuf` commands' tables and progress lines. Microseconds are written `µs` everywhere.
 */
export const mps = (v: number): string => (v / 1e6).toFixed(3);
export const gbps = (v: number): string => (v / 1e9).toFixed(2);
export const fixed = (v: number | null, d = 2): string => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));

/** Renders rows as an aligned plain-text table. */
export function textTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Renders rows as a Markdown table. */
export function mdTable(head: string[], rows: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
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

/** The unit of every microsecond figure the workspace prints. */
export const MICROS = 'µs';

/** Formats microseconds: `12.3 µs`, `1.25 ms`, `n/a`. */
export function micros(us: number): string {
  if (!Number.isFinite(us)) return 'n/a';
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  return `${us.toFixed(1)} ${MICROS}`;
}

/** Formats a duration in seconds as `m:ss` (progress ETAs). */
export function clock(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?:??';
  const s = Math.round(sec);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
