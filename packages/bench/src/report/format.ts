/**
 * Number formatting shared by every report: the bench's stdout table and Markdown report, and the
 * `ringbuf` commands' tables and progress lines. Microseconds are written `µs` everywhere.
 */
import { BenchError, describe, needArray, needNumber } from '../errors.js';

export const mps = (v: number): string => (v / 1e6).toFixed(3);
export const gbps = (v: number): string => (v / 1e9).toFixed(2);
export const fixed = (v: number | null, d = 2): string => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));

/** Checks a table's head (strings) and rows (arrays of strings; shorter rows are padded with ''). */
function checkTable(head: unknown, rows: unknown): void {
  for (const [i, cell] of needArray('head', head).entries()) {
    if (typeof cell !== 'string')
      throw new BenchError('ERR_BENCH_ARGUMENT', `head[${i}] must be a string, got ${describe(cell)}`);
  }
  for (const [r, row] of needArray('rows', rows).entries()) {
    for (const [i, cell] of needArray(`rows[${r}]`, row).entries()) {
      if (typeof cell !== 'string')
        throw new BenchError('ERR_BENCH_ARGUMENT', `rows[${r}][${i}] must be a string, got ${describe(cell)}`);
    }
  }
}

/**
 * Renders rows as an aligned plain-text table.
 * @throws BenchError `ERR_BENCH_ARGUMENT` when `head` is not an array of strings or `rows` not an
 *   array of arrays of strings.
 */
export function textTable(head: string[], rows: string[][]): string {
  checkTable(head, rows);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Renders rows as a Markdown table. @throws BenchError `ERR_BENCH_ARGUMENT` as {@link textTable}. */
export function mdTable(head: string[], rows: string[][]): string {
  checkTable(head, rows);
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/**
 * Formats a rate: `1.234 M/s`, `12.3 k/s`, `17 /s`; `n/a` for NaN and the infinities. @throws BenchRangeError
 * `ERR_BENCH_ARGUMENT` for a non-number.
 */
export function rate(perSec: number): string {
  needNumber('rate', perSec);
  if (!Number.isFinite(perSec)) return 'n/a';
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(3)} M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)} k/s`;
  return `${perSec.toFixed(0)} /s`;
}

/**
 * Formats bytes: `512 B`, `12.0 KiB`, `3.50 MiB`; `n/a` for NaN and the infinities. @throws BenchRangeError
 * `ERR_BENCH_ARGUMENT` for a non-number.
 */
export function bytes(n: number): string {
  needNumber('bytes', n);
  if (!Number.isFinite(n)) return 'n/a';
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** The unit of every microsecond figure the workspace prints. */
export const MICROS = 'µs';

/**
 * Formats microseconds: `12.3 µs`, `1.25 ms`, `n/a`. @throws BenchRangeError `ERR_BENCH_ARGUMENT` for a
 * non-number.
 */
export function micros(us: number): string {
  needNumber('micros', us);
  if (!Number.isFinite(us)) return 'n/a';
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  return `${us.toFixed(1)} ${MICROS}`;
}

/**
 * Formats a duration in seconds as `m:ss` (progress ETAs); `?:??` for NaN, infinities and negatives. @throws
 * BenchRangeError `ERR_BENCH_ARGUMENT` for a non-number.
 */
export function clock(sec: number): string {
  needNumber('clock', sec);
  if (!Number.isFinite(sec) || sec < 0) return '?:??';
  const s = Math.round(sec);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
