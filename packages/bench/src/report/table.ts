/** The plain-text summary printed on stdout (without `--json`). */
import type { ScenarioResult } from '../bench/types.js';
import { fixed, gbps, mps, textTable } from './format.js';
import type { BenchReport } from './types.js';

/** One row per threaded scenario: hits and drops as mean ± stddev in M/s, like the kernel's bench. */
export function scenarioRows(scenarios: readonly ScenarioResult[]): string[][] {
  return scenarios.map((s) => [
    s.name,
    s.error ? 'FAILED' : `${mps(s.hits.mean)} ± ${mps(s.hits.stddev)}`,
    s.error ? '' : `${mps(s.drops.mean)} ± ${mps(s.drops.stddev)}`,
    s.error ? '' : gbps(s.bytesPerSec),
    s.error ? '' : String(s.gc.events),
    s.error || s.wakeups === null ? '' : String(s.wakeups),
    String(s.loadAvg1m),
    s.description,
  ]);
}

export const SCENARIO_HEAD = ['scenario', 'hits M/s', 'drops M/s', 'GB/s', 'GC', 'wakeups', 'load', 'what'];

export function renderText(r: BenchReport): string {
  const parts: string[] = [];
  parts.push(
    `ringbuf bench — ${r.machine.cpuModel}, ${r.machine.cores} cores, Node ${r.machine.node}, git ${r.machine.gitRev ?? 'n/a'}`,
  );
  parts.push(`${r.options.windows} windows × ${r.options.windowMs} ms after ${r.options.warmupMs} ms warm-up${r.options.quick ? ' (quick)' : ''}`);
  if (r.scenarios.length > 0) parts.push('', textTable(SCENARIO_HEAD, scenarioRows(r.scenarios)));
  if (r.memcpy.length > 0) {
    parts.push('', textTable(['memcpy block', 'GB/s'], r.memcpy.map((m) => [String(m.size), gbps(m.bytesPerSec)])));
  }
  if (r.micro.length > 0) {
    parts.push('', textTable(['micro-op', 'ns/op', '± %'], r.micro.map((m) => [m.name, fixed(m.nsPerOp, 1), fixed(m.rmePercent, 1)])));
  }
  const ratios = r.ratios.filter((x) => x.value !== null);
  if (ratios.length > 0) parts.push('', textTable(['ratio', 'value'], ratios.map((x) => [x.name, fixed(x.value)])));
  const goals = r.goals.filter((g) => g.value !== null);
  if (goals.length > 0) {
    parts.push('', textTable(['goal', 'value', 'target', 'result', 'detail'], goals.map((g) => [g.id, fixed(g.value), String(g.target), g.met ? 'met' : 'MISSED', g.detail])));
  }
  if (r.outDir) parts.push('', `report: ${r.outDir}/report.md`);
  return parts.join('\n') + '\n';
}
