/** The plain-text summary printed on stdout (without `--json`). */
import type { ScenarioResult } from '../scenarios/types.js';
import { PACED_WARMUP_MS } from '../scenarios/descriptors.js';
import { fixed, gbps, micros, mps, textTable } from './format.js';
import { checkReport } from './check.js';
import type { BenchReport, Goal } from './types.js';

/** A quick run's goals: evaluated on numbers too small to mean anything. */
export const QUICK_GOAL = 'not meaningful (quick)';

/** A goal's result cell: met / MISSED, or {@link QUICK_GOAL} in a quick run. */
export function goalResult(g: Goal, quick: boolean, missed = 'MISSED'): string {
  if (g.value === null) return 'not run';
  if (quick) return QUICK_GOAL;
  return g.met ? 'met' : missed;
}

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

/** Latency rows (µs): the latency scenario, the sleeping consumer's wake and the raw floor. */
export function latencyRows(r: BenchReport): string[][] {
  const rows: string[][] = [];
  const row = (
    name: string,
    l: { p50Us: number; p90Us: number; p99Us: number; p999Us: number; maxUs: number; count: number },
    what: string,
  ): void => {
    rows.push([
      name,
      micros(l.p50Us),
      micros(l.p90Us),
      micros(l.p99Us),
      micros(l.p999Us),
      micros(l.maxUs),
      String(l.count),
      what,
    ]);
  };
  for (const s of r.scenarios) if (s.latency && !s.error) row(s.name, s.latency, s.description);
  if (r.wake) {
    row(
      'consumer wake',
      r.wake.consumer,
      `sleeping ConsumerRuntime, flags-0 commit to handler (${r.wake.settleUs} µs settle)`,
    );
    row('raw wait/notify', r.wake.floor, 'the floor: Atomics.notify -> Atomics.wait, two workers, no ring');
    // Read loosely: reports before the corrected floor have none.
    const corrected = (r.wake as { floorCorrected?: typeof r.wake.floor }).floorCorrected;
    if (corrected)
      row(
        'floor, CO-corrected',
        corrected,
        `the floor corrected for coordinated omission at its own ` +
          `${r.wake.correctIntervalUs.toFixed(1)} µs sample interval`,
      );
    const m = r.wake.machine;
    if (m) {
      row(
        'machine, no ring',
        m.lateness,
        `${m.threads} threads keeping a ${m.intervalUs} µs schedule, no ring (a hiccup meter): ` +
          `${(m.stalledFraction * 100).toFixed(2)} % of their time lost in gaps over 100 µs`,
      );
    }
  }
  return rows;
}

export const LATENCY_HEAD = ['latency', 'p50', 'p90', 'p99', 'p99.9', 'max', 'records', 'what'];

/** The plain-text summary of a report. @throws BenchError `ERR_BENCH_REPORT` when `r` is not a bench report. */
export function renderText(r: BenchReport): string {
  checkReport(r);
  const parts: string[] = [];
  parts.push(
    `ringbuf bench — ${r.machine.cpuModel}, ${r.machine.cores} ` +
      `cores, Node ${r.machine.node}, git ${r.machine.gitRev ?? 'n/a'}`,
  );
  parts.push(
    `${r.options.windows} windows × ${r.options.windowMs} ms after ` +
      `${r.options.warmupMs} ms warm-up (latency: ${Math.max(r.options.warmupMs, PACED_WARMUP_MS)} ` +
      `ms)${r.options.quick ? ' (quick: numbers not meaningful)' : ''}`,
  );
  if (r.interrupted)
    parts.push(
      `INTERRUPTED: the report holds the ${r.scenarios.length} scenarios that ran; not run: ${r.notRun.join(', ')}`,
    );
  if (r.scenarios.length > 0) parts.push('', textTable(SCENARIO_HEAD, scenarioRows(r.scenarios)));
  const latency = latencyRows(r);
  if (latency.length > 0) parts.push('', textTable(LATENCY_HEAD, latency));
  if (r.memcpy.length > 0) {
    parts.push(
      '',
      textTable(
        ['memcpy block', 'GB/s'],
        r.memcpy.map((m) => [String(m.size), gbps(m.bytesPerSec)]),
      ),
    );
  }
  if (r.micro.length > 0) {
    parts.push(
      '',
      textTable(
        ['micro-op', 'ns/op', '± %'],
        r.micro.map((m) => [m.name, fixed(m.nsPerOp, 1), fixed(m.rmePercent, 1)]),
      ),
    );
  }
  const ratios = r.ratios.filter((x) => x.value !== null);
  if (ratios.length > 0)
    parts.push(
      '',
      textTable(
        ['ratio', 'value'],
        ratios.map((x) => [x.name, fixed(x.value)]),
      ),
    );
  const goals = r.goals.filter((g) => g.value !== null);
  if (goals.length > 0) {
    parts.push(
      '',
      textTable(
        ['goal', 'value', 'target', 'result', 'detail'],
        goals.map((g) => [g.id, fixed(g.value), String(g.target), goalResult(g, r.options.quick), g.detail]),
      ),
    );
  }
  if (r.outDir) parts.push('', `report: ${r.outDir}/report.md`);
  return parts.join('\n') + '\n';
}
