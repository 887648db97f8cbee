/**
 * `ringbuf load` with the user's code: the built CLI spawned with the example producer and handler
 * modules (examples/event-producer.mjs, examples/event-handler.mjs) and with test handlers that throw
 * or hang (test/fixtures); stages, thresholds and the --out timeline. Every run is bounded (a small
 * rate, a few seconds, a drain deadline) and prints its seed (t.log); replay with RINGBUF_TEST_SEED.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkRender } from '@ringbuf/bench/render-check';
import { TIMELINE_COLUMNS } from '../src/run/timeline.js';
import { parseOneJson, runCli, runSeeded, testSeed } from './cli-run.js';

const EXAMPLES = fileURLToPath(new URL('../../../../examples/', import.meta.url));
const PRODUCER = join(EXAMPLES, 'event-producer.mjs');
const HANDLER = join(EXAMPLES, 'event-handler.mjs');
const THROWING = fileURLToPath(new URL('./fixtures/throwing-handler.js', import.meta.url));
const HANGING = fileURLToPath(new URL('./fixtures/hanging-handler.js', import.meta.url));

interface EventCounts {
  events: number;
  byKind: Record<string, number>;
  bad: number;
  outOfOrder: number;
  producers: number;
}

interface LoadJson {
  records: { attempted: number; committed: number; dropped: number; consumed: number };
  lost: number;
  leftBehind: number;
  duplicates: number;
  orderViolations: number;
  latencyUs: { p50: number; p99: number; max: number };
  drain: { reason: string; leftBehind: number };
  handler: {
    module: string;
    errors: number;
    firstError: { name: string; message: string } | null;
    close: unknown;
    closeError: string | null;
  } | null;
  producer: { module: string; crashed: number } | null;
  latencySource: string;
  stages: Array<{
    durationSec: number;
    targetRate: number;
    fromRate: number;
    expectedRate: number;
    achievedRate: number | null;
  }>;
  thresholds: Array<{ expr: string; value: number; unit: string; ok: boolean }>;
  files: string[];
  failures: string[];
  killed: number;
  ok: boolean;
}

function parseOne(stdout: string): LoadJson {
  return parseOneJson(stdout) as LoadJson;
}

test.serial(
  "the example modules: the producer's bytes reach the handler intact and in order, " +
    'and its close() result is in the JSON',
  async (t) => {
    const { code, stdout, stderr } = await runSeeded(t, [
      'load',
      '--producer',
      PRODUCER,
      '--producer-options',
      '{"kinds":["open","read","close"]}',
      '--handler',
      HANDLER,
      '--size',
      '96-160',
      '--rate',
      '1000',
      '--duration',
      '1',
      '--quiet',
      '--json',
    ]);
    t.is(code, 0, stderr);
    const r = parseOne(stdout);
    t.true(r.ok, r.failures.join('; '));
    t.is(r.producer?.module, PRODUCER);
    t.is(r.handler?.module, HANDLER);
    t.is(r.handler?.errors, 0);
    const c = r.handler?.close as EventCounts;
    // Every delivered record parsed as the producer's JSON event, naming its own header's producer
    // and seq (intact), each producer's seqs one after the other (in order).
    t.is(c.events, r.records.consumed);
    t.true(c.events >= 1500, `about 2000 events at 2 x 1000/s for 1 s, got ${c.events}`);
    t.is(c.bad, 0);
    t.is(c.outOfOrder, 0);
    t.is(c.producers, 2);
    // --producer-options reached the producers' init: only the kinds given.
    t.deepEqual(Object.keys(c.byKind).sort(), ['close', 'open', 'read']);
    t.is(
      Object.values(c.byKind).reduce((a, b) => a + b, 0),
      c.events,
    );
    t.is(r.lost, 0);
    t.is(r.orderViolations, 0);
    t.is(r.latencySource, 'handler-return');
    t.true(r.latencyUs.p50 > 0 && r.latencyUs.p50 <= r.latencyUs.p99 && r.latencyUs.p99 <= r.latencyUs.max);
  },
);

test.serial('a handler that throws: errors counted, the first one named, exit 1 with the report', async (t) => {
  const { code, stdout, stderr } = await runSeeded(t, [
    'load',
    '--handler',
    THROWING,
    '--handler-options',
    '{"every":10}',
    '--rate',
    '500',
    '--duration',
    '1',
    '--quiet',
    '--json',
  ]);
  t.is(code, 1, stderr);
  const r = parseOne(stdout);
  t.false(r.ok);
  // Every record was still delivered (the run went on); every 10th threw.
  t.is(r.records.consumed, r.records.committed);
  t.is(r.handler?.errors, Math.floor(r.records.consumed / 10));
  t.is(r.handler?.firstError?.name, 'TypeError');
  t.is(r.handler?.firstError?.message, 'bad record 10');
  t.deepEqual(r.handler?.close, { seen: r.records.consumed });
  t.is(r.lost, 0);
  t.true(
    r.failures.some((f) =>
      /^the handler threw \d+ times \(first: TypeError: bad record 10, on the record at position \d+ of ring 0\)$/.test(
        f,
      ),
    ),
    r.failures.join('; '),
  );
});

test.serial(
  'a handler that never returns: the run ends within its drain deadline, ' +
    'the consumer terminated, what was left counted, exit 1',
  async (t) => {
    const started = Date.now();
    const { code, stdout, stderr } = await runSeeded(
      t,
      [
        'load',
        // One producer: each record reaches the consumer in a pass of its own. The runtime publishes its
        // counters once per pass, so a pass cut by the blocking record holding two records (two
        // producers in step) would report one delivered record fewer than were delivered.
        '--producers',
        '1',
        '--handler',
        HANGING,
        '--handler-options',
        '{"after":100}',
        '--rate',
        '500',
        '--duration',
        '1',
        '--drain-timeout',
        '0.5',
      ],
      30_000,
    );
    const tookMs = Date.now() - started;
    t.is(code, 1, stderr);
    t.true(tookMs < 15_000, `bounded: took ${tookMs} ms`);
    t.regex(stdout, /^drain\s+terminated, \d+ left behind$/m);
    t.regex(stdout, /^handler close\(\)\s+\(not reached\)$/m);
    t.regex(stdout, /^ {2}- the consumer did not stop within the drain deadline and was terminated/m);
    t.regex(stdout, /^ {2}- \d+ committed records were left in the ring undelivered/m);
    const consumed = Number(/^consumed\s+(\d+)$/m.exec(stdout)?.[1]);
    const committed = Number(/^committed\s+(\d+)$/m.exec(stdout)?.[1]);
    const left = Number(/^left behind \(not drained\)\s+(\d+)$/m.exec(stdout)?.[1]);
    // The 100th record never returned: 99 delivered, the rest counted in the ring, none lost.
    t.is(consumed, 99);
    t.is(consumed + left, committed);
    t.regex(stdout, /^lost\s+0$/m);
  },
);

test.serial('stages ramp: each stage achieves its scheduled rate within 10 % on a light load', async (t) => {
  const { code, stdout, stderr } = await runSeeded(t, [
    'load',
    '--producers',
    '2',
    '--stages',
    '1s:200,1s:200,1s:2000,1s:2000,1s:500',
    '--quiet',
    '--json',
  ]);
  t.is(code, 0, stderr);
  const r = parseOne(stdout);
  t.deepEqual(
    r.stages.map((s) => [s.durationSec, s.fromRate, s.targetRate, s.expectedRate]),
    [
      [1, 0, 200, 100],
      [1, 200, 200, 200],
      [1, 200, 2000, 1100],
      [1, 2000, 2000, 2000],
      [1, 2000, 500, 1250],
    ],
  );
  for (const [i, s] of r.stages.entries()) {
    t.log(`stage ${i + 1}: expected ${s.expectedRate}/s, achieved ${s.achievedRate?.toFixed(1)}/s`);
    t.not(s.achievedRate, null);
    t.true(
      Math.abs((s.achievedRate ?? 0) - s.expectedRate) <= 0.1 * s.expectedRate,
      `stage ${i + 1}: achieved ${s.achievedRate} against ${s.expectedRate}`,
    );
  }
  // The whole profile: 2 producers x (100 + 200 + 1100 + 2000 + 1250) records, within 10 %.
  t.true(Math.abs(r.records.attempted - 2 * 4650) <= 0.1 * 2 * 4650, String(r.records.attempted));
  t.is(r.lost, 0);
});

test.serial('a failing threshold exits 1 and names itself; the passing ones pass', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const args = [
    'load',
    '--rate',
    '1000',
    '--duration',
    '0.5',
    '--threshold',
    'p99<1us',
    '--threshold',
    'lost==0',
    '--threshold',
    'drops<1%',
    '--seed',
    String(seed),
    '--quiet',
  ];
  const table = await runCli(args);
  t.is(table.code, 1, table.stderr);
  t.regex(table.stdout, /^ {2}FAIL {2}p99<1us {2}\(value \S+ (µs|ms)\)$/m);
  t.regex(table.stdout, /^ {2}pass {2}lost==0 {2}\(value 0\)$/m);
  t.regex(table.stdout, /^ {2}pass {2}drops<1% {2}\(value 0\.000 %\)$/m);
  t.regex(table.stdout, /^ {2}- threshold 'p99<1us' failed: the value is /m);
  const json = await runCli([...args, '--json']);
  t.is(json.code, 1, json.stderr);
  const r = parseOne(json.stdout);
  t.deepEqual(
    r.thresholds.map((x) => [x.expr, x.unit, x.ok]),
    [
      ['p99<1us', 'us', false],
      ['lost==0', 'count', true],
      ['drops<1%', '%', true],
    ],
  );
  t.true((r.thresholds[0]?.value ?? 0) >= 1);
  t.deepEqual(r.failures.filter((f) => f.startsWith('threshold')).length, 1);
});

test.serial(
  '--out writes the timeline (csv, json), report.json and an SVG that renders two panels with marks',
  async (t) => {
    const seed = testSeed();
    t.log(`seed ${seed}`);
    const dir = mkdtempSync(join(tmpdir(), 'ringbuf-load-out-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const { code, stdout, stderr } = await runCli([
      'load',
      '--stages',
      '1s:1000,1s:3000,1s:3000',
      '--kill-producer-every',
      '800',
      '--out',
      dir,
      '--seed',
      String(seed),
      '--quiet',
      '--json',
    ]);
    t.is(code, 0, stderr);
    const r = parseOne(stdout);
    t.deepEqual(
      r.files,
      ['timeline.csv', 'timeline.json', 'timeline.svg', 'report.json'].map((f) => join(dir, f)),
    );
    const csv = readFileSync(join(dir, 'timeline.csv'), 'utf8').trim().split('\n');
    t.is(csv[0], TIMELINE_COLUMNS.join(','));
    const rows = JSON.parse(readFileSync(join(dir, 'timeline.json'), 'utf8')) as Array<Record<string, number | null>>;
    t.true(rows.length >= 3 && rows.length <= 5, `about one row a second over 3 s, got ${rows.length}`);
    t.is(csv.length, rows.length + 1);
    // The rows add up: records/s times each interval is about what was consumed.
    let prev = 0;
    let consumed = 0;
    for (const row of rows) {
      consumed += (row['recordsPerSec'] ?? 0) * ((row['tSec'] ?? 0) - prev);
      prev = row['tSec'] ?? 0;
    }
    t.true(
      Math.abs(consumed - r.records.consumed) <= 0.02 * r.records.consumed + 5,
      `${consumed} vs ${r.records.consumed}`,
    );
    t.is(
      rows.reduce((s, row) => s + (row['kills'] ?? 0), 0),
      r.killed,
    );
    t.true(r.killed >= 1);
    t.true(rows.some((row) => (row['p99Us'] ?? 0) > 0));
    t.deepEqual(rows.map((row) => row['stage']).slice(0, 3), [0, 1, 2]);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as LoadJson;
    t.is(report.records.consumed, r.records.consumed);
    const svg = readFileSync(join(dir, 'timeline.svg'), 'utf8');
    const render = await checkRender(svg);
    t.is(render.areas.length, 2, 'throughput and p99 panels');
    for (const area of render.areas) t.true(area.colored > 200, `a panel with coloured marks: ${JSON.stringify(area)}`);
    // The stage boundaries (dashed green rules) and the kills (red triangles), in both panels.
    t.true((svg.match(/class="mark-rule role-mark/g) ?? []).length >= 2, 'stage boundary rules in both panels');
    t.true((svg.match(/fill="#e45756"/g) ?? []).length >= 2, 'kill marks in both panels');
    t.regex(svg, /records\/s \(consumed\)/);
    t.regex(svg, /p99 latency/);
  },
);
