/**
 * The bad-input table of @ringbuf/bench: every export that takes arguments, with bad ones. Each row
 * must throw (or reject with) the typed error class and its `code`, and change nothing: the report
 * given stays as it was, no file or directory appears, and the rows of the functions that start
 * threads or make shared memory (runBench, the wake measurements) leave no thread behind; they are
 * all refused before anything starts. No benchmark runs here.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { childLogger } from '@ringbuf/instrument/log';
import {
  BenchError,
  BenchRangeError,
  bytes,
  chartSpec,
  chartTitle,
  clock,
  defaultTiming,
  latencyDistributionSpec,
  latencySeries,
  logDomain,
  logTicks,
  machineInfo,
  meanStd,
  measureConsumerWake,
  measureHiccups,
  measureWake,
  measureWakeFloor,
  measureWakeFloorCorrected,
  micros,
  percentileTicks,
  percentileX,
  rate,
  renderCharts,
  renderMarkdown,
  renderSvg,
  renderText,
  runBench,
  summaryPoints,
  textTable,
  threadedScenarios,
  writeReport,
  type BenchOptions,
  type BenchReport,
} from '../src/index.js';
import { summary, syntheticReport } from './synthetic-report.js';

type ErrorClass = typeof BenchError | typeof BenchRangeError;

interface Ctx {
  /** A fresh directory of this row's own, empty but for `file`. */
  dir: string;
  /** A regular file in `dir`. */
  file: string;
  /** A valid report (a copy of a synthetic one), which the row must leave as it is. */
  report: BenchReport;
}

interface Row {
  name: string;
  call: (c: Ctx) => unknown;
  error: ErrorClass;
  code: string;
  /** The function starts threads or makes shared memory: check that no thread is left behind. */
  threads?: boolean;
}

const rows: Row[] = [];
const R = (name: string, call: Row['call'], error: ErrorClass, code: string, threads = false): void => {
  rows.push({ name, call, error, code, threads });
};

const REPORT = syntheticReport();
const log = childLogger({ component: 'bench-bad-input' }, 'error');
const valid = (): BenchOptions => ({
  groups: new Set(['batch'] as const),
  quick: true,
  timing: { windows: 2, windowMs: 25, warmupMs: 25 },
  logLevel: 'warn',
  log,
});
const withOption = (key: string, value: unknown): BenchOptions => ({ ...valid(), [key]: value });
const withTiming = (key: string, value: unknown): BenchOptions => ({
  ...valid(),
  timing: { ...valid().timing, [key]: value },
});

// ---- runBench: options refused before a thread, a git process or a measurement starts ----
for (const [label, options] of [
  ['null', null],
  ['undefined', undefined],
  ["the string 'quick'", 'quick'],
  ['42', 42],
  ['an array', []],
] as Array<[string, unknown]>) {
  R(`runBench(${label})`, () => runBench(options as BenchOptions), BenchError, 'ERR_BENCH_OPTIONS', true);
}
for (const [label, groups] of [
  ["{'nope'} (an unknown group)", new Set(['nope'])],
  ["{'batch', 'parallel '} (one with a trailing space)", new Set(['batch', 'parallel '])],
  ["{'Batch'} (group names are lower case)", new Set(['Batch'])],
  ['{} (nothing to run)', new Set()],
  ["['batch'] (an array, not a Set)", ['batch']],
  ["the string 'batch'", 'batch'],
  ['undefined', undefined],
  ['{1}', new Set([1])],
  ["a Map of 'batch'", new Map([['batch', 1]])],
] as Array<[string, unknown]>) {
  R(
    `runBench with groups ${label}`,
    () => runBench(withOption('groups', groups)),
    BenchError,
    'ERR_BENCH_SCENARIO',
    true,
  );
}
for (const [label, quick] of [
  ["'yes'", 'yes'],
  ['1', 1],
  ['undefined', undefined],
] as Array<[string, unknown]>) {
  R(`runBench with quick ${label}`, () => runBench(withOption('quick', quick)), BenchError, 'ERR_BENCH_OPTIONS', true);
}
R('runBench with timing null', () => runBench(withOption('timing', null)), BenchError, 'ERR_BENCH_OPTIONS', true);
R("runBench with timing 'quick'", () => runBench(withOption('timing', 'quick')), BenchError, 'ERR_BENCH_OPTIONS', true);
for (const [key, values] of [
  ['windows', [0, -1, 1.5, NaN, Infinity, 1001, '5', 5n, undefined, null]],
  ['windowMs', [0, 60_001, 0.5, Infinity, '25', 25n, undefined]],
  ['warmupMs', [-1, 60_001, 2.5, NaN, '25', undefined]],
] as Array<[string, unknown[]]>) {
  for (const v of values) {
    const label = typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? `'${v}'` : String(v);
    R(
      `runBench with timing.${key} ${label}`,
      () => runBench(withTiming(key, v)),
      BenchRangeError,
      'ERR_BENCH_OPTIONS',
      true,
    );
  }
}
for (const [label, level] of [
  ["'loud'", 'loud'],
  ['undefined', undefined],
  ['40', 40],
] as Array<[string, unknown]>) {
  R(
    `runBench with logLevel ${label}`,
    () => runBench(withOption('logLevel', level)),
    BenchError,
    'ERR_BENCH_OPTIONS',
    true,
  );
}
for (const [label, value] of [
  ['null', null],
  ['{} (no methods)', {}],
  ['{ info } only', { info: () => undefined }],
  ["the string 'stderr'", 'stderr'],
] as Array<[string, unknown]>) {
  R(`runBench with log ${label}`, () => runBench(withOption('log', value)), BenchError, 'ERR_BENCH_OPTIONS', true);
}
for (const [label, value] of [
  ['{} (not an AbortSignal)', {}],
  ['an EventTarget', new EventTarget()],
  ['an AbortController (not its signal)', new AbortController()],
] as Array<[string, unknown]>) {
  R(
    `runBench with signal ${label}`,
    () => runBench(withOption('signal', value)),
    BenchError,
    'ERR_BENCH_OPTIONS',
    true,
  );
}
R("runBench with onStep 'x'", () => runBench(withOption('onStep', 'x')), BenchError, 'ERR_BENCH_OPTIONS', true);
R('runBench with onStep {}', () => runBench(withOption('onStep', {})), BenchError, 'ERR_BENCH_OPTIONS', true);
R("runBench with cwd ''", () => runBench(withOption('cwd', '')), BenchError, 'ERR_BENCH_OPTIONS', true);
R('runBench with cwd 5', () => runBench(withOption('cwd', 5)), BenchError, 'ERR_BENCH_OPTIONS', true);
R(
  'runBench with cwd a directory that does not exist',
  (c) => runBench(withOption('cwd', path.join(c.dir, 'missing'))),
  BenchError,
  'ERR_BENCH_OPTIONS',
  true,
);
R('runBench with cwd a file', (c) => runBench(withOption('cwd', c.file)), BenchError, 'ERR_BENCH_OPTIONS', true);

// ---- the wake measurements: counts refused before the SharedArrayBuffer, the ring or a worker ----
const BAD_COUNTS: Array<[string, unknown]> = [
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['1_000_001 (above MAX_WAKE_SAMPLES)', 1_000_001],
  ["the string '10'", '10'],
  ['the BigInt 10n', 10n],
  ['null', null],
  ['undefined', undefined],
];
for (const [label, n] of BAD_COUNTS) {
  R(`measureWakeFloor(${label})`, () => measureWakeFloor(n as number), BenchRangeError, 'ERR_BENCH_COUNT', true);
  R(
    `measureWakeFloorCorrected(${label})`,
    () => measureWakeFloorCorrected(n as number),
    BenchRangeError,
    'ERR_BENCH_COUNT',
    true,
  );
  R(`measureConsumerWake(${label})`, () => measureConsumerWake(n as number), BenchRangeError, 'ERR_BENCH_COUNT', true);
  R(`measureWake(${label}, 1)`, () => measureWake(n as number, 1), BenchRangeError, 'ERR_BENCH_COUNT', true);
}
for (const [label, n] of [
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['1001 (above MAX_WAKE_ROUNDS)', 1001],
  ["the string '3'", '3'],
  ['the BigInt 3n', 3n],
  ['undefined', undefined],
] as Array<[string, unknown]>) {
  R(`measureWake(10, ${label})`, () => measureWake(10, n as number), BenchRangeError, 'ERR_BENCH_COUNT', true);
}

// ---- measureHiccups(durationMs, threads, intervalUs) ----
for (const [label, n] of [
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ["the string '10'", '10'],
  ['the BigInt 10n', 10n],
  ['null', null],
] as Array<[string, unknown]>) {
  R(`measureHiccups(${label})`, () => measureHiccups(n as number), BenchRangeError, 'ERR_BENCH_COUNT', true);
  R(`measureHiccups(10, ${label})`, () => measureHiccups(10, n as number), BenchRangeError, 'ERR_BENCH_COUNT', true);
  R(
    `measureHiccups(10, 1, ${label})`,
    () => measureHiccups(10, 1, n as number),
    BenchRangeError,
    'ERR_BENCH_COUNT',
    true,
  );
}
R(
  'measureHiccups(600001) (above MAX_HICCUP_MS)',
  () => measureHiccups(600_001),
  BenchRangeError,
  'ERR_BENCH_COUNT',
  true,
);
R(
  'measureHiccups(10, 65) (above MAX_HICCUP_THREADS)',
  () => measureHiccups(10, 65),
  BenchRangeError,
  'ERR_BENCH_COUNT',
  true,
);
R('measureHiccups(10, 1, 1000001)', () => measureHiccups(10, 1, 1_000_001), BenchRangeError, 'ERR_BENCH_COUNT', true);

// ---- defaultTiming, threadedScenarios, machineInfo ----
for (const [label, v] of [
  ["'yes'", 'yes'],
  ['1', 1],
  ['undefined', undefined],
  ['null', null],
] as Array<[string, unknown]>) {
  R(`defaultTiming(${label})`, () => defaultTiming(v as boolean), BenchError, 'ERR_BENCH_OPTIONS');
}
for (const [label, groups] of [
  ['null', null],
  ["['batch'] (an array)", ['batch']],
  ["{'nope'}", new Set(['nope'])],
  ["the string 'batch'", 'batch'],
] as Array<[string, unknown]>) {
  R(`threadedScenarios(${label})`, () => threadedScenarios(groups as Set<never>), BenchError, 'ERR_BENCH_SCENARIO');
}
for (const [label, cwd] of [
  ['5', 5],
  ["''", ''],
  ['null', null],
] as Array<[string, unknown]>) {
  R(`machineInfo(${label})`, () => machineInfo(cwd as string), BenchError, 'ERR_BENCH_ARGUMENT');
}

// ---- meanStd ----
for (const [label, v] of [
  ['null', null],
  ['undefined', undefined],
  ["the string '123'", '123'],
  ['an array-like { length: 2 }', { length: 2, 0: 1, 1: 2 }],
  ['a Set of numbers', new Set([1, 2])],
  ['a Float64Array', new Float64Array([1, 2])],
] as Array<[string, unknown]>) {
  R(`meanStd(${label})`, () => meanStd(v as number[]), BenchError, 'ERR_BENCH_ARGUMENT');
}
for (const [label, v] of [
  ["[1, '2']", [1, '2']],
  ['[1n]', [1n]],
  ['[null]', [null]],
  ['[4, undefined]', [4, undefined]],
  ['[1, {}]', [1, {}]],
] as Array<[string, unknown]>) {
  R(`meanStd(${label})`, () => meanStd(v as number[]), BenchRangeError, 'ERR_BENCH_ARGUMENT');
}

// ---- the formatters and the text table ----
const NOT_NUMBERS: Array<[string, unknown]> = [
  ["the string '5'", '5'],
  ['the BigInt 5n', 5n],
  ['null', null],
  ['undefined', undefined],
  ['an object', {}],
  ['a Number object', new Number(5)],
];
for (const [label, v] of NOT_NUMBERS) {
  R(`rate(${label})`, () => rate(v as number), BenchRangeError, 'ERR_BENCH_ARGUMENT');
  R(`bytes(${label})`, () => bytes(v as number), BenchRangeError, 'ERR_BENCH_ARGUMENT');
  R(`micros(${label})`, () => micros(v as number), BenchRangeError, 'ERR_BENCH_ARGUMENT');
  R(`clock(${label})`, () => clock(v as number), BenchRangeError, 'ERR_BENCH_ARGUMENT');
}
for (const [label, head, body] of [
  ['head null', null, []],
  ["head 'a'", 'a', []],
  ['head [1]', [1], []],
  ["head [['a']]", [['a']], []],
  ['rows null', ['a'], null],
  ["rows 'x'", ['a'], 'x'],
  ["rows [['a', 1]]", ['a', 'b'], [['a', 1]]],
  ["rows ['ab'] (a row that is a string)", ['a'], ['ab']],
  ['rows [[null]]', ['a'], [[null]]],
  ['rows [undefined]', ['a'], [undefined]],
] as Array<[string, unknown, unknown]>) {
  R(`textTable with ${label}`, () => textTable(head as string[], body as string[][]), BenchError, 'ERR_BENCH_ARGUMENT');
}

// ---- charts ----
for (const [label, spec] of [
  ['null', null],
  ["the string 'x'", 'x'],
  ['an array', []],
] as Array<[string, unknown]>) {
  R(`renderSvg(${label})`, () => renderSvg(spec as never), BenchError, 'ERR_BENCH_ARGUMENT');
  R(`chartSpec(${label})`, () => chartSpec(spec as object), BenchError, 'ERR_BENCH_ARGUMENT');
}
for (const [label, spec] of [
  ['{} (no mark, no layer)', {}],
  ["{ mark: 'nonsense' }", { mark: 'nonsense' }],
  ["a field of type 'bogus'", { mark: 'line', encoding: { x: { field: 'a', type: 'bogus' } } }],
] as Array<[string, unknown]>) {
  R(`renderSvg of ${label}`, () => renderSvg(spec as never), BenchError, 'ERR_BENCH_CHART_SPEC');
}
R('chartTitle(5)', () => chartTitle(5 as never), BenchError, 'ERR_BENCH_ARGUMENT');
R('chartTitle(null)', () => chartTitle(null as never), BenchError, 'ERR_BENCH_ARGUMENT');
R("chartTitle('t', 5)", () => chartTitle('t', 5 as never), BenchError, 'ERR_BENCH_ARGUMENT');
for (const [label, p] of [
  ['-0.1', -0.1],
  ['1.1', 1.1],
  ['NaN', NaN],
  ["'0.5'", '0.5'],
  ['Infinity', Infinity],
] as Array<[string, unknown]>) {
  R(`percentileX(${label})`, () => percentileX(p as number), BenchRangeError, 'ERR_BENCH_ARGUMENT');
}
for (const [label, x] of [
  ['1e9 (a billion ticks)', 1e9],
  ['17 (past what a double resolves)', 17],
  ['Infinity (ticks without end)', Infinity],
  ['-1', -1],
  ['NaN', NaN],
  ["'4'", '4'],
] as Array<[string, unknown]>) {
  R(`percentileTicks(${label})`, () => percentileTicks(x as number), BenchRangeError, 'ERR_BENCH_ARGUMENT');
}
for (const [label, min, max] of [
  ['(1, Infinity) (decades without end)', 1, Infinity],
  ['(-Infinity, 10)', -Infinity, 10],
  ['(NaN, 10)', NaN, 10],
  ["(1, '10')", 1, '10'],
  ['(1n, 10)', 1n, 10],
] as Array<[string, unknown, unknown]>) {
  R(`logTicks${label}`, () => logTicks(min as number, max as number), BenchRangeError, 'ERR_BENCH_ARGUMENT');
}
for (const [label, min, max] of [
  ['(0, 10)', 0, 10],
  ['(-1, 10)', -1, 10],
  ['(10, 1) (max below min)', 10, 1],
  ['(1, Infinity)', 1, Infinity],
  ['(NaN, 1)', NaN, 1],
  ["('1', 10)", '1', 10],
] as Array<[string, unknown, unknown]>) {
  R(`logDomain${label}`, () => logDomain(min as number, max as number), BenchRangeError, 'ERR_BENCH_ARGUMENT');
}
const S = summary(200, 10);
for (const [label, s, error] of [
  ['null', null, BenchError],
  ["the string 'p50'", 'p50', BenchError],
  ['{} (no count)', {}, BenchRangeError],
  ['a count of -1', { ...S, count: -1 }, BenchRangeError],
  ['a count of 1.5', { ...S, count: 1.5 }, BenchRangeError],
  ["a p50 of '5'", { ...S, p50Us: '5' }, BenchRangeError],
  ['no maxUs', { ...S, maxUs: undefined }, BenchRangeError],
] as Array<[string, unknown, ErrorClass]>) {
  R(`summaryPoints(${label})`, () => summaryPoints(s as never), error, 'ERR_BENCH_ARGUMENT');
  R(
    `latencyDistributionSpec with a series whose summary is ${label}`,
    () => latencyDistributionSpec({}, [{ label: 'a', summary: s as never }]),
    error,
    'ERR_BENCH_ARGUMENT',
  );
}
for (const [label, title, series] of [
  ['title null', null, []],
  ['series null', {}, null],
  ['series [null]', {}, [null]],
  ['a label 5', {}, [{ label: 5, summary: S }]],
  ["reference 'yes'", {}, [{ label: 'a', summary: S, reference: 'yes' }]],
] as Array<[string, unknown, unknown]>) {
  R(
    `latencyDistributionSpec with ${label}`,
    () => latencyDistributionSpec(title as object, series as never),
    BenchError,
    'ERR_BENCH_ARGUMENT',
  );
}
for (const [label, scenarios, wake] of [
  ['scenarios null', null, null],
  ["scenarios 'x'", 'x', null],
  ['scenarios [null]', [null], null],
  ['scenarios [{ name: 1 }]', [{ name: 1 }], null],
  ["wake 'x'", [], 'x'],
  ['a wake without its floor', [], { consumer: S }],
] as Array<[string, unknown, unknown]>) {
  R(
    `latencySeries with ${label}`,
    () => latencySeries(scenarios as never, wake as never),
    BenchError,
    'ERR_BENCH_ARGUMENT',
  );
}
for (const [label, scenarios, memcpy, cores, wake, error] of [
  ['scenarios null', null, [], 2, null, BenchError],
  ['memcpy null', [], null, 2, null, BenchError],
  ["a memcpy size of '16'", [], [{ size: '16', bytesPerSec: 1e9 }], 2, null, BenchRangeError],
  ['cores 0', [], [], 0, null, BenchRangeError],
  ['cores 2.5', [], [], 2.5, null, BenchRangeError],
  ["cores '2'", [], [], '2', null, BenchRangeError],
  ["wake 'x'", [], [], 2, 'x', BenchError],
] as Array<[string, unknown, unknown, unknown, unknown, ErrorClass]>) {
  R(
    `renderCharts with ${label}`,
    () => renderCharts(scenarios as never, memcpy as never, cores as number, wake as never),
    error,
    'ERR_BENCH_ARGUMENT',
  );
}

// ---- reports: renderText, renderMarkdown, writeReport ----
const NOT_REPORTS: Array<[string, (c: Ctx) => unknown]> = [
  ['null', () => null],
  ['{}', () => ({})],
  ["a report whose tool is 'ringbuf load'", (c) => ({ ...c.report, tool: 'ringbuf load' })],
  ['a report of schema 1', (c) => ({ ...c.report, schemaVersion: 1 })],
  ['a report without scenarios', (c) => ({ ...c.report, scenarios: undefined })],
  ['a report whose machine has no cores', (c) => ({ ...c.report, machine: { ...c.report.machine, cores: undefined } })],
  ['a report whose scenarios hold null', (c) => ({ ...c.report, scenarios: [null] })],
  ["a report whose wake is 'x'", (c) => ({ ...c.report, wake: 'x' })],
];
for (const [label, make] of NOT_REPORTS) {
  R(`renderText of ${label}`, (c) => renderText(make(c) as BenchReport), BenchError, 'ERR_BENCH_REPORT');
  R(`renderMarkdown of ${label}`, (c) => renderMarkdown(make(c) as BenchReport, []), BenchError, 'ERR_BENCH_REPORT');
  R(
    `writeReport of ${label}`,
    (c) => writeReport(make(c) as BenchReport, path.join(c.dir, 'out')),
    BenchError,
    'ERR_BENCH_REPORT',
  );
}
R('renderMarkdown with charts null', (c) => renderMarkdown(c.report, null as never), BenchError, 'ERR_BENCH_ARGUMENT');
R(
  "renderMarkdown with charts [{ file: 'a' }]",
  (c) => renderMarkdown(c.report, [{ file: 'a' }] as never),
  BenchError,
  'ERR_BENCH_ARGUMENT',
);
for (const [label, dir] of [
  ["''", () => ''],
  ["'   '", () => '   '],
  ['5', () => 5],
  ['null', () => null],
  ['undefined', () => undefined],
  ['a file', (c: Ctx) => c.file],
  ['a path under a file', (c: Ctx) => path.join(c.file, 'out')],
  ['a path two levels under a file', (c: Ctx) => path.join(c.file, 'a', 'b')],
  ['a path with a NUL byte', (c: Ctx) => path.join(c.dir, 'o\0ut')],
] as Array<[string, (c: Ctx) => unknown]>) {
  R(`writeReport into ${label}`, (c) => writeReport(c.report, dir(c) as string), BenchError, 'ERR_BENCH_OUT_DIR');
}

/** OS threads of this process (a Worker adds one as soon as it is constructed). */
function threads(): number {
  return readdirSync('/proc/self/task').length;
}

/** Every path under `dir`, sorted. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

const root = mkdtempSync(path.join(os.tmpdir(), 'ringbuf-bench-bad-input-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
// Serial: a thread started by one row must not be counted against another.
for (const row of rows) {
  test.serial(
    `${row.name} ${row.threads ? 'rejects with' : 'throws'} ${row.error.name} ${row.code} and changes nothing`,
    async (t) => {
      const dir = path.join(root, String(n++));
      mkdirSync(dir);
      const file = path.join(dir, 'a-file');
      writeFileSync(file, 'not a directory\n');
      const c: Ctx = { dir, file, report: structuredClone(REPORT) };
      const reportBefore = structuredClone(c.report);
      const filesBefore = listing(dir);
      const threadsBefore = threads();
      let result: unknown;
      let err: unknown;
      try {
        result = row.call(c);
        // The async exports refuse through the promise they return, never by throwing synchronously.
        if (row.threads) t.true(result instanceof Promise, 'an async export returns a promise');
        await result;
      } catch (e) {
        err = e;
      }
      t.true(err instanceof row.error, `threw ${String(err)}, not a ${row.error.name}`);
      t.is((err as { code?: string }).code, row.code);
      t.true((err as Error).message.length > 0);
      t.deepEqual(listing(dir), filesBefore, 'no file or directory was written');
      t.deepEqual(c.report, reportBefore, 'the report is unchanged');
      if (row.threads) {
        t.true(threads() <= threadsBefore, `threads: ${threadsBefore} before, ${threads()} after`);
        await new Promise((resolve) => setImmediate(resolve));
        t.is((process.report.getReport() as { workers: unknown[] }).workers.length, 0, 'no worker thread is running');
      }
    },
  );
}

test.serial('the checks are not tighter than the callers: the edge values work', async (t) => {
  t.deepEqual(meanStd([]), { mean: 0, stddev: 0 }, 'no windows (a scenario that failed before its first)');
  t.true(Number.isNaN(meanStd([1, NaN]).mean), 'NaN carries through');
  t.is(rate(NaN), 'n/a');
  t.is(bytes(Infinity), 'n/a');
  t.is(clock(-1), '?:??');
  t.is(textTable(['a', 'b'], [['x']]), 'a  b\n-  -\nx', 'a short row is padded');
  t.is(percentileTicks(16).length, 18);
  t.true(Number.isFinite(percentileX(1 - 1e-15)));
  t.is(percentileX(1), Infinity);
  t.deepEqual(logTicks(0, 10), [], 'a non-positive minimum has no ticks');
  t.deepEqual(logDomain(3, 3), [2, 5]);
  t.true(threadedScenarios(new Set()).length === 0 && threadedScenarios(new Set(['memcpy'] as const)).length === 0);
  t.deepEqual(defaultTiming(false), { windows: 5, windowMs: 200, warmupMs: 300 });
  const svg = await renderSvg(chartSpec({ mark: 'point', data: { values: [] } }));
  t.true(svg.startsWith('<svg'));
  t.is(renderText(REPORT).split('\n')[0]?.startsWith('ringbuf bench'), true);
  t.true(renderMarkdown(REPORT, []).startsWith('# ringbuf bench report'));
});
