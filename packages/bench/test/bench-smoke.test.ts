/**
 * CI smoke run of every scenario with tiny parameters: the JSON on stdout, report.json, report.md
 * and the SVG charts are produced and well formed. No timing assertions.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUPS, threadedScenarios } from '../src/bench/scenarios.js';
import type { BenchReport } from '../src/report/types.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 100_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number) ?? -1 : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
  });
}

test('a quick run of every scenario writes one JSON object, report.json, report.md and SVG charts', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ringbuf-bench-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const { code, stdout, stderr } = await runCli(['bench', '--quick', '--json', '--out', out]);
  t.is(code, 0, stderr);
  const report = JSON.parse(stdout) as BenchReport;
  t.is(stdout.trim().split('\n').length, 1, 'stdout holds exactly one JSON line');
  t.deepEqual(JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')), report);

  const expected = threadedScenarios(new Set(GROUPS)).map((s) => s.name);
  t.deepEqual(
    report.scenarios.map((s) => s.name),
    expected,
  );
  for (const s of report.scenarios) {
    t.is(s.error, undefined, `${s.name} ran`);
    for (const v of [s.hits.mean, s.hits.stddev, s.drops.mean, s.drops.stddev, s.bytesPerSec, s.gc.events, s.heapGrowthBytes]) {
      t.true(Number.isFinite(v), `${s.name}: finite numbers`);
    }
    t.true(s.hits.mean >= 0 && s.drops.mean >= 0, `${s.name}: rates are not negative`);
    t.is(s.windows.length, report.options.windows);
  }
  // On a loaded 2-core machine a 25 ms window may see nothing from one run; all of them cannot.
  t.true(report.scenarios.reduce((a, s) => a + s.windows.reduce((b, w) => b + w.hits, 0), 0) > 0, 'records were consumed');
  const latency = report.scenarios.find((s) => s.name === 'rb-latency')?.latency;
  t.truthy(latency, 'the latency run reports a distribution');
  t.true(latency!.p50Us <= latency!.p99Us && latency!.p99Us <= latency!.maxUs);

  t.deepEqual(
    report.memcpy.map((m) => m.size),
    [16, 64, 1024, 4096, 65536],
  );
  t.true(report.memcpy.every((m) => Number.isFinite(m.bytesPerSec) && m.bytesPerSec > 0));
  t.true(report.micro.length >= 5 && report.micro.every((m) => Number.isFinite(m.nsPerOp) && m.nsPerOp > 0));
  t.deepEqual(
    report.goals.map((g) => g.id),
    ['vs-ringbufjs', 'vs-postmessage', 'wakeup-b2b', 'wakeup-parallel', 'bandwidth-4k', 'zero-gc'],
  );
  t.true(report.goals.every((g) => g.value !== null && typeof g.met === 'boolean'));
  t.true(report.machine.cores >= 1 && report.machine.node === process.version && report.machine.cpuModel.length > 0);

  const md = readFileSync(path.join(out, 'report.md'), 'utf8');
  t.true(md.startsWith('# ringbuf bench report'));
  t.regex(md, /oversubscribed/);
  t.regex(md, /## Goals/);
  const svgs = report.files.filter((f) => f.endsWith('.svg'));
  t.deepEqual(svgs.sort(), ['latency.svg', 'peers.svg', 'record-sizes.svg', 'sample-rate.svg', 'throughput-vs-producers.svg']);
  for (const f of svgs) {
    const svg = readFileSync(path.join(out, f), 'utf8');
    t.true(svg.startsWith('<svg'), `${f} is an SVG`);
    t.true(svg.trimEnd().endsWith('</svg>'), `${f} is complete`);
    t.true(md.includes(`](${f})`), `report.md links ${f}`);
  }
});
