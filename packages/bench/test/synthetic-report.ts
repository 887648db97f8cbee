/** A synthetic bench report for the chart tests: every scenario of every group, numbers shaped like a real run's. */
import type { LatencySummary } from '@ringbuf/consumer';
import { GROUPS, machineInfo, threadedScenarios, type BenchReport, type ScenarioResult } from '../src/index.js';

/** A run's latency summary: `scale` µs at p50, a long tail. */
export const summary = (count: number, scale: number): LatencySummary => ({
  count,
  minUs: scale * 0.4,
  meanUs: scale * 1.2,
  p50Us: scale,
  p90Us: scale * 1.8,
  p99Us: scale * 4,
  p999Us: scale * 12,
  maxUs: scale * 40,
});

/** Every scenario of every group with numbers shaped like a real run's. */
export function syntheticReport(): BenchReport {
  const scenarios: ScenarioResult[] = threadedScenarios(new Set(GROUPS)).map((d, i): ScenarioResult => {
    const p = d.params;
    let mps = 6 + (i % 5) * 0.3;
    if ((p as { api: string }).api === 'batch') mps = 21;
    if (p.impl === 'ringbuf.js') mps = p.peerBatch === 1 ? 5.8 : 61;
    if (p.impl === 'postMessage') mps = p.peerBatch === 1 ? 0.25 : 12;
    if (d.group === 'producers') mps = (p.impl === 'spsc-rings' ? 9 : 7) / Math.sqrt(p.producers);
    if (d.group === 'sample-rate' && p.sampleRate !== null) mps = 5 + Math.log10(p.sampleRate);
    const hits = d.group === 'sizes' ? (p.payload >= 4096 ? 2.5e9 : 0.5e9) / p.payload : mps * 1e6;
    return {
      name: d.name,
      group: d.group,
      description: d.description,
      params: p,
      hits: { mean: hits, stddev: hits * 0.02 },
      drops: { mean: 0, stddev: 0 },
      bytesPerSec: hits * p.payload,
      windows: [{ ms: 200, hits: hits / 5, drops: 0 }],
      gc: { events: 0, durationMs: 0, byRole: {} },
      heapGrowthBytes: 0,
      wakeups: null,
      latency: d.group === 'latency' ? summary(48_000, d.name.includes('busy') ? 2.5 : 11) : null,
      loadAvg1m: 1,
    };
  });
  return {
    tool: 'ringbuf bench',
    schemaVersion: 2,
    machine: machineInfo(process.cwd()),
    interrupted: false,
    notRun: [],
    options: { quick: false, windows: 5, windowMs: 200, warmupMs: 300, groups: [...GROUPS] },
    scenarios,
    memcpy: [16, 64, 1024, 4096, 65536].map((size) => ({ size, bytesPerSec: size >= 1024 ? 14e9 : size * 0.05e9 })),
    micro: [],
    wake: {
      settleUs: 30,
      samples: 4000,
      rounds: 3,
      floor: summary(12_000, 6),
      floorCorrected: summary(12_400, 7),
      correctIntervalUs: 20,
      consumer: summary(12_000, 14),
      ratioP50: 14 / 6,
      ratioP99: 14 / 6,
    },
    ratios: [],
    goals: [],
    notes: [],
    files: [],
    outDir: null,
  };
}
