/**
 * Option parsers of the `load`, `order` and `latency` commands. Each one either returns a checked
 * value or throws a {@link UsageError} whose one-line message names the option and what it accepts
 * (the dispatcher prints it and exits 2). Thread: main (the CLI's), called once per option.
 */
import { isValidRingSize, maxPayloadOf } from '@ringbuf/core';
import { INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';
import type { PayloadSize, WakeupPolicy } from '@ringbuf/producer-pool';
import { UsageError, oneOf } from './cli-errors.js';
import { LOG_LEVELS, type LogLevel } from '@ringbuf/instrument/log';

/** Largest payload the CLI accepts (the pool's limit, 16 MiB). */
export const MAX_PAYLOAD_BYTES = 2 ** 24;
/** Largest ring the core accepts (2^30 bytes). */
export const MAX_RING_BYTES = 2 ** 30;

const DECIMAL = /^\s*\d+(\.\d+)?\s*$/;
const INTEGER = /^\s*\d+\s*$/;

/**
 * A positive decimal number (seconds, records per second) within (0, max], or `fallback` when absent.
 * @throws UsageError naming the option and the accepted values.
 */
export function positiveNumber(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!DECIMAL.test(raw) || !(v > 0) || v > max) throw new UsageError(`${name}: '${raw}' is not a number greater than 0 and at most ${max}`);
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
 * `BYTES` or `MIN-MAX`: a fixed payload size or a uniform range, each at least the instrumented
 * header (24 bytes: producer id, sequence number, send time, causal token, kind).
 * @throws UsageError naming the option and the accepted values.
 */
export function payloadSize(name: string, raw: string | undefined, fallback: number): PayloadSize {
  if (raw === undefined) return fallback;
  const accepted = `an integer number of bytes or MIN-MAX, from ${INSTRUMENTED_HEADER_BYTES} to ${MAX_PAYLOAD_BYTES}`;
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(raw);
  if (m === null) throw new UsageError(`${name}: '${raw}' is not ${accepted}`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min < INSTRUMENTED_HEADER_BYTES || max > MAX_PAYLOAD_BYTES || min > max) throw new UsageError(`${name}: '${raw}' is not ${accepted}`);
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
  if (largestPayload(size) > max) throw new UsageError(`--size: '${raw}' does not fit a ${ring}-byte ring (--ring-size): at most ${max} bytes`);
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
  const v = m === null ? NaN : Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
  if (!isValidRingSize(v)) throw new UsageError(`${name}: '${raw}' is not a power of two from 4096 to ${MAX_RING_BYTES} bytes (e.g. 65536, 1M)`);
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
 * An integer in [min, max] (the shared intOption, but refusing a leading minus sign the same way).
 * @throws UsageError naming the option and the accepted values.
 */
export function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!INTEGER.test(raw) || !Number.isSafeInteger(v) || v < min || v > max) throw new UsageError(`${name}: '${raw}' is not an integer from ${min} to ${max}`);
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
  if (!(LOG_LEVELS as readonly string[]).includes(env)) throw new UsageError(`RINGBUF_LOG_LEVEL: '${env}' is not one of ${LOG_LEVELS.join(', ')}`);
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
