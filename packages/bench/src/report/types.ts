/** The report: exactly what `--json` prints and report.json holds. */
import type { MachineInfo } from '../machine.js';
import type { MemcpyResult, MicroResult, ScenarioResult } from '../scenarios/types.js';
import type { WakeResult } from '../harness/wake-floor.js';

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
  /** 2: adds `interrupted`, `notRun` and `wake`. */
  schemaVersion: 2;
  machine: MachineInfo;
  /** Ctrl-C stopped the run after the step in progress: the report holds the steps that ran. */
  interrupted: boolean;
  /** Steps (scenario names, 'memcpy', 'micro', 'wake') not run because of the interruption. */
  notRun: string[];
  options: { quick: boolean; windows: number; windowMs: number; warmupMs: number; groups: string[] };
  scenarios: ScenarioResult[];
  memcpy: MemcpyResult[];
  micro: MicroResult[];
  /** The latency group's raw wait/notify floor beside a sleeping consumer's wake; null when not run. */
  wake: WakeResult | null;
  ratios: Ratio[];
  goals: Goal[];
  notes: string[];
  /** Files written (paths relative to the output directory). */
  files: string[];
  outDir: string | null;
}
