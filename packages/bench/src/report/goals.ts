/** The goals and the peer ratios, evaluated on one run's results. */
import type { WakeResult } from '../harness/wake-floor.js';
import { CLAIM } from '../scenarios/descriptors.js';
import type { MemcpyResult, ScenarioResult } from '../scenarios/types.js';
import type { Goal, Ratio } from './types.js';

function hits(scenarios: readonly ScenarioResult[], name: string): number | null {
  const s = scenarios.find((x) => x.name === name && !x.error);
  return s ? s.hits.mean : null;
}

function ratio(a: number | null, b: number | null): number | null {
  return a !== null && b !== null && b > 0 ? a / b : null;
}

/**
 * Ours for the peer comparisons: the mean of the reference runs made among the peers (close in time
 * to them), else rb-parallel.
 */
export function oursForPeers(scenarios: readonly ScenarioResult[]): { name: string; hits: number | null } {
  const refs = ['rb-peer-ref', 'rb-peer-ref-2'].map((n) => hits(scenarios, n)).filter((v): v is number => v !== null);
  if (refs.length > 0) return { name: 'rb-peer-ref', hits: refs.reduce((a, b) => a + b, 0) / refs.length };
  return { name: 'rb-parallel', hits: hits(scenarios, 'rb-parallel') };
}

/** Ours (1 producer, 16 B, reserve+submit, parallel) against each peer and the perf-buffer analogue. */
export function ratios(scenarios: readonly ScenarioResult[]): Ratio[] {
  const ref = oursForPeers(scenarios);
  const out: Ratio[] = [];
  for (const peer of ['ringbufjs-1', 'ringbufjs-64', 'postmessage-1', 'postmessage-64']) {
    out.push({ name: `${ref.name} / ${peer}`, ours: ref.name, peer, value: ratio(ref.hits, hits(scenarios, peer)) });
  }
  const claimName = `rb-peer-claim${CLAIM}`;
  out.push({ name: `${claimName} / ringbufjs-1`, ours: claimName, peer: 'ringbufjs-1', value: ratio(hits(scenarios, claimName), hits(scenarios, 'ringbufjs-1')) });
  out.push({ name: `${claimName} / ringbufjs-64`, ours: claimName, peer: 'ringbufjs-64', value: ratio(hits(scenarios, claimName), hits(scenarios, 'ringbufjs-64')) });
  out.push({
    name: 'rb-mpsc-p1 / spsc-rings-p1',
    ours: 'rb-mpsc-p1',
    peer: 'spsc-rings-p1',
    value: ratio(hits(scenarios, 'rb-mpsc-p1'), hits(scenarios, 'spsc-rings-p1')),
  });
  for (const other of ['rb-parallel-sampled', 'rb-b2b']) {
    for (const peer of ['ringbufjs-1', 'postmessage-1']) {
      out.push({ name: `${other} / ${peer}`, ours: other, peer, value: ratio(hits(scenarios, other), hits(scenarios, peer)) });
    }
  }
  for (const n of [2, 4, 8]) {
    out.push({
      name: `rb-mpsc-p${n} / spsc-rings-p${n}`,
      ours: `rb-mpsc-p${n}`,
      peer: `spsc-rings-p${n}`,
      value: ratio(hits(scenarios, `rb-mpsc-p${n}`), hits(scenarios, `spsc-rings-p${n}`)),
    });
  }
  out.push({
    name: 'rb-b2b-output / rb-b2b (output vs reserve)',
    ours: 'rb-b2b-output',
    peer: 'rb-b2b',
    value: ratio(hits(scenarios, 'rb-b2b-output'), hits(scenarios, 'rb-b2b')),
  });
  return out;
}

const fmt = (v: number | null, digits = 2): string => (v === null ? 'n/a' : v.toFixed(digits));

/** The latency summary of a scenario, or null. */
function latencyOf(scenarios: readonly ScenarioResult[], name: string): ScenarioResult['latency'] {
  return scenarios.find((x) => x.name === name && !x.error)?.latency ?? null;
}

/**
 * The targets of the performance issue, each evaluated on this one run (ratios are side by side:
 * ours and the peer measured minutes apart at most, ours again among the peers).
 */
export function goals(scenarios: readonly ScenarioResult[], memcpy: readonly MemcpyResult[], wake: WakeResult | null = null): Goal[] {
  const out: Goal[] = [];
  const ref = oursForPeers(scenarios);
  const ours = ref.hits;
  const rbjs1 = hits(scenarios, 'ringbufjs-1');
  const vsRbjs = ratio(ours, rbjs1);
  out.push({
    id: 'vs-ringbufjs',
    goal: '1 producer, 16 B, one record per reserve+copy+submit >= 1.0 x ringbuf.js one-item push/pop',
    target: 1.0,
    value: vsRbjs,
    met: vsRbjs !== null && vsRbjs >= 1.0,
    detail: `${ref.name} ${fmt(ours && ours / 1e6)} M/s vs ${fmt((rbjs1 ?? 0) / 1e6)} M/s`,
  });
  const vsPm = ratio(ours, hits(scenarios, 'postmessage-1'));
  out.push({
    id: 'vs-postmessage',
    goal: '1 producer, 16 B, reserve+submit >= 15 x postMessage (one record per message)',
    target: 15,
    value: vsPm,
    met: vsPm !== null && vsPm >= 15,
    detail: `${ref.name} ${fmt(ours && ours / 1e6)} M/s vs ${fmt((hits(scenarios, 'postmessage-1') ?? 0) / 1e6)} M/s`,
  });
  const claimed = hits(scenarios, `rb-peer-claim${CLAIM}`) ?? hits(scenarios, `rb-parallel-claim${CLAIM}`);
  const vsRbjsBatch = ratio(claimed, rbjs1);
  out.push({
    id: 'batch-vs-ringbufjs',
    goal: `reserveBatch(16, ${CLAIM}) + submitBatch, per record >= 2.0 x ringbuf.js one-item push/pop`,
    target: 2.0,
    value: vsRbjsBatch,
    met: vsRbjsBatch !== null && vsRbjsBatch >= 2.0,
    detail: `rb-peer-claim${CLAIM} ${fmt(claimed && claimed / 1e6)} M/s vs ${fmt((rbjs1 ?? 0) / 1e6)} M/s`,
  });
  for (const mode of ['b2b', 'parallel'] as const) {
    const rate1 = hits(scenarios, `rb-${mode}-rate-1`);
    const selfPaced = hits(scenarios, `rb-${mode}`);
    const r = ratio(rate1, selfPaced);
    out.push({
      id: `wakeup-${mode}`,
      goal: `${mode}: sample rate 1 (FORCE_WAKEUP on every record) >= 0.5 x self-paced (kernel: 1.106 / 20.9 = 0.05)`,
      target: 0.5,
      value: r,
      met: r !== null && r >= 0.5,
      detail: `${fmt(rate1 && rate1 / 1e6)} M/s vs ${fmt(selfPaced && selfPaced / 1e6)} M/s`,
    });
  }
  const s4k = scenarios.find((s) => s.name === 'rb-size-4096' && !s.error);
  const m4k = memcpy.find((m) => m.size === 4096);
  const r4k = s4k && m4k ? s4k.bytesPerSec / m4k.bytesPerSec : null;
  out.push({
    id: 'bandwidth-4k',
    goal: '4 KiB records >= 0.5 x single-thread memcpy bandwidth',
    target: 0.5,
    value: r4k,
    met: r4k !== null && r4k >= 0.5,
    detail: `${fmt(s4k ? s4k.bytesPerSec / 1e9 : null)} GB/s vs memcpy ${fmt(m4k ? m4k.bytesPerSec / 1e9 : null)} GB/s`,
  });
  const busy = latencyOf(scenarios, 'rb-latency-busy');
  out.push({
    id: 'latency-busy-p50',
    goal: 'busy-polling consumer, commit -> callback p50 <= 10 µs',
    target: 10,
    value: busy ? busy.p50Us : null,
    met: busy !== null && busy.p50Us <= 10,
    detail: busy ? `p50 ${fmt(busy.p50Us, 1)} µs, p99 ${fmt(busy.p99Us, 1)} µs` : 'not run',
  });
  const self = latencyOf(scenarios, 'rb-latency');
  const floor = wake?.floor ?? null;
  for (const [id, pct, target] of [
    ['latency-self-p50', 'p50', 1.5],
    ['latency-self-p99', 'p99', 4],
  ] as const) {
    const key = pct === 'p50' ? 'p50Us' : 'p99Us';
    const value = self && floor && floor[key] > 0 ? self[key] / floor[key] : null;
    out.push({
      id,
      goal: `self-paced (sleeping consumer), commit -> callback ${pct} <= ${target} x the wait/notify floor ${pct}`,
      target,
      value,
      met: value !== null && value <= target,
      detail: self && floor ? `${pct} ${fmt(self[key], 1)} µs vs floor ${fmt(floor[key], 1)} µs` : 'not run',
    });
  }
  // Every run of ours counts, the latency runs included.
  const ourRuns = scenarios.filter((s) => (s.params.impl === 'ringbuf' || s.params.impl === 'spsc-rings') && !s.error);
  const gc = ourRuns.reduce((a, s) => a + s.gc.events, 0);
  const withGc = ourRuns.filter((s) => s.gc.events > 0).map((s) => `${s.name} (${s.gc.events})`);
  out.push({
    id: 'zero-gc',
    goal: 'zero GC events in the steady-state windows of every scenario of ours (2-8 producers and latency included)',
    target: 0,
    value: ourRuns.length > 0 ? gc : null,
    met: ourRuns.length > 0 && gc === 0,
    detail: ourRuns.length === 0 ? 'no runs of ours' : withGc.length === 0 ? `0 events over ${ourRuns.length} runs` : `in ${withGc.join(', ')}`,
  });
  return out;
}
