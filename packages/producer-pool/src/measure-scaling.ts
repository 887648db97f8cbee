/**
 * Closing-note measurement for issue 4: throughput with 1, 2, 4 and 8 producers into one ring with
 * one consumer worker, closed loop, 16-byte payloads, reserve+submit, self-paced wakeups (the
 * kernel bench's `rb-libbpf` multi-producer sweep, scaled down to this machine). On a 2-core
 * machine every run from 2 producers on is oversubscribed (producers + consumer > cores).
 *
 * Usage: node dist/src/measure-scaling.js [--duration-ms 2000] [--runs 3] [--producers 1,2,4,8]
 *   [--drop-backoff-us 0]  (closed-loop producers sleep this long after a failed reservation)
 * Results go to stdout; lifecycle logs (warn and above) to stderr.
 */
import { BPF_RB_CONS_POS, RingBuffer } from '@ringbuf/core';
import { availableParallelism, cpus } from 'node:os';
import { startDrain } from './drain.js';
import { ProducerPool } from './pool.js';

interface Sample {
  producers: number;
  hitsPerSec: number;
  dropsPerSec: number;
  consumed: number;
  lockContended: number;
  lockWaits: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const durationMs = Number(arg('duration-ms', '2000'));
const runs = Number(arg('runs', '3'));
const counts = arg('producers', '1,2,4,8').split(',').map(Number);
const backoffUs = Number(arg('drop-backoff-us', '0'));
/** The kernel bench's ring: 512 KiB. */
const RING_SIZE = 512 * 1024;
const PAYLOAD = 16;

async function once(producers: number, seed: number): Promise<Sample> {
  const ring = RingBuffer.create({ size: RING_SIZE });
  const drain = await startDrain(ring.share(), { verify: false, pollMs: 50 });
  const pool = new ProducerPool({
    ring: ring.share(),
    producers,
    scenario: { durationMs, payload: PAYLOAD, instrumented: false, api: 'reserve', wakeup: 'self', dropBackoffUs: backoffUs },
    seed,
    logLevel: 'warn',
  });
  const result = await pool.run();
  const report = await drain.stop();
  if (report.records !== result.totals.committed || ring.query(BPF_RB_CONS_POS) !== report.consPos) {
    throw new Error(`consumer saw ${report.records} records, producers committed ${result.totals.committed}`);
  }
  // The window in which producers ran: first start to last end (all run durationMs each).
  let first = Infinity;
  let last = 0;
  for (const p of result.producers) {
    first = Math.min(first, p.startUs);
    last = Math.max(last, p.startUs + p.elapsedUs);
  }
  const windowSec = (last - first) / 1e6;
  return {
    producers,
    hitsPerSec: result.totals.committed / windowSec,
    dropsPerSec: result.totals.dropped / windowSec,
    consumed: report.records,
    lockContended: result.totals.lockContended,
    lockWaits: result.totals.lockWaits,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const cpu = cpus()[0]?.model ?? 'unknown';
process.stdout.write(
  `# producer scaling: node ${process.version}, ${cpu}, ${availableParallelism()} cores; ` +
    `ring ${RING_SIZE / 1024} KiB, ${PAYLOAD}-byte payloads, reserve+submit, self-paced, closed loop, ` +
    `${durationMs} ms x ${runs} runs (median), one consumer worker, drop backoff ${backoffUs} us\n`,
);
process.stdout.write('producers  hits M/s  drops M/s  ratio-to-1  lock-contended  lock-waits\n');
let base = 0;
for (const n of counts) {
  const samples: Sample[] = [];
  for (let r = 0; r < runs; r++) samples.push(await once(n, 1000 * n + r));
  const hits = median(samples.map((s) => s.hitsPerSec));
  const drops = median(samples.map((s) => s.dropsPerSec));
  if (n === counts[0]) base = hits;
  const contended = median(samples.map((s) => s.lockContended));
  const waits = median(samples.map((s) => s.lockWaits));
  process.stdout.write(
    `${String(n).padStart(9)}  ${(hits / 1e6).toFixed(3).padStart(8)}  ${(drops / 1e6).toFixed(3).padStart(9)}  ` +
      `${(hits / base).toFixed(2).padStart(10)}  ${String(contended).padStart(14)}  ${String(waits).padStart(10)}\n`,
  );
}
