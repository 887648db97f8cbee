/**
 * The `order` command's record handler (run by the consumer worker as the runtime's user handler,
 * through live-handler.ts): remembers where in the delivery order each of the first `tokens` causal
 * tokens arrived and which producer wrote it, for the timeline chart (order-timeline.ts). The
 * ordering verifier, which counts every violation, runs before it in the runtime.
 *
 * Hot path: per record one counter increment, four byte loads, a compare, and for a token inside the
 * window two stores into arrays allocated once in init(). Nothing allocated, nothing logged.
 * Thread: the consumer worker.
 */
import { INSTRUMENTED_HEADER_BYTES, RECORD_PRODUCER_ID, RECORD_TOKEN } from '@ringbuf/instrument';

/** What init() gets (cloneable). */
export interface OrderCaptureOptions {
  /** How many tokens (1 .. tokens) to follow; at most {@link MAX_CAPTURE_TOKENS}. */
  tokens: number;
}

/** What close() returns: per token 1 .. tokens, where it was delivered and who wrote it. */
export interface OrderCapture {
  /** Records this handler saw. */
  delivered: number;
  /** deliveredAt[k - 1]: the 0-based delivery index of token k, -1 when it never arrived. */
  deliveredAt: number[];
  /** producer[k - 1]: the producer id in token k's record (-1 when it never arrived). */
  producer: number[];
}

/** Tokens followed at most (two Float64Arrays of this length). */
export const MAX_CAPTURE_TOKENS = 1 << 16;

let at = new Float64Array(0);
let by = new Int32Array(0);
let count = 0;

/** Little-endian u32 from bytes, without a DataView. */
function u32(data: Uint8Array, o: number): number {
  return (data[o]! | (data[o + 1]! << 8) | (data[o + 2]! << 16) | (data[o + 3]! << 24)) >>> 0;
}

/** Called once by the consumer before the first record. */
export function init(options: OrderCaptureOptions | undefined): void {
  // Read as unknown: the options crossed a thread and are checked here, not trusted.
  const raw: unknown = options;
  const tokens: unknown = typeof raw === 'object' && raw !== null ? (raw as { tokens?: unknown }).tokens : undefined;
  const n = Math.max(0, Math.min(MAX_CAPTURE_TOKENS, Math.floor(Number(tokens) || 0)));
  at = new Float64Array(n).fill(-1);
  by = new Int32Array(n).fill(-1);
  count = 0;
}

/** Called for each record (`data[offset, offset + size)`, the instrumented header first). */
export function handle(data: Uint8Array, offset: number, size: number): void {
  const index = count++;
  if (size < INSTRUMENTED_HEADER_BYTES) return;
  const k = u32(data, offset + RECORD_TOKEN) - 1;
  // Token 0 (none) gives -1; the first delivery of a token wins (a duplicate is the verifier's).
  if (k >= 0 && k < at.length && at[k] === -1) {
    at[k] = index;
    by[k] = u32(data, offset + RECORD_PRODUCER_ID) | 0;
  }
}

/** Called at exit: the capture. */
export function close(): OrderCapture {
  return { delivered: count, deliveredAt: Array.from(at), producer: Array.from(by) };
}
