/**
 * A run's timeline (`ringbuf load --out <dir>`): one row per second, sampled by the engine's
 * once-a-second tick on the main thread, and its files: timeline.csv, timeline.json and
 * timeline.svg (vega-lite: throughput and p99 against time, stage boundaries and kills marked).
 * Nothing here runs per record. Thread: main.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSvg } from '@ringbuf/bench';

/** One second of a run. */
export interface TimelineRow {
  /** Seconds from the producers' start to the end of this row's interval. */
  tSec: number;
  /** Records delivered to the consumer's handler per second in the interval. */
  recordsPerSec: number;
  /** Reservations refused (ring full) per second in the interval. */
  dropsPerSec: number;
  /** Unconsumed bytes in the ring(s) at the end of the interval (AVAIL_DATA, read by this thread). */
  backlogBytes: number;
  /** Latency percentiles of the records timed in the interval, µs (null: none timed). */
  p50Us: number | null;
  p99Us: number | null;
  /** Consumer wakeups (sleeps ended by a notification) in the interval. */
  wakeups: number;
  /** Producers killed by fault injection in the interval. */
  kills: number;
  /** Handler throws in the interval (a --handler's errors). */
  handlerErrors: number;
  /** Stage (0-based) the interval ended in, null without stages or after the last. */
  stage: number | null;
}

/** The columns of timeline.csv, in order. */
export const TIMELINE_COLUMNS: ReadonlyArray<keyof TimelineRow> = [
  'tSec',
  'recordsPerSec',
  'dropsPerSec',
  'backlogBytes',
  'p50Us',
  'p99Us',
  'wakeups',
  'kills',
  'handlerErrors',
  'stage',
];

/** timeline.csv: a header line, then one line per row (empty cells for null). */
export function timelineCsv(rows: readonly TimelineRow[]): string {
  const cell = (v: number | null): string =>
    v === null || !Number.isFinite(v) ? '' : String(Math.round(v * 1000) / 1000);
  return (
    [TIMELINE_COLUMNS.join(','), ...rows.map((r) => TIMELINE_COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') +
    '\n'
  );
}

/** A stage's span on the timeline. */
export interface StageSpan {
  startSec: number;
  endSec: number;
  targetRate: number;
}

type Spec = Parameters<typeof renderSvg>[0];

/** The time axis both panels share. */
const TIME_AXIS = { field: 't', type: 'quantitative', title: 'time (s)', scale: { domainMin: 0 } } as const;

/**
 * The marks layered over each panel: stage boundaries as dashed green rules labelled with the next
 * stage's target; kills as red triangles along the top at the end of the second they happened in.
 */
function timelineMarks(rows: readonly TimelineRow[], stages: readonly StageSpan[]): object[] {
  const x = TIME_AXIS;
  const boundaries = stages.slice(1).map((s) => ({ t: s.startSec, label: `-> ${s.targetRate}/s` }));
  const kills = rows.filter((r) => r.kills > 0).map((r) => ({ t: r.tSec, kills: r.kills }));
  return [
    ...(boundaries.length > 0
      ? [
          {
            data: { values: boundaries },
            mark: { type: 'rule', color: '#54a24b', strokeDash: [6, 4], strokeWidth: 2 },
            encoding: { x },
          },
          {
            data: { values: boundaries },
            mark: { type: 'text', color: '#54a24b', align: 'left', dx: 3, dy: 8, fontSize: 10 },
            encoding: { x, y: { value: 0 }, text: { field: 'label' } },
          },
        ]
      : []),
    ...(kills.length > 0
      ? [
          {
            data: { values: kills },
            mark: { type: 'point', shape: 'triangle-down', filled: true, size: 90, color: '#e45756' },
            encoding: { x, y: { value: 6 }, tooltip: { field: 'kills' } },
          },
        ]
      : []),
  ];
}

/**
 * The timeline chart: two panels over one time axis, throughput (records/s) above and p99 (µs, log
 * scale) below; stage boundaries as dashed green rules with the next target, kills as red triangles.
 */
function timelineSpec(rows: readonly TimelineRow[], stages: readonly StageSpan[], title: string): Spec {
  const values = rows.map((r) => ({ t: r.tSec, records: r.recordsPerSec, p99: r.p99Us, kills: r.kills }));
  const x = TIME_AXIS;
  const panel = (line: object): object => ({
    width: 640,
    height: 200,
    layer: [line, ...timelineMarks(rows, stages)],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    background: 'white',
    vconcat: [
      panel({
        data: { values },
        mark: { type: 'line', point: true, color: '#4c78a8' },
        encoding: { x, y: { field: 'records', type: 'quantitative', title: 'records/s (consumed)' } },
      }),
      panel({
        data: { values: values.filter((v) => v.p99 !== null && v.p99 > 0) },
        mark: { type: 'line', point: true, color: '#f58518' },
        encoding: {
          x,
          y: { field: 'p99', type: 'quantitative', scale: { type: 'log' }, title: 'p99 latency (µs)' },
        },
      }),
    ],
  } as unknown as Spec;
}

/** Writes timeline.csv, timeline.json, timeline.svg and report.json into `dir` (created). Returns the paths. */
export async function writeTimeline(
  dir: string,
  rows: readonly TimelineRow[],
  stages: readonly StageSpan[],
  title: string,
  report: unknown,
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: Array<[string, string]> = [
    ['timeline.csv', timelineCsv(rows)],
    ['timeline.json', JSON.stringify(rows, null, 1) + '\n'],
    ['timeline.svg', await renderSvg(timelineSpec(rows, stages, title))],
    ['report.json', JSON.stringify(report, null, 2) + '\n'],
  ];
  return files.map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}
