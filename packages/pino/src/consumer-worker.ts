/**
 * The transport's one consumer thread. It loads the target module as thread-stream's worker does
 * (pino's own loader, pino/lib/transport-stream.js: file:// import with the require fallbacks, the
 * nested `default`s), calls it with the options pino.transport() would pass (`workerData.workerData`
 * here too, so pino-abstract-transport finds `pinoWillSendConfig`), then drains the ring into the
 * resulting stream, record by record in ring order, until the main thread asks for the end.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { RingBuffer, monotonicMs, BPF_RINGBUF_HDR_SZ } from '@ringbuf/core';
import { Consumer } from '@ringbuf/consumer';
import type { PinoShare } from './destination.js';
import {
  HEARTBEAT_INDEX,
  KIND_DROPPED,
  KIND_LAST,
  KIND_LINE,
  KIND_PART,
  LINES_OUT_INDEX,
  STATE_CLOSED,
  STATE_DEAD,
  STATE_ENDING,
  STATE_INDEX,
  STATE_RUNNING,
  STATE_STARTING,
  WAITERS_INDEX,
  WRITTEN_POS_INDEX,
} from './layout.js';

/** What transport() passes to this thread. */
export interface ConsumerWorkerData {
  share: PinoShare;
  /** The target module (absolute path or file:// URL; pino's lib/worker.js for targets/pipeline). */
  module: string;
  /** The argument of its default export (thread-stream's name for it). */
  workerData: Record<string, unknown>;
}

/** Messages this thread posts to the main thread. */
export type WorkerMessage = { code: 'READY' } | { code: 'ERROR'; err: unknown };

/** A stream as pino's targets return it. */
interface TargetStream {
  write(chunk: string): boolean;
  end(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** How long one pollAsync sleeps at most: the end request and heartbeat are looked at this often. */
const POLL_MS = 50;
/** Heartbeat period (ms). */
const HEARTBEAT_MS = 100;

const require = createRequire(import.meta.url);
const loadTransportStreamBuilder = require(
  join(dirname(require.resolve('pino/package.json')), 'lib', 'transport-stream.js'),
) as (target: string) => Promise<(options: unknown) => TargetStream | Promise<TargetStream>>;

const data = workerData as ConsumerWorkerData;
const share = data.share;
const ring = RingBuffer.attach(share.ring);
const ctl = new Int32Array(share.control);
const bytes = Buffer.from(ring.buffer, ring.data.byteOffset, ring.data.byteLength);
const port = parentPort!;

let dest: TargetStream | undefined;
let needDrain = false;
/**
 * The target's 'drain' (or end), listened for from the moment write() returned false: it may come before the loop
 * looks.
 */
let drain: Promise<void> | undefined;
let linesOut = 0;
let failed = false;
/** `failed` read through a call: the callbacks that set it run during the awaits, which narrowing does not see. */
function hasFailed(): boolean {
  return failed;
}
let ending = false;
let lastWritten = ring.consumerPos();
/**
 * Pieces of long lines, by producer id, until their last piece (or a drop report) arrives; `bytes`
 * -1 once the line passed MAX_LINE_BYTES (its pieces are let go).
 */
const partial = new Map<number, { bytes: number; list: Buffer[] }>();
/** The longest line the consumer joins (64 MiB); a longer one is left out and reported. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

function stamp(): void {
  // Publishes this thread's liveness to writers (RingDestination.consumerGone reads it).
  Atomics.store(ctl, HEARTBEAT_INDEX, monotonicMs() | 0 || 1);
}
stamp();
// Keeps this thread's event loop alive (Atomics.waitAsync does not) and its heartbeat fresh while
// a target is slow; the main thread unref()s this Worker, so it never holds the process.
const heartbeat = setInterval(stamp, HEARTBEAT_MS);

/** Publishes how far the targets got, and wakes writers waiting for space or a flush. */
function publishWritten(): void {
  if (linesOut > 0) {
    // Counts lines handed to the targets, for stats.
    Atomics.add(ctl, LINES_OUT_INDEX, linesOut);
    linesOut = 0;
  }
  const pos = ring.consumerPos();
  if (pos === lastWritten) return;
  lastWritten = pos;
  // Publishes that every record before pos was handed to the targets; pairs with the writers'
  // loads in flushSync and the space wait.
  Atomics.store(ctl, WRITTEN_POS_INDEX, pos);
  // Only when someone sleeps (writers raise WAITERS before reading WRITTEN_POS).
  if (Atomics.load(ctl, WAITERS_INDEX) > 0) Atomics.notify(ctl, WRITTEN_POS_INDEX);
}

/**
 * Whole lines are batched: their bytes are copied here, record after record, and handed to the
 * target as one string per pass (or when the batch is full), as thread-stream hands its worker
 * everything written since the last read. Targets take several lines per write: pino's own
 * (pino/file's SonicBoom, the split2 of pino-abstract-transport and of pino's multistream worker).
 */
const BATCH_BYTES = 1 << 16;
const batch = Buffer.allocUnsafe(BATCH_BYTES);
let batchLength = 0;
let batchLines = 0;

/** The target asked us to wait: listen for its 'drain' now. */
function mustDrain(): void {
  if (needDrain) return;
  needDrain = true;
  drain = drained(dest!);
}

/** Waits for the 'drain' asked for, if any. */
async function awaitDrain(): Promise<void> {
  if (!needDrain) return;
  await drain;
  needDrain = false;
  drain = undefined;
}

/** Hands the batched lines to the target; false when it asks us to wait for 'drain'. */
function flushBatch(): boolean {
  if (batchLength === 0) return true;
  const text = batch.toString('utf8', 0, batchLength);
  linesOut += batchLines;
  batchLength = 0;
  batchLines = 0;
  if (dest!.write(text)) return true;
  mustDrain();
  return false;
}

/** Hands one line to the target after the batch; -1 (stop the pass) when it asks us to wait for 'drain'. */
function out(line: string): number {
  flushBatch();
  linesOut++;
  if (!dest!.write(line)) mustDrain();
  return needDrain ? -1 : 0;
}

/** Adds a whole line's bytes to the batch (in order); -1 (stop the pass) when the target asks us to wait. */
function batchLine(from: number, to: number): number {
  const length = to - from;
  if (batchLength + length > BATCH_BYTES) flushBatch();
  if (length > BATCH_BYTES) {
    linesOut++;
    if (!dest!.write(bytes.toString('utf8', from, to))) mustDrain();
  } else {
    bytes.copy(batch, batchLength, from, to);
    batchLength += length;
    batchLines++;
  }
  return needDrain ? -1 : 0;
}

function notice(level: number, msg: string, fields: string): string {
  return `{"level":${level},"time":${Date.now()},"msg":${JSON.stringify(msg)}${fields}}\n`;
}

/** The consumer's callback: one record, in ring order. */
function onRecord(view: Uint8Array, offset: number, size: number): number {
  const kind = view[offset];
  if (kind === KIND_LINE) return size > 1 ? batchLine(offset + 1, offset + size) : 0;
  const owner = ring.headerOwnerAt(offset - BPF_RINGBUF_HDR_SZ);
  if (kind === KIND_PART || kind === KIND_LAST) {
    let pieces = partial.get(owner);
    if (pieces === undefined) partial.set(owner, (pieces = { bytes: 0, list: [] }));
    if (pieces.bytes >= 0) {
      pieces.list.push(Buffer.from(bytes.subarray(offset + 1, offset + size)));
      pieces.bytes += size - 1;
      if (pieces.bytes > MAX_LINE_BYTES) {
        // Beyond any real log line (and a bound on this thread's memory against a writer that
        // never ends its line): the pieces are let go and the line is reported at its end.
        pieces.list = [];
        pieces.bytes = -1;
      }
    }
    if (kind === KIND_PART) return 0;
    partial.delete(owner);
    if (pieces.bytes < 0) {
      return out(
        notice(
          50,
          `@ringbuf/pino: a line of more than ${MAX_LINE_BYTES} bytes from thread ${owner - 1} was left out`,
          `,"ringbufSkipped":1`,
        ),
      );
    }
    return out(Buffer.concat(pieces.list).toString('utf8'));
  }
  if (kind === KIND_DROPPED && size >= 5) {
    partial.delete(owner);
    const n = bytes.readUInt32LE(offset + 1);
    return out(
      notice(
        40,
        `@ringbuf/pino: ${n} line${n === 1 ? '' : 's'} dropped by thread ${owner - 1} (the ring was full, or the ` +
          `consumer thread gone)`,
        `,"ringbufDropped":${n},"threadId":${owner - 1}`,
      ),
    );
  }
  // Any thread can write any byte: a record that is none of ours is reported, never written out.
  return out(
    notice(
      50,
      `@ringbuf/pino: skipped a record of unknown kind ${String(kind)} (${size} bytes) from producer ${owner}`,
      `,"ringbufSkipped":1`,
    ),
  );
}

/** Marks this thread dead for every writer and tells the main thread (once). */
function fail(err: unknown): void {
  if (failed) return;
  failed = true;
  // Publishes the death: writers stop waiting for space or flushes.
  Atomics.store(ctl, STATE_INDEX, STATE_DEAD);
  // Ends every flushSync/space wait at once.
  if (Atomics.load(ctl, WAITERS_INDEX) > 0) Atomics.notify(ctl, WRITTEN_POS_INDEX);
  clearInterval(heartbeat);
  port.postMessage({ code: 'ERROR', err } satisfies WorkerMessage);
  setImmediate(() => process.exit(1));
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

/** Resolves on the target's 'drain' (or its end: 'close'/'error' stop the loop elsewhere). */
function drained(stream: TargetStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.removeListener('drain', done);
      stream.removeListener('close', done);
      stream.removeListener('error', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
    stream.once('error', done);
  });
}

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads the state word. */
function state(): number {
  // Observes the main thread's end request (or its DEAD store).
  return Atomics.load(ctl, STATE_INDEX);
}

async function main(): Promise<void> {
  const build = await loadTransportStreamBuilder(data.module);
  const stream = await build(data.workerData);
  dest = stream;
  stream.on('error', fail);
  stream.on('close', () => {
    if (!ending) fail(new Error('@ringbuf/pino: the target stream closed before the transport ended'));
  });
  // Publishes that the targets are loaded (unless the main thread asked for the end meanwhile).
  Atomics.compareExchange(ctl, STATE_INDEX, STATE_STARTING, STATE_RUNNING);
  port.postMessage({ code: 'READY' } satisfies WorkerMessage);
  const consumer = new Consumer(ring, onRecord, { publish: 'pass' });
  while (state() === STATE_RUNNING && !failed) {
    await awaitDrain();
    const n = await consumer.pollAsync(POLL_MS);
    flushBatch();
    publishWritten();
    // Lets the targets' I/O callbacks and timers run between passes.
    if (n !== 0) await immediate();
  }
  if (failed || state() !== STATE_ENDING) return;
  // The end: everything in the ring goes to the targets (a BUSY head of a live writer is waited
  // for), within most of flushMs; then the targets end and close.
  ending = true;
  const deadline = monotonicMs() + share.flushMs * 0.8;
  for (;;) {
    await awaitDrain();
    consumer.consume();
    flushBatch();
    publishWritten();
    if (hasFailed()) return;
    if (needDrain) continue;
    if (ring.producerPos() === ring.consumerPos() || monotonicMs() >= deadline) break;
    await sleepMs(1);
  }
  consumer.close();
  const closed = once(stream as unknown as NodeJS.EventEmitter, 'close');
  stream.end();
  await Promise.race([closed, sleepMs(Math.max(0, deadline + share.flushMs * 0.15 - monotonicMs()))]);
  clearInterval(heartbeat);
  // Publishes the end to the main thread's endSync (and every writer).
  Atomics.store(ctl, STATE_INDEX, STATE_CLOSED);
  // Wakes endSync, which sleeps on WRITTEN_POS.
  if (Atomics.load(ctl, WAITERS_INDEX) > 0) Atomics.notify(ctl, WRITTEN_POS_INDEX);
  setImmediate(() => process.exit(0));
}

main().catch(fail);
