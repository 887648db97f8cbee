/**
 * Option parsers of the `load`, `order` and `latency` commands. Each one either returns a checked
 * value or throws a {@link UsageError} whose one-line message names the option and what it accepts
 * (the dispatcher prints it and exits 2). Thread: main (the CLI's), called once per option.
 */
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { dirname, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isValidRingSize, layout, maxPayloadOf } from '@ringbuf/core';
import { INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';
import { MAX_PAYLOAD as MAX_PAYLOAD_BYTES, type PayloadSize, type WakeupPolicy } from '@ringbuf/producer-pool';
import { UsageError, oneOf } from './cli-errors.js';
import { LOG_LEVELS, type LogLevel } from '@ringbuf/instrument/log';

const DECIMAL = /^\s*\d+(\.\d+)?\s*$/;
const INTEGER = /^\s*\d+\s*$/;

/**
 * A positive decimal number (seconds, records per second) within (0, max], or `fallback` when absent.
 * @throws UsageError naming the option and the accepted values.
 */
export function positiveNumber(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!DECIMAL.test(raw) || !(v > 0) || v > max)
    throw new UsageError(`${name}: '${raw}' is not a number greater than 0 and at most ${max}`);
  return v;
}

/**
 * A decimal number within [0, max] (seconds that may be none), or `fallback` when absent.
 * @throws UsageError naming the option and the accepted values.
 */
export function nonNegativeNumber(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!DECIMAL.test(raw) || !(v >= 0) || v > max)
    throw new UsageError(`${name}: '${raw}' is not a number from 0 to ${max}`);
  return v;
}

/**
 * A ratio in [0, 1], or `fallback` when absent.
 * @throws UsageError naming the option and the accepted values.
 */
export function ratio(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!DECIMAL.test(raw) || !(v >= 0 && v <= 1)) throw new UsageError(`${name}: '${raw}' is not a number from 0 to 1`);
  return v;
}

/**
 * `BYTES` or `MIN-MAX`: a fixed payload size or a uniform range, each at least the instrumented header
 * (INSTRUMENTED_HEADER_BYTES, 32 bytes: producer id, sequence number, send time, causal token, kind, commit time).
 * @throws UsageError naming the option and the accepted values.
 */
export function payloadSize(name: string, raw: string | undefined, fallback: number): PayloadSize {
  if (raw === undefined) return fallback;
  const accepted = `an integer number of bytes or MIN-MAX, from ${INSTRUMENTED_HEADER_BYTES} to ${MAX_PAYLOAD_BYTES}`;
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(raw);
  if (m === null) throw new UsageError(`${name}: '${raw}' is not ${accepted}`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min < INSTRUMENTED_HEADER_BYTES || max > MAX_PAYLOAD_BYTES || min > max)
    throw new UsageError(`${name}: '${raw}' is not ${accepted}`);
  return min === max ? min : { min, max };
}

/** The largest payload of a {@link payloadSize} result. */
export function largestPayload(size: PayloadSize): number {
  if (typeof size === 'number') return size;
  if ('max' in size) return size.max;
  return Math.max(...size.weighted.map((w) => w.size));
}

/**
 * Checks that the largest payload of `size` fits a `ring`-byte ring (core's maxPayloadOf).
 * @throws UsageError naming --size and the largest payload the ring takes.
 */
export function checkFits(size: PayloadSize, raw: string | undefined, ring: number): void {
  const max = maxPayloadOf(ring);
  if (largestPayload(size) > max)
    throw new UsageError(`--size: '${raw}' does not fit a ${ring}-byte ring (--ring-size): at most ${max} bytes`);
}

/**
 * A ring size in bytes: a power of two, a multiple of 4096, at most 2^30 (the kernel's rule for
 * `max_entries`). Accepts a plain integer or a K/M/G suffix (binary: 1M = 1048576).
 * @throws UsageError naming the option and the accepted values.
 */
export function ringSize(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const m = /^\s*(\d+)\s*([kKmMgG])?(?:i?[bB])?\s*$/.exec(raw);
  const unit = m?.[2]?.toLowerCase();
  const v =
    m === null ? NaN : Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
  if (!isValidRingSize(v))
    throw new UsageError(
      `${name}: '${raw}' is not a power of two from ${layout.PAGE_SIZE} to ` +
        `${layout.MAX_RING_SIZE} bytes (e.g. 65536, 1M)`,
    );
  return v;
}

/**
 * `self|none|force|sampled:N`: how producers ask for wakeups (see WakeupPolicy).
 * @throws UsageError naming the option and the accepted values.
 */
export function wakeup(name: string, raw: string | undefined, fallback: WakeupPolicy): WakeupPolicy {
  if (raw === undefined) return fallback;
  const accepted = 'self, none, force, sampled:N (N a positive integer)';
  const m = /^sampled:(\d+)$/.exec(raw.trim());
  if (m !== null) {
    const n = Number(m[1]);
    if (Number.isSafeInteger(n) && n > 0) return { sampled: n };
    throw new UsageError(`${name}: '${raw}' is not one of ${accepted}`);
  }
  if (raw === 'self' || raw === 'none' || raw === 'force') return raw;
  throw new UsageError(`${name}: '${raw}' is not one of ${accepted}`);
}

/** The wakeup policy as the CLI spells it. */
export function wakeupName(w: WakeupPolicy): string {
  return typeof w === 'string' ? w : `sampled:${w.sampled}`;
}

/**
 * An integer in [min, max], or `fallback` when absent: the CLI's one integer parser (every command's).
 * Digits only: a sign, a fraction or an exponent is refused.
 * @throws UsageError naming the option and the accepted values.
 */
export function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!INTEGER.test(raw) || !Number.isSafeInteger(v) || v < min || v > max)
    throw new UsageError(`${name}: '${raw}' is not an integer from ${min} to ${max}`);
  return v;
}

/**
 * `--log-level`: the option, else env RINGBUF_LOG_LEVEL, else 'warn'.
 * @throws UsageError naming the option (or the variable) and the accepted values.
 */
export function logLevel(raw: string | undefined): LogLevel {
  if (raw !== undefined) return oneOf('--log-level', raw, LOG_LEVELS);
  const env = process.env['RINGBUF_LOG_LEVEL'];
  if (env === undefined || env === '') return 'warn';
  if (!(LOG_LEVELS as readonly string[]).includes(env))
    throw new UsageError(`RINGBUF_LOG_LEVEL: '${env}' is not one of ${LOG_LEVELS.join(', ')}`);
  return env as LogLevel;
}

/** The options every run command (load, order, latency) accepts, for `util.parseArgs`. */
export const COMMON_OPTIONS = {
  seed: { type: 'string' },
  quiet: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** One stage of `--stages`: how long it runs and the rate (records/s per producer) it ramps to. */
export interface StageSpec {
  durationSec: number;
  targetRate: number;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const RATE = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/;

/** `1000`, `2.5k`, `1M`: a rate with an optional decimal suffix (k = 1e3, M = 1e6, G = 1e9). */
function scaledNumber(raw: string): number {
  const m = RATE.exec(raw.trim());
  if (m === null) return NaN;
  const unit = m[2]?.toLowerCase();
  return Number(m[1]) * (unit === 'k' ? 1e3 : unit === 'm' ? 1e6 : unit === 'g' ? 1e9 : 1);
}

/**
 * `--stages 5s:1000,10s:50000,5s:0`: k6-style stages, each `DURATION:TARGET` (duration in ms, s or
 * m; target in records per second per producer, with an optional k/M suffix), ramped linearly from
 * the previous target (0 before the first).
 * @throws UsageError naming the option, the bad stage and the accepted form.
 */
export function stages(name: string, raw: string): StageSpec[] {
  const accepted =
    'DURATION:RATE[,DURATION:RATE...] with DURATION like 500ms, 5s or 1m and RATE records/s per producer ' +
    '(e.g. 5s:1000,10s:50k,5s:0)';
  const parts = raw.split(',');
  const out: StageSpec[] = [];
  for (const part of parts) {
    const m = /^\s*([^:\s]+)\s*:\s*([^:\s]+)\s*$/.exec(part);
    const d = m === null ? null : DURATION.exec(m[1] ?? '');
    const rate = m === null ? NaN : scaledNumber(m[2] ?? '');
    const sec = d === null ? NaN : Number(d[1]) * (d[2] === 'ms' ? 0.001 : d[2] === 'm' ? 60 : 1);
    if (!(sec > 0 && sec <= 86_400) || !(rate >= 0 && rate <= 1e9))
      throw new UsageError(`${name}: '${part.trim()}' in '${raw}' is not ${accepted}`);
    out.push({ durationSec: sec, targetRate: rate });
  }
  const total = out.reduce((s, st) => s + st.durationSec, 0);
  if (total > 86_400) throw new UsageError(`${name}: '${raw}' lasts ${total} s, more than 86400`);
  if (!out.some((st) => st.targetRate > 0))
    throw new UsageError(`${name}: '${raw}' never sends a record: give at least one stage a rate above 0`);
  return out;
}

/**
 * A JSON value (`--handler-options`, `--producer-options`), passed to a module's `init`.
 * @throws UsageError naming the option with the parser's message.
 */
export function jsonValue(name: string, raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (e) {
    throw new UsageError(`${name}: '${raw}' is not JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

/**
 * A module file (`--handler`, `--producer`): a path (relative to the working directory) or a
 * file: URL of an existing file. Returns its file URL.
 * @throws UsageError naming the option when the file does not exist.
 */
export function moduleFile(name: string, raw: string): string {
  let path: string;
  try {
    path = raw.startsWith('file:') ? fileURLToPath(raw) : resolvePath(raw);
  } catch {
    throw new UsageError(`${name}: '${raw}' is not a file path or file: URL`);
  }
  if (!existsSync(path) || !statSync(path).isFile())
    throw new UsageError(`${name}: '${raw}' is not a file (resolved to ${path})`);
  return pathToFileURL(path).href;
}

/** A module's file URL as reports name it: its path, relative to the working directory when inside it. */
export function modulePath(url: string): string {
  const path = fileURLToPath(url);
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}

/**
 * `--out <dir>`: checked before the run, so that a run is never wasted on a directory that cannot be
 * written. The directory must be writable if it exists; if not, its nearest existing ancestor must
 * be a writable directory (the run creates the rest). Returns `raw` unchanged.
 * @throws UsageError naming the option, the path and why it cannot be written.
 */
export function outDirectory(name: string, raw: string): string {
  if (raw.trim() === '') throw new UsageError(`${name}: '' is not a directory path`);
  let path = resolvePath(raw);
  while (!existsSync(path) && dirname(path) !== path) path = dirname(path);
  const where = path === resolvePath(raw) ? '' : ` (its ancestor ${path})`;
  let kind: string;
  try {
    kind = statSync(path).isDirectory() ? 'dir' : 'file';
    if (kind === 'dir') accessSync(path, fsConstants.W_OK | fsConstants.X_OK);
  } catch (e) {
    throw new UsageError(`${name}: '${raw}' cannot be written${where}: ${(e as Error).message}`);
  }
  if (kind !== 'dir') throw new UsageError(`${name}: '${raw}' cannot be a directory: ${path} is not a directory`);
  return raw;
}
