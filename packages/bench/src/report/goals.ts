/** The goals and the peer ratios, evaluated on one run's results. */
import type { MemcpyResult, ScenarioResult } from '../bench/types.js';
import type { Goal, Ratio } from './types.js';

function hits(scenarios: readonly ScenarioResult[], name: string): number | null {
  const s = scenarios.find((x) => x.name === name && !x.error);
  return s ? s.hits.mean : null;
}

function ratio(a: number | null, b: number | null): number | null {
  return a !== null && b !== null && b > 0 ? a / b : null;
}

/** Ours (1 producer, 16 B, reserve+submit, parallel) against each peer and the perf-buffer analogue. */
export function ratios(scenarios: readonly ScenarioResult[]): Ratio[] {
  const ours = hits(scenarios, 'rb-parallel');
  const out: Ratio[] = [];
  for (const peer of ['ringbufjs-1', 'ringbufjs-64', 'postmessage-1', 'postmessage-64', 'spsc-rings-p1']) {
    out.push({ name: `rb-parallel / ${peer}`, ours: 'rb-parallel', peer, value: ratio(ours, hits(scenarios, peer)) });
  }
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

export function goals(scenarios: readonly ScenarioResult[], memcpy: readonly MemcpyResult[]): Goal[] {
  const out: Goal[] = [];
  const ours = hits(scenarios, 'rb-parallel');
  const vsRbjs = ratio(ours, hits(scenarios, 'ringbufjs-1'));
  out.push({
    id: 'vs-ringbufjs',
    goal: '1 producer, 16 B, reserve+submit >= 1.5 x ringbuf.js one-item push/pop',
    target: 1.5,
    value: vsRbjs,
    met: vsRbjs !== null && vsRbjs >= 1.5,
    detail: `${fmt(ours && ours / 1e6)} M/s vs ${fmt((hits(scenarios, 'ringbufjs-1') ?? 0) / 1e6)} M/s`,
  });
  const vsPm = ratio(ours, hits(scenarios, 'postmessage-1'));
  out.push({
    id: 'vs-postmessage',
    goal: '1 producer, 16 B, reserve+submit >= 15 x postMessage (one record per message)',
    target: 15,
    value: vsPm,
    met: vsPm !== null && vsPm >= 15,
    detail: `${fmt(ours && ours / 1e6)} M/s vs ${fmt((hits(scenarios, 'postmessage-1') ?? 0) / 1e6)} M/s`,
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
  // The latency run reads the clock per record and spins on it for pacing: not the steady-state path.
  const ourRuns = scenarios.filter(
    (s) => (s.params.impl === 'ringbuf' || s.params.impl === 'spsc-rings') && s.params.mode !== 'paced' && !s.error,
  );
  const gc = ourRuns.reduce((a, s) => a + s.gc.events, 0);
  const withGc = ourRuns.filter((s) => s.gc.events > 0).map((s) => `${s.name} (${s.gc.events})`);
  out.push({
    id: 'zero-gc',
    goal: 'zero GC events during steady-state reserve, submit and consume',
    target: 0,
    value: ourRuns.length > 0 ? gc : null,
    met: ourRuns.length > 0 && gc === 0,
    detail: ourRuns.length === 0 ? 'no runs of ours' : withGc.length === 0 ? `0 events over ${ourRuns.length} runs` : `in ${withGc.join(', ')}`,
  });
  return out;
}
