/**
 * `ringbuf order --out <dir>`: the timeline chart (order-timeline.svg). A few tasks' causal chains
 * (fork -> exec -> exit, each event written by the next producer, the "CPU" that holds the token)
 * drawn in the order the consumer received them: one panel for the shared MPSC ring, one for the
 * per-producer rings drained in turn. Each event sits in its producer's lane at its place in the
 * delivery order; a task's line joins its events in causal order, so a line that runs backwards is
 * a task whose later event arrived first. An event delivered after a later one (a causal violation,
 * the verifier's rule: a token below one already delivered) has a red ring and says what it came
 * after. The same tasks are shown in both panels: the window around the first violation of the
 * per-producer rings. Thread: main.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CHART_CONFIG, VEGA_LITE_SCHEMA, renderSvg } from '@ringbuf/bench';
import type { OrderCapture } from './order-capture.js';

/** The chart's file name in the output directory. */
export const ORDER_TIMELINE_FILE = 'order-timeline.svg';
/** Tokens the capture follows (the window is chosen among them). */
export const CAPTURE_TOKENS = 3000;
/** Tasks drawn (three events each). */
const TIMELINE_TASKS = 4;

const KINDS = ['fork', 'exec', 'exit'] as const;
export type TimelineKind = (typeof KINDS)[number];

/** One event as the chart draws it. */
export interface TimelineEvent {
  token: number;
  /** 1-based task number (tokens 3t-2, 3t-1, 3t). */
  task: number;
  kind: TimelineKind;
  producer: number;
  /** 0-based delivery index in the whole run. */
  deliveredAt: number;
  /** Place among the events drawn (0 = delivered first). */
  rank: number;
  /** The highest token delivered before this one, when above it (a causal violation), else null. */
  after: number | null;
}

/** The task a token belongs to, and its kind (the pool's causal rule: fork, exec, exit, fork, ...). */
export function tokenTask(token: number): { task: number; kind: TimelineKind } {
  return { task: Math.ceil(token / 3), kind: KINDS[(token - 1) % 3]! };
}

/**
 * Per token 1 .. n of the capture, the highest token delivered before it (0 when none): a value
 * above the token is a causal violation. Tokens that never arrived get 0.
 */
export function highestBefore(capture: OrderCapture): number[] {
  const n = capture.deliveredAt.length;
  const order: number[] = [];
  for (let k = 0; k < n; k++) if ((capture.deliveredAt[k] ?? -1) >= 0) order.push(k);
  order.sort((a, b) => capture.deliveredAt[a]! - capture.deliveredAt[b]!);
  const out = new Array<number>(n).fill(0);
  let max = 0;
  for (const k of order) {
    out[k] = max;
    max = Math.max(max, k + 1);
  }
  return out;
}

/** The first token (in delivery order) delivered after a later one, or null when none was. */
export function firstViolation(capture: OrderCapture): number | null {
  const before = highestBefore(capture);
  let best: number | null = null;
  let bestAt = Infinity;
  for (let k = 0; k < before.length; k++) {
    const at = capture.deliveredAt[k]!;
    if (at >= 0 && before[k]! > k + 1 && at < bestAt) {
      bestAt = at;
      best = k + 1;
    }
  }
  return best;
}

/**
 * The tasks to draw: `tasks` tasks starting one before the task of the per-producer rings' first
 * violation (so that what came before it shows too), or the first tasks when there is none.
 */
export function chooseTasks(
  perRing: OrderCapture | undefined,
  tokens: number,
  tasks = TIMELINE_TASKS,
): { first: number; last: number } {
  const maxTask = Math.max(1, Math.floor(tokens / 3));
  const v = perRing === undefined ? null : firstViolation(perRing);
  let first = v === null ? 1 : Math.max(1, tokenTask(v).task - 1);
  first = Math.max(1, Math.min(first, maxTask - tasks + 1));
  return { first, last: Math.min(maxTask, first + tasks - 1) };
}

/** The events of tasks `first .. last` in a capture, ranked by delivery. */
export function timelineEvents(capture: OrderCapture, first: number, last: number): TimelineEvent[] {
  const before = highestBefore(capture);
  const events: TimelineEvent[] = [];
  for (let token = 3 * first - 2; token <= 3 * last && token <= capture.deliveredAt.length; token++) {
    const at = capture.deliveredAt[token - 1]!;
    if (at < 0) continue;
    const b = before[token - 1]!;
    events.push({
      token,
      ...tokenTask(token),
      producer: capture.producer[token - 1]!,
      deliveredAt: at,
      rank: 0,
      after: b > token ? b : null,
    });
  }
  events.sort((a, b) => a.deliveredAt - b.deliveredAt);
  events.forEach((e, i) => (e.rank = i));
  return events;
}

/** One panel of the chart. */
interface TimelinePanel {
  title: string;
  subtitle: string;
  events: TimelineEvent[];
}

const laneName = (producer: number): string => `producer ${producer}`;

const TASK_COLOURS = ['#4c78a8', '#f58518', '#54a24b', '#b279a2', '#9d755d', '#72b7b2'];
const VIOLATION = '#d62728';
const STEP = 58;

/** A panel's events as the chart's data rows: lane, task name, labels and the violation flag. */
function panelValues(p: TimelinePanel): object[] {
  return p.events.map((e) => ({
    ...e,
    lane: laneName(e.producer),
    taskName: `task ${e.task}`,
    label: `#${e.token}`,
    afterLabel: e.after === null ? '' : `after #${e.after}`,
    violated: e.after !== null,
  }));
}

/** The panel's axes: x the delivery order (`events` places), y the producers' lanes. */
function panelAxes(lanes: string[], events: number): { x: object; y: object } {
  const x = {
    field: 'rank',
    type: 'quantitative',
    title: 'delivery order of these events (left: received first)',
    scale: { domain: [-0.5, Math.max(events, 1) - 0.5], nice: false, zero: false },
    axis: { values: Array.from({ length: events }, (_, i) => i), labelExpr: 'datum.value + 1', grid: false },
  };
  const y = {
    field: 'lane',
    type: 'nominal',
    title: null,
    sort: lanes,
    scale: { domain: lanes, padding: 0.6 },
    axis: { grid: true },
  };
  return { x, y };
}

/**
 * The panel's layers: each task's chain, the red rings of violations, the events (colour: task,
 * shape: kind), their token labels and the violations' "after #n" labels.
 */
function panelLayers(tasks: string[]): object[] {
  const colour = {
    field: 'taskName',
    type: 'nominal',
    title: 'task',
    sort: tasks,
    scale: { domain: tasks, range: TASK_COLOURS },
  };
  return [
    // A task's chain in causal order: fork -> exec -> exit (a leftward segment: delivered reversed).
    {
      mark: { type: 'line', strokeWidth: 2, opacity: 0.75 },
      encoding: { color: colour, detail: { field: 'task' }, order: { field: 'token' } },
    },
    {
      transform: [{ filter: 'datum.violated' }],
      mark: { type: 'point', shape: 'circle', size: 520, filled: false, strokeWidth: 3, color: VIOLATION },
    },
    {
      mark: { type: 'point', filled: true, size: 150, opacity: 1, stroke: 'white', strokeWidth: 1 },
      encoding: {
        color: { ...colour, legend: { orient: 'right', title: 'task' } },
        shape: {
          field: 'kind',
          type: 'nominal',
          title: 'event',
          sort: [...KINDS],
          scale: { domain: [...KINDS], range: ['circle', 'square', 'triangle-up'] },
          legend: { orient: 'right' },
        },
      },
    },
    { mark: { type: 'text', dy: -16, fontSize: 10, color: '#222' }, encoding: { text: { field: 'label' } } },
    {
      transform: [{ filter: 'datum.violated' }],
      mark: { type: 'text', dy: 22, fontSize: 10, fontWeight: 'bold', color: VIOLATION },
      encoding: { text: { field: 'afterLabel' } },
    },
  ];
}

/** One panel of the chart: `events` places on x, `lanes` on y, `tasks` coloured in order. */
function panelSpec(p: TimelinePanel, lanes: string[], events: number, tasks: string[]): object {
  return {
    title: { text: p.title, subtitle: p.subtitle, fontSize: 13 },
    width: STEP * Math.max(events, 1),
    height: 46 * lanes.length,
    data: { values: panelValues(p) },
    encoding: panelAxes(lanes, events),
    layer: panelLayers(tasks),
  };
}

/**
 * The timeline as a vega-lite spec: one panel per design (same tasks), shared x and lanes.
 */
function orderTimelineSpec(panels: readonly TimelinePanel[], producers: number, title: string): object {
  // The lanes: the producers (the pool's producer ids, as the records carry them) that wrote an event drawn.
  const ids = new Set<number>();
  for (const p of panels) for (const e of p.events) ids.add(e.producer);
  const lanes = [...ids].sort((a, b) => a - b).map(laneName);
  if (lanes.length === 0) lanes.push(...Array.from({ length: producers }, (_, i) => laneName(i + 1)));
  const events = Math.max(1, ...panels.map((p) => p.events.length));
  const tasks = [...new Set(panels.flatMap((p) => p.events.map((e) => e.task)))]
    .sort((a, b) => a - b)
    .map((t) => `task ${t}`);
  return {
    $schema: VEGA_LITE_SCHEMA,
    autosize: { type: 'pad' },
    config: CHART_CONFIG,
    title: {
      text: title,
      subtitle: [
        'each task forks on one producer ("CPU"), execs on the next, exits on the next; #n: its place in causal order',
        'a red ring: delivered after a later event (a causal violation); it says the latest event seen before it',
      ],
    },
    vconcat: panels.map((p) => panelSpec(p, lanes, events, tasks)),
    spacing: 22,
    resolve: { legend: { color: 'shared', shape: 'shared' } },
  };
}

/** What the two runs captured, with their run-wide violation counts. */
export interface TimelineInput {
  producers: number;
  shared: { capture: OrderCapture; violations: number };
  perRing?: { capture: OrderCapture; violations: number } | undefined;
}

/** The panels for the two runs, over the same tasks. */
function timelinePanels(input: TimelineInput): TimelinePanel[] {
  const tokens = Math.min(
    input.shared.capture.deliveredAt.length,
    input.perRing?.capture.deliveredAt.length ?? Infinity,
  );
  const { first, last } = chooseTasks(input.perRing?.capture, tokens);
  const panel = (title: string, run: { capture: OrderCapture; violations: number }, what: string): TimelinePanel => {
    const events = timelineEvents(run.capture, first, last);
    const shown = events.filter((e) => e.after !== null).length;
    return {
      title,
      subtitle:
        `tasks ${first}-${last}: ${shown} of ${events.length} events delivered after a later one; ` +
        `the whole run: ${run.violations.toLocaleString('en-US')} ${what}`,
      events,
    };
  };
  const panels = [panel('One shared MPSC ring (BPF ring buffer)', input.shared, 'causal violations')];
  if (input.perRing)
    panels.push(panel('One ring per producer, drained in turn (perf buffer)', input.perRing, 'causal violations'));
  return panels;
}

/** Renders the timeline to SVG text. */
export async function renderOrderTimeline(input: TimelineInput): Promise<string> {
  const spec = orderTimelineSpec(timelinePanels(input), input.producers, 'Causal chains as the consumer received them');
  return renderSvg(spec as Parameters<typeof renderSvg>[0]);
}

/**
 * Writes order-timeline.svg into `dir` (created if needed); returns its path.
 * @throws Error when the file cannot be written.
 */
export async function writeOrderTimeline(dir: string, input: TimelineInput): Promise<string> {
  const svg = await renderOrderTimeline(input);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, ORDER_TIMELINE_FILE);
  writeFileSync(file, svg);
  return file;
}
