// pino in many worker threads, one log thread for the whole process (@ringbuf/pino): the main
// thread makes one transport; every worker logs into it with destination(share). Each thread's
// lines reach the file in its own order, none lost, and only one thread was started for logging.
// Run: node examples/pino-workers.mjs [workers]
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import pino from 'pino';
import { transport, destination } from '@ringbuf/pino';

const WORKERS = Number(process.argv[2] ?? 3);
const LINES = 5_000; // per worker

if (isMainThread) {
  const dir = mkdtempSync(join(tmpdir(), 'pino-workers-'));
  const file = join(dir, 'app.log');
  // The same options as pino.transport(), plus the ring's own (ringSize, onFull, blockMs...): here a
  // full ring makes a log call wait up to 10 s for space (default 1 s), so that even a slow machine
  // drops nothing.
  const t = transport({ target: 'pino/file', options: { destination: file }, blockMs: 10_000 });
  const log = pino(t);
  log.info('main thread: starting %d workers', WORKERS);
  const workers = Array.from(
    { length: WORKERS },
    (_, i) => new Worker(new URL(import.meta.url), { workerData: { log: t.share, name: `w${i}` } }),
  );
  await Promise.all(workers.map((w) => once(w, 'exit')));
  log.info('main thread: workers done');
  const closed = once(t, 'close');
  t.end(); // drains the ring into the file and closes it (at process exit this happens on its own)
  await closed;

  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const next = new Map();
  let outOfOrder = 0;
  for (const { name, seq } of lines) {
    if (name === undefined) continue;
    if (seq !== (next.get(name) ?? 0)) outOfOrder++;
    next.set(name, seq + 1);
  }
  const { all } = t.stats();
  console.log(
    `${WORKERS} workers and the main thread logged ${lines.length} lines through 1 log thread: ` +
      `${outOfOrder} out of order, ${WORKERS * LINES + 2 - lines.length} missing, ${all.dropped} dropped`,
  );
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = outOfOrder === 0 && lines.length === WORKERS * LINES + 2 ? 0 : 1;
} else {
  // Any worker thread (or a piscina task): a pino logger on this thread's destination stream.
  const log = pino(destination(workerData.log)).child({ name: workerData.name });
  for (let seq = 0; seq < LINES; seq++) log.info({ seq }, 'working');
}
