/**
 * Rendering and exit rules shared by `load`, `order` and `latency`: the JSON shapes and the readable
 * tables on stdout. Thread: main.
 */
import { bytes, micros, rate, textTable } from '@ringbuf/bench';
import type { Violation } from '@ringbuf/consumer';
import { causalKind } from '@ringbuf/instrument';
import { clean } from '../run/accounting.js';
import type { RunOutcome } from '../run/engine.js';
import { describeStall } from '../run/consumer-stall.js';
import type { ThresholdResult } from '../run/thresholds.js';

/** Exit statuses of the commands (EXIT_INTERRUPTED, 130, is in run/signals.ts). */
export const EXIT_OK = 0;
/** Something was lost, duplicated or reordered (or a producer's recovery failed). */
export const EXIT_FAILED = 1;

/**
 * Whether a run passes: nothing lost, duplicated, reordered or malformed, nothing left in the ring,
 * every death recovered.
 */
export function runPassed(r: RunOutcome): boolean {
  return clean(r) && r.leftBehind === 0 && r.recovered === r.killed + r.crashed + r.stuck;
}

/** What `load` adds to a run for its verdict and report. */
export interface LoadExtras {
  /** --handler: the module's URL. */
  handler?: string;
  /** --producer: the module's URL. */
  producer?: string;
  /** --threshold results, in the order given. */
  thresholds: ThresholdResult[];
  /** --out: the files written. */
  files?: string[];
  /** --out: why the files could not be written (the report is printed anyway). */
  outError?: string;
}

function figure(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  if (unit === 'us') return micros(value);
  if (unit === 'records/s') return rate(value);
  if (unit === '%') return `${value.toFixed(3)} %`;
  if (unit === 'bytes') return bytes(value);
  return String(value);
}

/** A threshold's verdict as the table shows it. */
function describeThreshold(t: ThresholdResult): string {
  return `${t.ok ? 'pass' : 'FAIL'}  ${t.expr}  (value ${figure(t.value, t.unit)})`;
}

/**
 * Everything that makes a `load` run fail, one sentence each (empty: it passed). Exit status 1
 * when any.
 */
export function loadFailures(r: RunOutcome, x: LoadExtras): string[] {
  const out: string[] = [];
  if (r.lost > 0) out.push(`${r.lost} committed records were lost (never delivered)`);
  if (r.duplicates > 0) out.push(`${r.duplicates} records were delivered twice`);
  if (r.orderViolations > 0) out.push(`${r.orderViolations} records arrived out of order`);
  if (r.malformed > 0) out.push(`${r.malformed} records were malformed (short, torn, or from an unknown producer)`);
  if (r.drain.reason === 'terminated') {
    const stall = r.consumerStall === undefined ? '' : ` (${describeStall(r.consumerStall.maxAgeMs)})`;
    out.push(
      `the consumer did not stop within the drain deadline and was terminated (a handler that never returns?)` +
        `${stall}; ${r.records.consumed} records had been delivered`,
    );
  } else if (r.drain.reason === 'handler-stop') {
    out.push('the handler returned a negative number: the consumer stopped early');
  }
  if (r.leftBehind > 0)
    out.push(
      `${r.leftBehind} committed records were left in the ring undelivered ` +
        `(drain ${r.drain.reason}): the consumer did not keep up`,
    );
  if (r.handlerErrors > 0) {
    const e = r.firstHandlerError;
    out.push(
      `the handler threw ${r.handlerErrors} times` +
        (e === undefined
          ? ''
          : ` (first: ${e.name}: ${e.message}, on the record at position ${e.position} of ring ${e.ring})`),
    );
  }
  const closed = r.handlerClose;
  if (closed?.userCloseError !== undefined) out.push(`the handler's close() failed: ${closed.userCloseError}`);
  const dropped = closed?.unhandledRejections;
  if (dropped !== undefined)
    out.push(`the handler left ${dropped.count} promise rejections unhandled (first: ${dropped.first})`);
  if (r.crashed > 0)
    out.push(
      `${r.crashed} producers died on their own` +
        (x.producer === undefined ? '' : ' (the producer module threw?)') +
        (r.firstCrash === undefined ? '' : `; first: ${r.firstCrash}`),
    );
  for (const s of r.stuckProducers)
    out.push(`the watchdog terminated ${s}; its reservation was discarded by recovery (abandoned)`);
  if (r.recovered !== r.killed + r.crashed + r.stuck)
    out.push(`${r.killed + r.crashed + r.stuck - r.recovered} producer deaths were not recovered`);
  if (x.outError !== undefined) out.push(`the --out files were not written: ${x.outError}`);
  for (const t of x.thresholds)
    if (!t.ok) out.push(`threshold '${t.expr}' failed: the value is ${figure(t.value, t.unit)}`);
  return out;
}

/** Names of the instrumented record's event kinds, by EventKind value. */
const KIND_NAMES: Readonly<Record<number, string>> = { 0: 'load', 1: 'fork', 2: 'exec', 3: 'exit' };

/**
 * Describes a causal token of the pool's causal scenario: token t is the event causalKind(t) of task
 * ceil(t / 3) (fork, exec, exit), emitted by producer slot ("CPU") (t - 1) % producers.
 */
export function describeToken(token: number, producers: number): string {
  const kind = KIND_NAMES[causalKind(token)] ?? 'event';
  return `${kind} of task ${Math.ceil(token / 3)} on cpu ${(token - 1) % producers} (token ${token})`;
}

/** One violation example as a sentence. */
export function describeViolation(v: Violation, producers: number): string {
  const where = v.ring >= 0 ? ` from ring ${v.ring}${v.position >= 0 ? ` at position ${v.position}` : ''}` : '';
  switch (v.kind) {
    case 'causal':
      return (
        `#${v.index}: ${describeToken(v.got, producers)} delivered${where} after ` +
        describeToken(v.expected, producers)
      );
    case 'gap':
      return `#${v.index}: producer ${v.producerId} skipped from seq ${v.expected} to ${v.got}${where}`;
    case 'duplicate':
      return `#${v.index}: producer ${v.producerId} seq ${v.got} delivered again${where} (expected ${v.expected})`;
    case 'reorder':
      return `#${v.index}: producer ${v.producerId} seq ${v.got} arrived late${where} (expected ${v.expected})`;
    default:
      return `#${v.index}: malformed record${where} (producer ${v.producerId}, ${v.got})`;
  }
}

/** The handler's close() as the table shows it. */
function describeClose(c: RunOutcome['handlerClose']): string {
  if (c === undefined) return '(not reached)';
  return c.userCloseError ?? c.userCloseNote ?? JSON.stringify(c.userClose ?? null);
}

/** The table's record counts: producers, duration, every count, and `overwritten` in overwrite mode. */
function countRows(r: RunOutcome, overwrite: boolean): string[][] {
  const rows: string[][] = [
    ['producers', String(r.producers)],
    ['duration', `${r.elapsedSec.toFixed(2)} s${r.interrupted ? ' (interrupted)' : ''}`],
    ['attempted', String(r.records.attempted)],
    ['committed', String(r.records.committed)],
    ['discarded', String(r.records.discarded)],
    ['dropped (ring full)', String(r.records.dropped)],
    ['abandoned (killed in hand)', String(r.records.abandoned)],
    ['consumed', String(r.records.consumed)],
    ['lost', String(r.lost)],
    ['left behind (not drained)', String(r.leftBehind)],
    ['duplicates', String(r.duplicates)],
    ['order violations', String(r.orderViolations)],
  ];
  if (overwrite) rows.push(['overwritten (expected)', String(r.overwritten)]);
  return rows;
}

/** The table's figures: throughput, the modules, latency, the consumer, deaths, the drain. */
function figureRows(r: RunOutcome, x: LoadExtras, closedLoop: boolean): string[][] {
  const queueing = closedLoop ? ' (queueing)' : '';
  return [
    ['throughput', `${rate(r.throughput.recordsPerSec)}, ${bytes(r.throughput.bytesPerSec)}/s`],
    ...(x.handler === undefined
      ? []
      : [
          ['handler', x.handler],
          ['handler errors', String(r.handlerErrors)],
          ['handler close()', describeClose(r.handlerClose)],
        ]),
    ...(x.producer === undefined ? [] : [['producer', x.producer]]),
    [`latency p50 / p90${queueing}`, `${micros(r.latencyUs.p50)} / ${micros(r.latencyUs.p90)}`],
    [`latency p99 / p99.9${queueing}`, `${micros(r.latencyUs.p99)} / ${micros(r.latencyUs.p999)}`],
    [`latency max${queueing}`, micros(r.latencyUs.max)],
    ['consumer sleeps / wakeups', `${r.consumer.sleeps} / ${r.consumer.wakeups}`],
    [
      'killed / recovered',
      `${r.killed} / ${r.recovered}${r.crashed > 0 ? ` (${r.crashed} crashed on their own)` : ''}` +
        (r.stuck > 0 ? ` (${r.stuck} stuck, ended by the watchdog)` : ''),
    ],
    ['drain', `${r.drain.reason}, ${r.drain.leftBehind} left behind`],
    ['largest backlog', bytes(r.consumer.maxBacklogBytes)],
  ];
}

/** The table's rows that only some runs have: a consumer stall, the latency source, the open-loop rate. */
function noteRows(r: RunOutcome, x: LoadExtras): string[][] {
  const rows: string[][] = [];
  const st = r.consumerStall;
  if (st !== undefined)
    rows.push([
      'consumer heartbeat',
      `${describeStall(st.maxAgeMs)} (from ${st.firstAtSec.toFixed(1)} s, ${bytes(st.backlogBytes)} unread)`,
    ]);
  if (x.handler !== undefined)
    rows.push([
      'latency measured',
      r.latencySource === 'handler-return' ? "to the handler's return" : 'estimate (live buckets, within 12.5 %)',
    ]);
  if (r.rate !== undefined)
    rows.push([
      'open-loop rate',
      `${rate(r.rate.slowestAchieved)} per producer (target ${rate(r.rate.targetPerProducer)}` +
        `${r.rate.met ? ', met' : ', NOT met'})`,
    ]);
  return rows;
}

/** The stages table (none without stages), each block followed by an empty line. */
function stageLines(r: RunOutcome): string[] {
  if (r.stages.length === 0) return [];
  const stageRows = r.stages.map((s, i) => [
    String(i + 1),
    `${s.durationSec} s`,
    `${rate(s.fromRate)} -> ${rate(s.targetRate)}`,
    rate(s.expectedRate),
    s.achievedRate === null ? '(not run)' : rate(s.achievedRate),
  ]);
  return [textTable(['stage', 'duration', 'target (per producer)', 'expected mean', 'achieved'], stageRows), ''];
}

/** What follows the tables: thresholds, files written, the closed-loop note, the first violations. */
function noteLines(r: RunOutcome, x: LoadExtras, closedLoop: boolean): string[] {
  const lines: string[] = [];
  if (x.thresholds.length > 0) lines.push('Thresholds:', ...x.thresholds.map((t) => `  ${describeThreshold(t)}`), '');
  if (x.files !== undefined && x.files.length > 0) lines.push(`Wrote ${x.files.join(', ')}`, '');
  if (closedLoop) {
    lines.push(
      'Latency is closed-loop: producers commit as fast as they can, so a record mostly waits in the ring',
      'behind the others (queueing), not for its delivery. For open-loop figures give the producers a fixed',
      'rate with --rate <records/s per producer> (or run `ringbuf latency`).',
      '',
    );
  }
  if (r.examples.length > 0) {
    lines.push('First violations:', ...r.examples.slice(0, 8).map((v) => `  ${describeViolation(v, r.producers)}`), '');
  }
  return lines;
}

/** The `load` report as a table. */
export function renderLoad(
  r: RunOutcome,
  options: Record<string, string>,
  overwrite: boolean,
  x: LoadExtras = { thresholds: [] },
): string {
  const failures = loadFailures(r, x);
  const closedLoop = r.rate === undefined && r.stages.length === 0;
  const opt = Object.entries(options)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const rows = [...countRows(r, overwrite), ...figureRows(r, x, closedLoop), ...noteRows(r, x)];
  const lines = [
    `ringbuf load — ${opt}, seed ${r.seed}`,
    '',
    textTable(['', 'value'], rows),
    '',
    ...stageLines(r),
    ...noteLines(r, x, closedLoop),
  ];
  if (failures.length === 0) lines.push('OK: every committed record was delivered once, in order.');
  else lines.push('FAILED:', ...failures.map((f) => `  - ${f}`));
  return lines.join('\n') + '\n';
}

/** The `load` JSON object (the issue's fields, then details). */
export function loadJson(
  r: RunOutcome,
  options: Record<string, unknown>,
  x: LoadExtras = { thresholds: [] },
): Record<string, unknown> {
  const failures = loadFailures(r, x);
  return {
    producers: r.producers,
    durationSec: r.elapsedSec,
    records: r.records,
    lost: r.lost,
    leftBehind: r.leftBehind,
    duplicates: r.duplicates,
    orderViolations: r.orderViolations,
    overwritten: r.overwritten,
    throughput: r.throughput,
    latencyUs: {
      p50: r.latencyUs.p50,
      p90: r.latencyUs.p90,
      p99: r.latencyUs.p99,
      p999: r.latencyUs.p999,
      max: r.latencyUs.max,
    },
    killed: r.killed,
    recovered: r.recovered,
    crashed: r.crashed,
    malformed: r.malformed,
    interrupted: r.interrupted,
    drain: r.drain,
    consumer: r.consumer,
    rate: r.rate ?? null,
    handler:
      x.handler === undefined
        ? null
        : {
            module: x.handler,
            errors: r.handlerErrors,
            firstError: r.firstHandlerError ?? null,
            close: r.handlerClose === undefined ? null : (r.handlerClose.userClose ?? null),
            closeError: r.handlerClose?.userCloseError ?? null,
            closeNote: r.handlerClose?.userCloseNote ?? null,
            unhandledRejections: r.handlerClose?.unhandledRejections ?? null,
          },
    producer:
      x.producer === undefined ? null : { module: x.producer, crashed: r.crashed, firstCrash: r.firstCrash ?? null },
    stuckProducers: r.stuckProducers,
    consumerStall: r.consumerStall ?? null,
    latencySource: r.latencySource,
    stages: r.stages,
    thresholds: x.thresholds,
    files: x.files ?? [],
    outError: x.outError ?? null,
    seed: r.seed,
    options,
    examples: r.examples,
    failures,
    ok: failures.length === 0,
  };
}
