/**
 * The shape check of a bench report, for the functions that take one (writeReport, renderText,
 * renderMarkdown): what `runBench` returns and report.json holds. It checks what the renderers
 * read (the arrays, the machine's cores, the options), so that a wrong object is refused with a
 * code rather than failing halfway through a render or after some files were written.
 */
import { BenchError, describe, isRecord, needArray, needInteger, needNumber, needRecord } from '../errors.js';
import type { BenchReport } from './types.js';

const ARRAYS = ['notRun', 'scenarios', 'memcpy', 'micro', 'ratios', 'goals', 'notes', 'files'] as const;

/** A latency summary's fields: a count and the percentiles (µs), numbers all. */
export function checkSummary(what: string, s: unknown): void {
  const r = needRecord(what, s);
  needInteger(`${what}.count`, r['count'], 0, Number.MAX_SAFE_INTEGER);
  for (const key of ['minUs', 'p50Us', 'p90Us', 'p99Us', 'p999Us', 'maxUs'] as const)
    needNumber(`${what}.${key}`, r[key]);
}

/** Scenario results as the charts read them: name, group, params and hits (and a latency summary or null). */
export function checkScenarios(scenarios: unknown): void {
  for (const [i, s] of needArray('scenarios', scenarios).entries()) {
    if (
      !isRecord(s) ||
      typeof s['name'] !== 'string' ||
      typeof s['group'] !== 'string' ||
      !isRecord(s['params']) ||
      !isRecord(s['hits'])
    ) {
      throw new BenchError('ERR_BENCH_ARGUMENT', `scenarios[${i}] is ${describe(s)}, not a scenario result`);
    }
    if (s['latency'] !== null && s['latency'] !== undefined) checkSummary(`scenarios[${i}].latency`, s['latency']);
  }
}

/** A wake result (null when not run): both summaries. */
export function checkWake(wake: unknown): void {
  if (wake === null) return;
  const w = needRecord('wake (or null)', wake);
  checkSummary('wake.floor', w['floor']);
  checkSummary('wake.consumer', w['consumer']);
  if (w['floorCorrected'] !== undefined) checkSummary('wake.floorCorrected', w['floorCorrected']);
  if (w['machine'] !== undefined)
    checkSummary('wake.machine.lateness', needRecord('wake.machine', w['machine'])['lateness']);
}

/** `report` as a BenchReport, else a BenchError `ERR_BENCH_REPORT` naming the first thing wrong. */
export function checkReport(report: unknown): BenchReport {
  const bad = (what: string): never => {
    throw new BenchError('ERR_BENCH_REPORT', `not a bench report (runBench's result, schema 2): ${what}`);
  };
  if (!isRecord(report)) return bad(`got ${describe(report)}`);
  if (report['tool'] !== 'ringbuf bench') bad(`tool is ${describe(report['tool'])}, not 'ringbuf bench'`);
  if (report['schemaVersion'] !== 2) bad(`schemaVersion is ${describe(report['schemaVersion'])}, not 2`);
  for (const key of ARRAYS) if (!Array.isArray(report[key])) bad(`${key} is ${describe(report[key])}, not an array`);
  const machine = report['machine'];
  if (!isRecord(machine) || !Number.isInteger(machine['cores']) || (machine['cores'] as number) < 1)
    bad('machine.cores is not a positive integer');
  const options = report['options'];
  if (!isRecord(options) || typeof options['quick'] !== 'boolean') bad('options.quick is not a boolean');
  if (typeof report['interrupted'] !== 'boolean') bad('interrupted is not a boolean');
  if (report['wake'] !== null && !isRecord(report['wake'])) bad('wake is neither null nor an object');
  for (const s of report['scenarios'] as unknown[]) {
    if (!isRecord(s) || typeof s['name'] !== 'string' || !isRecord(s['params']) || !isRecord(s['hits']))
      bad(`a scenario is ${describe(s)}, not a scenario result`);
  }
  return report as unknown as BenchReport;
}
