/**
 * `--threshold <expr>`: k6-style pass/fail checks on a run's final figures, e.g. `lost==0`,
 * `p99<500us`, `p999<2ms`, `throughput>1M`, `drops<1%`. An expression is METRIC OP VALUE[UNIT]:
 *
 * | metric | value | units |
 * |---|---|---|
 * | `p50`, `p90`, `p99`, `p999`, `max` | end-to-end latency | `us` (default), `µs`, `ms`, `s` |
 * | `throughput` | consumed records per second | `k`, `M`, `G` (optional `/s`) |
 * | `drops` | records dropped (ring full) | a count, or `%` of the attempted records |
 * | `lost`, `duplicates`, `order`, `malformed`, `errors`, `crashed`, `left` | counts | none |
 * | `backlog` | the largest backlog, bytes | `B`, `K`, `M`, `G` (binary) |
 *
 * OP is one of `<`, `<=`, `>`, `>=`, `==`, `!=`. Parsing happens before the run (a bad expression
 * is a usage error, exit 2); evaluation after it. Pure functions. Thread: main.
 */
import { UsageError } from '../cli-errors.js';

/** The figures a threshold can name, from a finished run. */
export interface ThresholdFigures {
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number };
  throughputPerSec: number;
  attempted: number;
  dropped: number;
  lost: number;
  duplicates: number;
  orderViolations: number;
  malformed: number;
  handlerErrors: number;
  crashed: number;
  leftBehind: number;
  maxBacklogBytes: number;
}

type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A parsed threshold. */
export interface Threshold {
  expr: string;
  metric: string;
  op: Op;
  /** The limit in the metric's base unit (µs, records/s, count, percent, bytes). */
  limit: number;
  /** The base unit the value and limit are in: 'us', 'records/s', 'count', '%', 'bytes'. */
  unit: string;
}

/** A threshold's verdict. */
export interface ThresholdResult {
  expr: string;
  /** The run's figure, in `unit`. */
  value: number;
  unit: string;
  ok: boolean;
}

const LATENCY = ['p50', 'p90', 'p99', 'p999', 'max'] as const;
const COUNTS = ['lost', 'duplicates', 'order', 'malformed', 'errors', 'crashed', 'left'] as const;
/** The metric names accepted, for the error message. */
const THRESHOLD_METRICS = [...LATENCY, 'throughput', 'drops', ...COUNTS, 'backlog'] as const;

const EXPR = /^\s*([a-z0-9]+)\s*(<=|>=|==|!=|<|>)\s*(\d+(?:\.\d+)?)\s*([a-zA-Zµ%/]*)\s*$/;

function refuse(raw: string, why: string): never {
  throw new UsageError(
    `--threshold: '${raw}' ${why}: accepted METRIC OP VALUE with METRIC one of ${THRESHOLD_METRICS.join(', ')}, ` +
      `OP one of < <= > >= == != (e.g. lost==0, p99<500us, throughput>1M, drops<1%)`,
  );
}

/**
 * Parses one `--threshold` expression.
 * @throws UsageError (one line) naming the expression, what is wrong, and the accepted form.
 */
export function parseThreshold(raw: string): Threshold {
  const m = EXPR.exec(raw);
  if (m === null) refuse(raw, 'is not METRIC OP VALUE');
  const metric = m[1] ?? '';
  const op = (m[2] ?? '') as Op;
  const n = Number(m[3]);
  const unit = m[4] ?? '';
  const expr = raw.trim();
  if ((LATENCY as readonly string[]).includes(metric)) {
    const scale = unit === '' || unit === 'us' || unit === 'µs' ? 1 : unit === 'ms' ? 1e3 : unit === 's' ? 1e6 : NaN;
    if (Number.isNaN(scale)) refuse(raw, `has unit '${unit}' where a latency takes us, µs, ms or s`);
    return { expr, metric, op, limit: n * scale, unit: 'us' };
  }
  if (metric === 'throughput') {
    const u = unit.replace(/\/s$/, '');
    const scale = u === '' ? 1 : u === 'k' || u === 'K' ? 1e3 : u === 'M' ? 1e6 : u === 'G' ? 1e9 : NaN;
    if (Number.isNaN(scale)) refuse(raw, `has unit '${unit}' where throughput takes k, M or G (records/s)`);
    return { expr, metric, op, limit: n * scale, unit: 'records/s' };
  }
  if (metric === 'drops') {
    if (unit === '%') return { expr, metric, op, limit: n, unit: '%' };
    if (unit !== '') refuse(raw, `has unit '${unit}' where drops take a count or %`);
    return { expr, metric, op, limit: n, unit: 'count' };
  }
  if ((COUNTS as readonly string[]).includes(metric)) {
    if (unit !== '') refuse(raw, `has unit '${unit}' where ${metric} is a count`);
    return { expr, metric, op, limit: n, unit: 'count' };
  }
  if (metric === 'backlog') {
    const u = unit.replace(/i?B$/, '').toUpperCase();
    const scale = u === '' ? 1 : u === 'K' ? 1024 : u === 'M' ? 1024 ** 2 : u === 'G' ? 1024 ** 3 : NaN;
    if (Number.isNaN(scale)) refuse(raw, `has unit '${unit}' where backlog takes B, K, M or G`);
    return { expr, metric, op, limit: n * scale, unit: 'bytes' };
  }
  return refuse(raw, `names no metric '${metric}'`);
}

/** The run's figure a threshold names, in its unit. */
function thresholdValue(t: Threshold, f: ThresholdFigures): number {
  switch (t.metric) {
    case 'p50':
    case 'p90':
    case 'p99':
    case 'p999':
    case 'max':
      return f.latencyUs[t.metric];
    case 'throughput':
      return f.throughputPerSec;
    case 'drops':
      return t.unit === '%' ? (f.attempted > 0 ? (100 * f.dropped) / f.attempted : 0) : f.dropped;
    case 'lost':
      return f.lost;
    case 'duplicates':
      return f.duplicates;
    case 'order':
      return f.orderViolations;
    case 'malformed':
      return f.malformed;
    case 'errors':
      return f.handlerErrors;
    case 'crashed':
      return f.crashed;
    case 'left':
      return f.leftBehind;
    default:
      return f.maxBacklogBytes;
  }
}

function holds(value: number, op: Op, limit: number): boolean {
  switch (op) {
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '==':
      return value === limit;
    default:
      return value !== limit;
  }
}

/** Evaluates every threshold (a NaN figure, e.g. no latency sample, fails). */
export function evaluateThresholds(list: readonly Threshold[], f: ThresholdFigures): ThresholdResult[] {
  return list.map((t) => {
    const value = thresholdValue(t, f);
    return { expr: t.expr, value, unit: t.unit, ok: Number.isFinite(value) && holds(value, t.op, t.limit) };
  });
}
