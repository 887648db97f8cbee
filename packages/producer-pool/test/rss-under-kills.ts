/**
 * Memory under producer kills (issue 10, section 3): runs a pool with fault injection until `--kills`
 * producers have died and been replaced, with a verifying-free consumer draining the ring, and
 * samples the process's RSS after a forced GC. After the warm-up (the first `--warmup` kills) the
 * RSS must stay within `--tolerance` (default 10 %) of its warm-up value; exits 1 otherwise.
 *
 * Usage (needs --expose-gc for stable samples):
 *   node --expose-gc dist/test/rss-under-kills.js [--kills 2000] [--every-ms 2] [--producers 4]
 *     [--methods throw,exit,uncaught,terminate] [--warmup 300] [--tolerance 0.1]
 * Results go to stdout as one JSON object; logs (warn and above) to stderr.
 */
import { parseArgs } from 'node:util';
import { ConsumerRuntime } from '@ringbuf/consumer';
import { RingBuffer } from '@ringbuf/core';
import { ProducerPool, type DeathMethod } from '../src/index.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '2000' },
    'every-ms': { type: 'string', default: '2' },
    producers: { type: 'string', default: '4' },
    methods: { type: 'string', default: 'throw,exit,uncaught,terminate' },
    warmup: { type: 'string', default: '300' },
    tolerance: { type: 'string', default: '0.1' },
    'max-seconds': { type: 'string', default: '300' },
  },
});
const kills = Number(values.kills);
const warmup = Number(values.warmup);
const tolerance = Number(values.tolerance);
const maxMs = Number(values['max-seconds']) * 1000;
const methods = values.methods.split(',') as DeathMethod[];

const gc = (globalThis as { gc?: () => void }).gc;
function rssMiB(): number {
  gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

const ring = RingBuffer.create({ size: 1 << 16 });
const consumer = await ConsumerRuntime.start({ rings: [ring] });
const pool = new ProducerPool({
  ring: ring.share(),
  producers: Number(values.producers),
  scenario: {
    records: Number.MAX_SAFE_INTEGER,
    payload: { min: 32, max: 4000 },
    discardRatio: 0.2,
    wakeup: { sampled: 8 },
  },
  faults: {
    everyMs: Number(values['every-ms']),
    methods,
    points: methods.includes('terminate') ? undefined : ['between', 'in-lock', 'after-reserve', 'after-submit'],
    maxKills: kills,
  },
  logLevel: 'error',
});
const controller = new AbortController();
const started = performance.now();
const running = pool.run({ signal: controller.signal });
const samples: Array<{ kills: number; rssMiB: number; seconds: number }> = [];
let base: number | undefined;
await new Promise<void>((resolve) => {
  let nextSample = warmup;
  const check = (): void => {
    const n = pool.deathsSoFar().length;
    if (n >= nextSample) {
      const rss = rssMiB();
      samples.push({
        kills: n,
        rssMiB: Math.round(rss * 10) / 10,
        seconds: Math.round((performance.now() - started) / 100) / 10,
      });
      base ??= rss;
      nextSample += Math.max(1, Math.floor((kills - warmup) / 10));
    }
    if (n >= kills || performance.now() - started > maxMs) resolve();
    else setTimeout(check, 20);
  };
  check();
});
controller.abort();
const result = await running;
const report = await consumer.stop({ drain: true, timeoutMs: 10_000 });
const last = samples[samples.length - 1]?.rssMiB ?? 0;
const growth = base === undefined ? 0 : (last - base) / base;
const { attempted, committed, discarded, dropped, abandoned } = result.totals;
const out = {
  kills: result.deaths.length,
  seconds: Math.round(result.elapsedMs / 100) / 10,
  methods,
  samples,
  growth: Math.round(growth * 1000) / 1000,
  tolerance,
  identity: attempted === committed + discarded + dropped + abandoned,
  totals: result.totals,
  delivered: report.delivered,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exitCode = out.identity && growth <= tolerance && out.kills >= kills && report.delivered === committed ? 0 : 1;
