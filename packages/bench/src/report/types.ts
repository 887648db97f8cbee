/** The report: exactly what `--json` prints and report.json holds. */
import type { MachineInfo } from '../machine.js';
import type { MemcpyResult, MicroResult, ScenarioResult } from '../bench/types.js';

export interface Ratio {
  name: string;
  ours: string;
  peer: string;
  value: number | null;
}

export interface Goal {
  id: string;
  goal: string;
  target: number;
  value: number | null;
  met: boolean;
  detail: string;
}

export interface BenchReport {
  tool: 'ringbuf bench';
  schemaVersion: 1;
  machine: MachineInfo;
  options: { quick: boolean; windows: number; windowMs: number; warmupMs: number; groups: string[] };
  scenarios: ScenarioResult[];
  memcpy: MemcpyResult[];
  micro: MicroResult[];
  ratios: Ratio[];
  goals: Goal[];
  notes: string[];
  /** Files written (paths relative to the output directory). */
  files: string[];
  outDir: string | null;
}
