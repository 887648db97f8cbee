/** Test helpers: temporary files, workers of the writer fixture, the file's lines, a seed. */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TransportStream } from '../src/index.js';

export const WRITER = new URL('./fixtures/writer.js', import.meta.url);
export const ABSTRACT_TARGET = new URL('./fixtures/abstract-target.js', import.meta.url);
export const GATED_TARGET = new URL('./fixtures/gated-target.js', import.meta.url);
export const PISCINA_TASK = new URL('./fixtures/piscina-task.js', import.meta.url);
export const UPPER_TRANSFORM = new URL('./fixtures/upper-transform.js', import.meta.url);

/** blockMs of the tests that expect no drop: a loaded machine may stall the consumer thread for a while. */
export const SLOW_MACHINE_MS = 10_000;

const dir = mkdtempSync(join(tmpdir(), 'ringbuf-pino-'));
let n = 0;
/** A fresh file path in this test file's temporary directory. */
export function tmpFile(name: string): string {
  return join(dir, `${++n}-${name}`);
}

/** The seed of randomized tests: RINGBUF_SEED or a random one (print it). */
export function testSeed(): number {
  const env = process.env.RINGBUF_SEED;
  return env !== undefined ? Number(env) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

/** mulberry32. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Starts a writer fixture worker; resolves with its exit code. */
export function startWriter(data: Record<string, unknown>): { worker: Worker; exited: Promise<number> } {
  const worker = new Worker(WRITER, { workerData: data });
  const exited = new Promise<number>((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  return { worker, exited };
}

/** Ends the transport and waits until its consumer thread closed the targets. */
export async function endAndClose(t: TransportStream): Promise<void> {
  if (t.isClosed) return;
  const closed = once(t, 'close');
  t.end();
  await closed;
}

/** The lines of a file (none when it does not exist). */
export function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** The lines of a file as JSON (throws on a line that is not: garbage in the file). */
export function records(file: string): Array<Record<string, unknown>> {
  return lines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls `check` every few ms until it holds, at most `ms` (a bound, not a correctness sleep). */
export async function until(check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

/** For each tag, its seq numbers in file order. */
export function seqsByTag(recs: Array<Record<string, unknown>>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of recs) {
    if (typeof r.tag !== 'string') continue;
    let list = out.get(r.tag);
    if (!list) out.set(r.tag, (list = []));
    list.push(r.seq as number);
  }
  return out;
}

/** 0, 1, ..., n - 1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
