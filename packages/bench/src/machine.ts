/**
 * The machine a run happened on, for every report: CPU model, cores, memory, Node/V8 versions and
 * the git revision of the working tree (absent when git or the repository is not there).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { BenchError, describe } from './errors.js';

export interface MachineInfo {
  cpuModel: string;
  /** Logical CPUs the process may use. */
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  v8: string;
  /** `git rev-parse --short HEAD`, plus `-dirty` when the tree has changes; null without git. */
  gitRev: string | null;
  /** 1-minute load average when the run started (other work on the machine skews the numbers). */
  loadAvg1m: number;
  /** ISO timestamp of the run. */
  date: string;
}

function cpuModel(): string {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const line = text.split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // Not Linux: fall through to os.cpus().
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function gitRev(cwd: string): string | null {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty.length > 0 ? `${rev}-dirty` : rev;
  } catch {
    return null;
  }
}

/**
 * Describes this machine; `cwd` is where the git revision is read (null when it is not a work tree).
 * Thread: main (spawns git).
 * @throws BenchError `ERR_BENCH_ARGUMENT` when `cwd` is not a non-empty string.
 */
export function machineInfo(cwd = process.cwd()): MachineInfo {
  if (typeof cwd !== 'string' || cwd === '')
    throw new BenchError('ERR_BENCH_ARGUMENT', `cwd must be a directory path, got ${describe(cwd)}`);
  return {
    cpuModel: cpuModel(),
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    gitRev: gitRev(cwd),
    loadAvg1m: Math.round(os.loadavg()[0]! * 100) / 100,
    date: new Date().toISOString(),
  };
}
