/**
 * Rendering and exit rules shared by `load`, `order` and `latency`: the JSON shapes and the readable
 * tables on stdout. Thread: main.
 */
import { bytes, micros, rate, textTable } from '@ringbuf/bench';
import type { Violation } from '@ringbuf/consumer';
import { causalKind } from '@ringbuf/instrument';
import { clean } from '../run/accounting.js';
import type { RunOutcome } from '../run/engine.js';

/** Exit statuses of the commands (EXIT_INTERRUPTED, 130, is in run/signals.ts). */
export const EXIT_OK = 0;
/** Something was lost, duplicated or reordered (or a producer's recovery failed). */
export const EXIT_FAILED = 1;

/** Whether a run passes: nothing lost, duplicated, reordered or malformed, every death recovered. */
export function runPassed(r: RunOutcome): boolean {
  return clean(r) && r.recovered === r.killed + r.crashed;
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
      return `#${v.index}: ${describeToken(v.got, producers)} delivered${where} after ${describeToken(v.expected, producers)}`;
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

/** The `load` report as a table. */
export function renderLoad(r: RunOutcome, options: Record<string, string>, overwrite: boolean): string {
  const passed = runPassed(r);
  const closedLoop = r.rate === undefined;
  const opt = Object.entries(options).map(([k, v]) => `${k} ${v}`).join(', ');
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
    ['duplicates', String(r.duplicates)],
    ['order violations', String(r.orderViolations)],
  ];
  if (overwrite) rows.push(['overwritten (expected)', String(r.overwritten)]);
  rows.push(
    ['throughput', `${rate(r.throughput.recordsPerSec)}, ${bytes(r.throughput.bytesPerSec)}/s`],
    [`latency p50 / p90${closedLoop ? ' (queueing)' : ''}`, `${micros(r.latencyUs.p50)} / ${micros(r.latencyUs.p90)}`],
    [`latency p99 / p99.9${closedLoop ? ' (queueing)' : ''}`, `${micros(r.latencyUs.p99)} / ${micros(r.latencyUs.p999)}`],
    [`latency max${closedLoop ? ' (queueing)' : ''}`, micros(r.latencyUs.max)],
    ['consumer sleeps / wakeups', `${r.consumer.sleeps} / ${r.consumer.wakeups}`],
    ['killed / recovered', `${r.killed} / ${r.recovered}${r.crashed > 0 ? ` (${r.crashed} crashed on their own)` : ''}`],
    ['drain', `${r.drain.reason}, ${r.drain.leftBehind} left behind`],
  );
  if (r.rate !== undefined) rows.push(['open-loop rate', `${rate(r.rate.slowestAchieved)} per producer (target ${rate(r.rate.targetPerProducer)}${r.rate.met ? ', met' : ', NOT met'})`]);
  const lines = [`ringbuf load — ${opt}, seed ${r.seed}`, '', textTable(['', 'value'], rows), ''];
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
  lines.push(passed ? 'OK: every committed record was delivered once, in order.' : 'FAILED: records were lost, duplicated or reordered (see above).');
  return lines.join('\n') + '\n';
}

/** The `load` JSON object (the issue's fields, then details). */
export function loadJson(r: RunOutcome, options: Record<string, unknown>): Record<string, unknown> {
  return {
    producers: r.producers,
    durationSec: r.elapsedSec,
    records: r.records,
    lost: r.lost,
    duplicates: r.duplicates,
    orderViolations: r.orderViolations,
    overwritten: r.overwritten,
    throughput: r.throughput,
    latencyUs: { p50: r.latencyUs.p50, p90: r.latencyUs.p90, p99: r.latencyUs.p99, p999: r.latencyUs.p999, max: r.latencyUs.max },
    killed: r.killed,
    recovered: r.recovered,
    crashed: r.crashed,
    malformed: r.malformed,
    interrupted: r.interrupted,
    drain: r.drain,
    consumer: r.consumer,
    rate: r.rate ?? null,
    seed: r.seed,
    options,
    examples: r.examples,
    ok: runPassed(r),
  };
}
