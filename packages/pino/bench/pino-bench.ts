/**
 * @ringbuf/pino against pino's own ways (issue 22): W worker threads each log M lines to pino/file,
 *   (a) each worker with its own pino.transport() (pino's documented way: one transport thread each),
 *   (b) one @ringbuf/pino transport for all (one consumer thread),
 *   (c) pino.destination({ sync: true }) in each worker (no transport thread: the reference).
 * Each run is a child process of its own (clean peak RSS); the runs of a round are interleaved and
 * their order shuffled with a printed seed. Per run: lines/s from the start signal until every line
 * is flushed (the transports ended and closed), logging threads started, peak RSS, and the time of
 * one log.info() call inside the workers (p50/p99 over all calls, and p99 over the second half of
 * each worker's calls: the first calls run before the JIT has compiled the write path).
 *
 *   node dist/bench/pino-bench.js [--workers 1,2,4,8] [--lines 20000] [--rounds 5] [--dest null,file] [--json]
 *     [--seed N]
 *
 * Results go to stdout (a table, or one JSON object with --json); progress to stderr.
 */
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { transport, destination, type PinoShare } from '../src/index.js';

type Mode = 'a' | 'b' | 'c';
const MODES: Record<Mode, string> = {
  a: 'pino.transport() per worker',
  b: 'one @ringbuf/pino transport',
  c: 'pino.destination({ sync: true }) per worker',
};

interface RunResult {
  mode: Mode;
  workers: number;
  lines: number;
  dest: 'null' | 'file';
  linesPerSec: number;
  /** Wall time from the start signal until everything was flushed (ms). */
  ms: number;
  /** Threads started for logging (transport threads; the W logging workers not counted). */
  threads: number;
  peakRssMB: number;
  p50us: number;
  p99us: number;
  /** p99 over the second half of each worker's calls (after the JIT warmed up). */
  p99SteadyUs: number;
  /** (b) log calls that found the ring full and waited for space. */
  waited: number;
  /** Bytes in the file (file runs): every line reached it. */
  fileBytes: number;
}

interface WorkerJob {
  mode: Mode;
  lines: number;
  path: string;
  share?: PinoShare;
  go: SharedArrayBuffer;
}

const LINE = { user: 'someone', path: '/api/v1/items/42', status: 200, bytes: 5120 };

/** Worker: make the logger, say ready, wait for the start signal, log M lines timing each call, flush. */
async function workerMain(job: WorkerJob): Promise<void> {
  let started = 0;
  subscribe('worker_threads', () => started++);
  let log: pino.Logger;
  let finish: () => Promise<void>;
  let waits = (): number => 0;
  if (job.mode === 'a') {
    const t = pino.transport({ target: 'pino/file', options: { destination: job.path, append: true } });
    await once(t, 'ready');
    log = pino(t);
    finish = async () => {
      const closed = once(t, 'close');
      // Holds this thread until the transport closed (its thread is unref'd after 'ready').
      (t as unknown as { ref(): void }).ref();
      t.end();
      await closed;
    };
  } else if (job.mode === 'b') {
    const d = destination(job.share!);
    log = pino(d);
    waits = () => d.stats().thread.waited;
    finish = () => {
      d.flushSync();
      return Promise.resolve();
    };
  } else {
    const d = pino.destination({ dest: job.path, sync: true, append: true });
    log = pino(d);
    finish = () => {
      d.flushSync();
      return Promise.resolve();
    };
  }
  const times = new Float64Array(job.lines);
  const go = new Int32Array(job.go);
  parentPort!.postMessage({ ready: true });
  // Waits for the start signal of the main thread.
  while (Atomics.load(go, 0) === 0) Atomics.wait(go, 0, 0, 100);
  for (let i = 0; i < job.lines; i++) {
    const t0 = performance.now();
    log.info(LINE, 'request served');
    times[i] = performance.now() - t0;
  }
  await finish();
  parentPort!.postMessage({ times, started, waited: waits() }, [times.buffer]);
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** One run in this (child) process. */
async function childRun(
  mode: Mode,
  workers: number,
  lines: number,
  dest: 'null' | 'file',
  dir: string,
): Promise<RunResult> {
  const path = dest === 'null' ? '/dev/null' : join(dir, `${mode}-${workers}.log`);
  let mainStarted = 0;
  subscribe('worker_threads', () => mainStarted++);
  const t = mode === 'b' ? transport({ target: 'pino/file', options: { destination: path, append: true } }) : undefined;
  if (t) await once(t, 'ready');
  const go = new SharedArrayBuffer(4);
  const ws = Array.from(
    { length: workers },
    () =>
      new Worker(new URL(import.meta.url), {
        workerData: { mode, lines, path, share: t?.share, go } satisfies WorkerJob,
      }),
  );
  const exited = ws.map((w) => once(w, 'exit'));
  await Promise.all(ws.map((w) => once(w, 'message')));
  const results = ws.map(
    (w) => once(w, 'message') as Promise<[{ times: Float64Array; started: number; waited: number }]>,
  );
  const t0 = performance.now();
  // Publishes the start signal to every worker.
  Atomics.store(new Int32Array(go), 0, 1);
  // Wakes the workers sleeping on the start word.
  Atomics.notify(new Int32Array(go), 0);
  const done = await Promise.all(results);
  await Promise.all(exited);
  if (t) {
    const closed = once(t, 'close');
    t.end();
    await closed;
  }
  const ms = performance.now() - t0;
  const all = new Float64Array(workers * lines);
  const half = lines - (lines >> 1);
  const steady = new Float64Array(workers * half);
  done.forEach(([r], i) => {
    all.set(r.times, i * lines);
    steady.set(r.times.subarray(lines - half), i * half);
  });
  all.sort();
  steady.sort();
  const threads = mainStarted - workers + done.reduce((s, [r]) => s + r.started, 0);
  return {
    mode,
    workers,
    lines,
    dest,
    linesPerSec: Math.round((workers * lines) / (ms / 1000)),
    ms: Math.round(ms),
    threads,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    p50us: Math.round(percentile(all, 0.5) * 1000 * 10) / 10,
    p99us: Math.round(percentile(all, 0.99) * 1000 * 10) / 10,
    p99SteadyUs: Math.round(percentile(steady, 0.99) * 1000 * 10) / 10,
    waited: done.reduce((s, [r]) => s + r.waited, 0),
    fileBytes: dest === 'file' ? statSync(path).size : 0,
  };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? 0
    : s.length % 2 === 1
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function parentMain(): Promise<void> {
  const workers = arg('workers', '1,2,4,8').split(',').map(Number);
  const lines = Number(arg('lines', '20000'));
  const rounds = Number(arg('rounds', '5'));
  const dests = arg('dest', 'null,file').split(',') as Array<'null' | 'file'>;
  const seed = Number(arg('seed', String((Math.random() * 2 ** 32) >>> 0))) >>> 0;
  const json = process.argv.includes('--json');
  let state = seed;
  const rand = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 2 ** 32;
  };
  console.error(
    `pino bench: workers ${workers.join(',')}, ${lines} lines each, ${rounds} rounds, dest ${dests.join(',')}, seed ` +
      `${seed}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'ringbuf-pino-bench-'));
  const run = promisify(execFile);
  const self = fileURLToPath(import.meta.url);
  const runs: RunResult[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const cells: Array<[Mode, number, 'null' | 'file']> = [];
      for (const w of workers) for (const d of dests) for (const m of ['a', 'b', 'c'] as Mode[]) cells.push([m, w, d]);
      for (let i = cells.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [cells[i], cells[j]] = [cells[j]!, cells[i]!];
      }
      for (const [m, w, d] of cells) {
        const { stdout } = await run(process.execPath, [self, '--child', m, String(w), String(lines), d, dir], {
          timeout: 600_000,
          maxBuffer: 1 << 20,
        });
        const r = JSON.parse(stdout) as RunResult;
        if (d === 'file' && r.fileBytes === 0) throw new Error(`run ${m} W=${w} wrote nothing`);
        runs.push(r);
        console.error(
          `round ${round + 1}/${rounds} ${m} W=${w} ${d}: ${r.linesPerSec} lines/s, ${r.threads} threads, ` +
            `${r.peakRssMB} MB, p50 ${r.p50us} us, p99 ${r.p99us} us (second half ` +
            `${r.p99SteadyUs} us)${m === 'b' ? `, ${r.waited} waits for space` : ''}`,
        );
        rmSync(join(dir, `${m}-${w}.log`), { force: true });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = [];
  for (const d of dests) {
    for (const w of workers) {
      const cell = (m: Mode) => runs.filter((r) => r.mode === m && r.workers === w && r.dest === d);
      const med = (m: Mode, k: keyof RunResult) => median(cell(m).map((r) => r[k] as number));
      const row: Record<string, number | string> = { dest: d, workers: w };
      for (const m of ['a', 'b', 'c'] as Mode[]) {
        row[`${m}_linesPerSec`] = med(m, 'linesPerSec');
        row[`${m}_threads`] = med(m, 'threads');
        row[`${m}_peakRssMB`] = med(m, 'peakRssMB');
        row[`${m}_p50us`] = med(m, 'p50us');
        row[`${m}_p99us`] = med(m, 'p99us');
        row[`${m}_p99SteadyUs`] = med(m, 'p99SteadyUs');
      }
      row.b_over_a = Math.round(((row.b_linesPerSec as number) / (row.a_linesPerSec as number)) * 100) / 100;
      row.rss_b_over_a = Math.round(((row.b_peakRssMB as number) / (row.a_peakRssMB as number)) * 100) / 100;
      rows.push(row);
    }
  }
  if (json) {
    console.log(JSON.stringify({ seed, lines, rounds, modes: MODES, rows, runs }));
    return;
  }
  console.log(`medians of ${rounds} rounds, ${lines} lines per worker; (a) ${MODES.a}, (b) ${MODES.b}, (c) ${MODES.c}`);
  console.log(
    'dest  W  lines/s a / b / c            b/a   threads a/b/c  peak RSS MB a/b/c (b/a)  log.info p50 us a/b/c   ' +
      'p99 us a/b/c          p99 second half a/b/c',
  );
  for (const r of rows) {
    console.log(
      `${String(r.dest).padEnd(5)} ${String(r.workers).padStart(2)}  ` +
        `${[r.a_linesPerSec, r.b_linesPerSec, r.c_linesPerSec].join(' / ').padEnd(27)} ` +
        `${String(r.b_over_a).padEnd(5)} ` +
        (
          `${[r.a_threads, r.b_threads, r.c_threads].join('/').padEnd(14)} ` +
          `${[r.a_peakRssMB, r.b_peakRssMB, r.c_peakRssMB].join('/')} (${r.rss_b_over_a})`
        ).padEnd(26) +
        `  ${[r.a_p50us, r.b_p50us, r.c_p50us].join('/').padEnd(22)} ` +
        `${[r.a_p99us, r.b_p99us, r.c_p99us].join('/').padEnd(22)} ` +
        [r.a_p99SteadyUs, r.b_p99SteadyUs, r.c_p99SteadyUs].join('/'),
    );
  }
}

if (!isMainThread) {
  await workerMain(workerData as WorkerJob);
} else if (process.argv[2] === '--child') {
  const [, , , mode, w, m, d, dir] = process.argv;
  console.log(JSON.stringify(await childRun(mode as Mode, Number(w), Number(m), d as 'null' | 'file', dir!)));
} else {
  await parentMain();
}
