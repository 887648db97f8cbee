/** report.md: machine, goals, ratios, one table per scenario group, charts, notes. */
import type { ScenarioResult } from '../scenarios/types.js';
import { PACED_WARMUP_MS } from '../scenarios/descriptors.js';
import { fixed, gbps, mdTable } from './format.js';
import { KERNEL_HW, KERNEL_TABLE } from './published.js';
import { LATENCY_HEAD, SCENARIO_HEAD, goalResult, latencyRows, scenarioRows } from './table.js';
import type { BenchReport, Goal } from './types.js';
import type { Chart } from './charts.js';
import { BenchError, describe, isRecord, needArray } from '../errors.js';
import { checkReport } from './check.js';

const GROUP_TITLES: Record<string, string> = {
  parallel: 'Single producer, parallel (the kernel\'s "Single-producer, parallel producer")',
  b2b: 'Back-to-back (the consumer triggers each batch)',
  'sample-rate': 'Sampled wakeups: the sample-rate sweep',
  'reserve-vs-output': 'Reserve+submit against output (back-to-back)',
  batch: 'Batch count (back-to-back)',
  producers: 'Producer sweep (batch 50)',
  sizes: 'Record sizes against memcpy',
  peers: 'Peers in the same run (16-byte records, 1 producer)',
  latency: 'Latency',
};

/** Why a goal can be missed on this design and what would close it (the closing note). */
const MISSED_NOTES: Record<string, string> = {
  'vs-ringbufjs':
    'ringbuf.js is single-producer: a push is two loads and a store, and its consumer busy-polls a core. ' +
    "This row is the kernel's multi-producer path: per record the lock's compare-exchange and releasing " +
    "exchange, the producer_pos store, the commit's compare-exchange and a load of the wake word, and " +
    "the header's cache line written at reserve and at commit while the consumer reads it; on one thread " +
    "about 120 ns per reserve+copy+submit in a quiet period (128 before the pending walk's plain read). " +
    "The single-producer comparison is the vs-ringbufjs-exclusive row (claimExclusive: the lock's two " +
    'RMWs gone, output() copying under the kept lock: about 80 ns), and the amortised one the batch rows.',
  'vs-postmessage':
    'the same per-record costs as above bound ours; postMessage costs a structured clone and a MessagePort hop ' +
    'per message (about 1-3 µs here), so the ratio moves with how fast the machine runs postMessage in that run.',
  'vs-ringbufjs-exclusive':
    'with the lock kept by the one producer (claimExclusive) a record costs three atomic ' +
    'operations (the producer_pos store, the wake-word load, and none for the commit: output() ' +
    "copies under the kept lock and publishes the record finished) against ringbuf.js's two " +
    "loads and a store; what remains is the header's cache line, written by the producer while " +
    "the consumer reads it, and the consumer's per-record consumer_pos store (libbpf's walk).",
  'vs-postmessage-unbounded':
    'as vs-postmessage, against postMessage without flow control: its backlog grows in memory, ' +
    'which slows its consumer (the two postMessage rows of each round side by side show by how much).',
  'vs-postmessage-exclusive':
    'as vs-postmessage: the ratio moves with how fast postMessage runs in that run (1-3 µs per message here).',
  'batch-pass-vs-ringbufjs':
    "with consumer_pos stored once per pass (the kernel bench's rb-custom consumer) the consumer's " +
    'walk costs about 25 ns a record instead of 40-65 on one thread; what remains is the ' +
    "producer's 16-byte Uint8Array.set per record (20-40 ns a call; the batch-pass-words row " +
    'copies the payload as four word stores instead) and the cache lines the two threads share.',
  'batch-vs-ringbufjs':
    'one lock round and one producer_pos store per 64 records and one locked instruction to commit ' +
    "them leave the consumer as the limit: libbpf's walk publishes consumer_pos after every record " +
    "(40-65 ns a record for the walk alone on one thread, in this machine's slow and fast periods), " +
    "and the producer's 16-byte Uint8Array.set costs 20-40 ns per record (the batch-words row copies " +
    'it as four word stores); the batch-pass row publishes once per pass; on 2 shared vCPUs the two ' +
    'threads also compete with the main thread and other VMs, so the ratio swings between rounds.',
  'vs-ringbufjs-words':
    'the record copied in as four 32-bit word stores, not one Uint8Array.set call (20-40 ns a call on ' +
    "Node 20), leaves the kernel's multi-producer path itself: the lock's compare-exchange and releasing " +
    "exchange, the producer_pos store and the commit's compare-exchange, each a full barrier on x86-64 " +
    "that waits for the cache lines the consumer is reading, against ringbuf.js's one store (its " +
    'consumer busy-polls a core). The single-producer comparison is the vs-ringbufjs-exclusive row.',
  'vs-ringbufjs-output':
    "output() copies a short payload under the lock and publishes it finished, so a record costs the lock's " +
    'compare-exchange and releasing exchange and the producer_pos store (three full barriers on x86-64) against ' +
    "ringbuf.js's one store; the exclusive row, without the lock's two, is the single-producer comparison.",
  'batch-words-vs-ringbufjs':
    'with the payloads copied as word stores the producer costs about 25-35 ns a record on one thread (the ' +
    "64 headers written and walked, the commit loops, the fresh cache lines); libbpf's walk, which publishes " +
    'consumer_pos after every record, is then the limit (the batch-pass-words row publishes once per pass).',
  'batch-pass-words-vs-ringbufjs':
    'batching on both sides leaves the cache lines: every 64-byte line of headers and payloads ' +
    "moves from the producer's core to the consumer's, and on 2 shared vCPUs the two threads " +
    'also compete with the main thread and other VMs, so the ratio swings between rounds.',
  'wakeup-b2b':
    'in back-to-back mode the consumer is awake while the batch is produced, so FORCE_WAKEUP costs ' +
    'one load of the wake word; a shortfall means that load or the AVAIL_DATA query dominates.',
  'wakeup-parallel':
    'in parallel mode the consumer does sleep, and a FORCE_WAKEUP that finds it asleep ' +
    'pays a real Atomics.notify and a thread wakeup (~10 µs). Consumer.poll re-checks ' +
    'for about 4 µs before it sleeps; a shortfall means the producer outruns that window.',
  'bandwidth-4k':
    'each 4 KiB record costs the producer a Uint8Array.set into shared memory plus reserve and commit, and ' +
    'in back-to-back mode production and consumption do not overlap, so the consumer walk and the copy add up.',
  'latency-busy-p50':
    'a busy-polling consumer sees a commit within a cache-line transfer; a p50 above 10 µs ' +
    'means the consumer or the producer was descheduled for most samples (a loaded machine).',
  'latency-self-p50':
    'a sleeping consumer is woken by the commit that finds it caught up (the ' +
    'kernel rule), so its p50 is the wait/notify floor plus the walk; a higher ' +
    'p50 means the consumer slept through the grace re-checks at most records.',
  'latency-self-p99':
    "the tail is the machine's wakeups, not the ring's work: no GC in the windows, and the JIT's " +
    'start-up is out of them (the latency scenarios warm up for 1 s). This VM (KVM, no cpuidle ' +
    'haltpoll) wakes a sleeping thread in milliseconds once in a few thousand wakes, and a paced stream ' +
    'keeps sending, so every record behind such a wake waits too, while the closed-loop floor loses ' +
    'one sample; the CO-corrected floor shows it (the latency-self-p99-co row), and threads keeping ' +
    "the schedule with no ring (the 'machine, no ring' row) lose their own share of time to stalls.",
  'latency-self-p99-co':
    "the corrected floor is the raw one with HdrHistogram's correction for coordinated " +
    "omission at its own mean sample interval, so that the machine's stalls weigh as they " +
    "do in the paced runs; a p99 above 4 x that means the ring's own path adds to the tail.",
  'zero-gc':
    'the per-record paths, the clock (process.hrtime(), inlined; performance.now() boxes a double per call ' +
    'on Node 20) and the waits (whole-millisecond Atomics.wait timeouts; a computed double is boxed) ' +
    'allocate nothing, and each worker collects its start-up garbage before the windows; a scavenge left ' +
    'in a window comes from a thread that allocates at a low rate in that scenario, usually a latency run.',
};

function goalRows(goals: readonly Goal[], quick: boolean): string[][] {
  return goals.map((g) => [
    g.goal,
    fixed(g.value, g.id === 'zero-gc' ? 0 : 2),
    String(g.target),
    goalResult(g, quick, '**missed**'),
    g.detail,
  ]);
}

function chartFor(charts: readonly Chart[], file: string): string {
  const c = charts.find((x) => x.file === file);
  return c ? `\n![${c.title}](${c.file})\n` : '';
}

/**
 * report.md of a report and its charts.
 * @throws BenchError `ERR_BENCH_REPORT` when `r` is not a bench report; `ERR_BENCH_ARGUMENT` when
 *   `charts` is not an array of { file, title, svg } strings.
 */
export function renderMarkdown(r: BenchReport, charts: readonly Chart[]): string {
  checkReport(r);
  checkCharts(charts);
  const out: string[] = [];
  headerLines(r, out);
  summaryLines(r, out);
  const groups = [...new Set(r.scenarios.map((s) => s.group))];
  for (const g of groups) groupLines(r, g, charts, out);
  singleThreadLines(r, groups, out);
  closingLines(r, out);
  return out.join('\n');
}

/**
 * Checks the charts.
 * @throws BenchError `ERR_BENCH_ARGUMENT` when `charts` is not an array of { file, title, svg } strings.
 */
function checkCharts(charts: readonly Chart[]): void {
  for (const [i, c] of needArray('charts', charts).entries()) {
    if (
      !isRecord(c) ||
      typeof c['file'] !== 'string' ||
      typeof c['title'] !== 'string' ||
      typeof c['svg'] !== 'string'
    ) {
      throw new BenchError('ERR_BENCH_ARGUMENT', `charts[${i}] is ${describe(c)}, not a chart { file, title, svg }`);
    }
  }
}

/** The title, whether the run was interrupted, the machine and how to read the tables. */
function headerLines(r: BenchReport, out: string[]): void {
  const m = r.machine;
  out.push('# ringbuf bench report', '');
  if (r.interrupted) {
    out.push(
      `**Interrupted** (Ctrl-C): this report holds the steps that ran before it; not run: ${r.notRun.join(', ')}.`,
      '',
    );
  }
  out.push(
    mdTable(
      ['machine', ''],
      [
        ['CPU', m.cpuModel],
        ['cores', `${m.cores} (with the consumer thread, ${m.cores} or more producers oversubscribe them)`],
        ['memory', `${m.memoryGiB} GiB`],
        ['Node', `${m.node} (V8 ${m.v8})`],
        ['platform', m.platform],
        ['git revision', m.gitRev ?? 'n/a'],
        ['load average (1 min) at start', String(m.loadAvg1m)],
        ['date', m.date],
        [
          'measurement',
          `${r.options.windows} windows × ${r.options.windowMs} ms after ${r.options.warmupMs} ` +
            `ms warm-up (latency scenarios: ${Math.max(r.options.warmupMs, PACED_WARMUP_MS)} ` +
            `ms)${r.options.quick ? ' (--quick: numbers are not meaningful)' : ''}`,
        ],
      ],
    ),
    '',
  );
  out.push(
    "Hits are records delivered to the consumer's callback per second, drops are failed reservations " +
      '(full ring) per second; both are mean ± standard deviation over the windows, in M/s, as the ' +
      "kernel's `bench_ringbufs` reports them. GC counts are the GC events seen by the measuring " +
      "threads during the windows; wakeups are the consumer's sleeps ended by a producer notify over " +
      "the whole run (warm-up included); load is the machine's 1-minute load average when the run ended.",
    '',
  );
}

/** The goals and the ratios. */
function summaryLines(r: BenchReport, out: string[]): void {
  if (r.goals.length > 0)
    out.push(
      '## Goals',
      '',
      mdTable(['goal', 'value', 'target', 'result', 'numbers'], goalRows(r.goals, r.options.quick)),
      '',
    );
  const ratios = r.ratios.filter((x) => x.value !== null);
  if (ratios.length > 0)
    out.push(
      '## Ratios (same run)',
      '',
      mdTable(
        ['ours / other', 'ratio'],
        ratios.map((x) => [x.name, fixed(x.value)]),
      ),
      '',
    );
}

/** Group `g`'s section: its scenarios, the kernel's figures for shape, its extra table and chart. */
function groupLines(r: BenchReport, g: string, charts: readonly Chart[], out: string[]): void {
  const list: ScenarioResult[] = r.scenarios.filter((s) => s.group === g);
  out.push(`## ${GROUP_TITLES[g] ?? g}`, '');
  out.push(mdTable(SCENARIO_HEAD, scenarioRows(list)), '');
  const kernel = kernelNote(g);
  if (kernel !== null) out.push(kernel, '');
  if (g === 'sample-rate') {
    out.push(
      'The producer sets BPF_RB_FORCE_WAKEUP when `query(BPF_RB_AVAIL_DATA) >= rate × 24` ' +
        '(24 = the record footprint of a 16-byte payload; the kernel uses 16, its footprint of ' +
        'an 8-byte payload), else BPF_RB_NO_WAKEUP, as `ringbuf_bench.c` does. A FORCE_WAKEUP ' +
        'that finds the consumer awake costs one load; the kernel queues irq_work on every one.',
      chartFor(charts, 'sample-rate.svg'),
    );
  }
  if (g === 'producers') {
    out.push(
      `This machine has ${r.machine.cores} cores: with the consumer thread, ` +
        `${r.machine.cores} or more producers oversubscribe them, so the curve shows ` +
        `how throughput holds up when threads outnumber cores, not how it scales.`,
      chartFor(charts, 'throughput-vs-producers.svg'),
    );
  }
  if (g === 'sizes') {
    const rows = list
      .filter((s) => !s.error)
      .map((s) => {
        const mc = r.memcpy.find((x) => x.size === s.params.payload);
        return [
          String(s.params.payload),
          gbps(s.bytesPerSec),
          mc ? gbps(mc.bytesPerSec) : 'n/a',
          mc ? fixed(s.bytesPerSec / mc.bytesPerSec) : 'n/a',
        ];
      });
    out.push(mdTable(['payload B', 'ours GB/s', 'memcpy GB/s', 'ratio'], rows), chartFor(charts, 'record-sizes.svg'));
  }
  if (g === 'peers') out.push(chartFor(charts, 'peers.svg'));
  if (g === 'latency') {
    const rows = latencyRows(r);
    if (rows.length > 0) out.push(mdTable(LATENCY_HEAD, rows), chartFor(charts, 'latency.svg'));
  }
}

/** The kernel's published figures for group `g`, for shape only; null for a group without. */
function kernelNote(g: string): string | null {
  if (g === 'parallel')
    return (
      `For shape only, ${KERNEL_HW}, rb-libbpf: parallel ` +
      `${KERNEL_TABLE.parallel}, sampled ${KERNEL_TABLE.parallelSampled} M/s.`
    );
  if (g === 'b2b')
    return (
      `For shape only, ${KERNEL_HW}, rb-libbpf: back-to-back ` +
      `${KERNEL_TABLE.b2b}, sampled ${KERNEL_TABLE.b2bSampled} M/s.`
    );
  if (g === 'reserve-vs-output')
    return (
      `For shape only, ${KERNEL_HW}: reserve ${KERNEL_TABLE.reserveB2b} vs output ${KERNEL_TABLE.outputB2b} ` +
      `M/s; sampled ${KERNEL_TABLE.reserveB2bSampled} vs ${KERNEL_TABLE.outputB2bSampled} M/s.`
    );
  return null;
}

/** memcpy (when the sizes group did not show it) and the micro-operations. */
function singleThreadLines(r: BenchReport, groups: readonly string[], out: string[]): void {
  if (r.memcpy.length > 0 && !groups.includes('sizes')) {
    out.push(
      '## memcpy',
      '',
      mdTable(
        ['block B', 'GB/s'],
        r.memcpy.map((x) => [String(x.size), gbps(x.bytesPerSec)]),
      ),
      '',
    );
  }
  if (r.micro.length > 0) {
    out.push(
      '## Micro-operations (one thread, tinybench)',
      '',
      `Each tinybench iteration runs ${r.micro[0]?.opsPerTask ?? 'several'} operations; figures are per operation.`,
      '',
      mdTable(
        ['operation', 'ns/op', '± % (rme)'],
        r.micro.map((x) => [x.name, fixed(x.nsPerOp, 1), fixed(x.rmePercent, 1)]),
      ),
      '',
    );
  }
}

/** The notes, the goals missed and why, and how to reproduce. */
function closingLines(r: BenchReport, out: string[]): void {
  if (r.notes.length > 0) out.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  const missed = r.goals.filter((g) => g.value !== null && !g.met);
  out.push('## Closing note', '');
  if (r.options.quick)
    out.push('A quick run: its goals are not meaningful (windows too short, no warm-up to speak of).', '');
  else if (missed.length === 0) out.push('Every goal evaluated in this run was met.', '');
  else for (const g of missed) out.push(`- **${g.id} missed** (${g.detail}): ${MISSED_NOTES[g.id] ?? ''}`);
  out.push('');
  out.push('Reproduce: `npx -y pnpm@12.4.2 bench` or `node packages/cli/dist/src/cli.js bench` (after a build).', '');
}
