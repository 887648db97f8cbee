/**
 * The transport's control block: a small SharedArrayBuffer beside the ring that the consumer thread
 * and every writer share. Every offset lives here.
 *
 * Record format (beyond the kernel, which leaves a sample's bytes to the program): the first payload
 * byte of every record is its kind; the rest is the kind's body.
 */
import { SharedLayout } from '@ringbuf/core';

/** A whole line: the body is its UTF-8 bytes (pino's line, newline included). */
export const KIND_LINE = 1;
/** A piece of a line too long for one record; more pieces from the same producer follow. */
export const KIND_PART = 2;
/** The last piece of a long line: the consumer writes the pieces joined, at this record's place. */
export const KIND_LAST = 3;
/**
 * A report of lines this producer dropped (the ring stayed full past the bound, or the consumer was
 * gone): the body is the count, a little-endian uint32. It also ends any long line the producer left
 * unfinished (that line is among the dropped).
 */
export const KIND_DROPPED = 4;
/** Bytes of a KIND_DROPPED record's payload. */
export const DROPPED_RECORD_BYTES = 5;

/** Consumer states (STATE word). */
export const STATE_STARTING = 0;
export const STATE_RUNNING = 1;
/** The main thread asked for the end: the consumer drains the ring, ends the targets, then CLOSED. */
export const STATE_ENDING = 2;
/** Targets ended and closed; nothing more is written. */
export const STATE_CLOSED = 3;
/** The consumer thread failed (a target threw or emitted 'error', or the thread died). */
export const STATE_DEAD = 4;

const layout = new SharedLayout();
/** Consumer state (STATE_*). Written by the consumer thread, and by the main thread when it sees it die. */
export const STATE_INDEX = layout.int32();
/** Position up to which records were handed to the targets (their write() called), published by the consumer. */
export const WRITTEN_POS_INDEX = layout.int32();
/** Threads sleeping on WRITTEN_POS or STATE (flushSync): the consumer notifies only when non-zero. */
export const WAITERS_INDEX = layout.int32();
/** Lines dropped by all threads (full ring past the bound, or the consumer gone). */
export const DROPPED_INDEX = layout.int32();
/** Lines split into several records because they were longer than one record may be. */
export const SPLIT_INDEX = layout.int32();
/** Records discarded by recovery after their writer thread died mid-line. */
export const RECOVERED_INDEX = layout.int32();
/** Lines written to the targets by the consumer (drop reports included). */
export const LINES_OUT_INDEX = layout.int32();
/** Writer threads that made a destination (the main thread's transport included). */
export const WRITERS_INDEX = layout.int32();
/**
 * The consumer's heartbeat: the low 32 bits of the monotonic ms of its last pass (compared with a
 * wrap-safe difference), 0 before the first. Used when the ring has no consumer heartbeat of its own.
 */
export const HEARTBEAT_INDEX = layout.int32();
/** Bytes of the control block. */
export const CONTROL_BYTES = layout.bytes();
