/**
 * Target resolution on the calling thread, by pino.transport()'s rules (pino/lib/transport.js
 * transport() and its fixTarget(), which pino does not export): `pino/file` is pino's own file.js;
 * absolute paths and file:// URLs stay; any other name is resolved with require.resolve from the
 * caller's file (pino/lib/caller.js, reused); `targets` and `pipeline` run pino's own
 * lib/worker.js (multistream with levels, pipelines), with every target in them resolved the same
 * way. The consumer thread then loads the result exactly as thread-stream's worker does.
 */
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { RingBufError } from '@ringbuf/core';

const require = createRequire(import.meta.url);
const PINO_DIR = dirname(require.resolve('pino/package.json'));

/** pino's call-site reader (pino/lib/caller.js): the files on the stack, callers of the caller first. */
export const getCallers = require(join(PINO_DIR, 'lib', 'caller.js')) as () => Array<string | undefined> | undefined;

/** pino's symbols (pino.symbols). */
export const pinoSymbols = (require('pino') as { symbols: { transportUsesMultistreamSym: symbol } }).symbols;

/** One target as pino.transport() takes it. */
export interface TargetOptions {
  /** A module name, an absolute path, a file:// URL, or `pino/file`. */
  target: string;
  /** Its options (the argument of its default export). */
  options?: Record<string, unknown>;
  /** The lowest level it receives (with `targets`). */
  level?: string | number;
}

/** One entry of `targets`: a target, or a pipeline of them (a level may be given to the pipeline). */
export type TargetsEntry = TargetOptions | { pipeline: TargetOptions[]; level?: string | number };

/** The target options of pino.transport(). */
export interface PinoTransportOptions {
  /** One target. */
  target?: string;
  /** Several targets, each with its level (pino.multistream in the consumer thread). */
  targets?: TargetsEntry[];
  /** Targets chained: every one but the last a Transform stream. */
  pipeline?: TargetOptions[];
  /** The options of `target`. */
  options?: Record<string, unknown>;
  /** Custom levels, as pino.transport()'s `levels`. */
  levels?: Record<string, number>;
  /** With `targets`: each line only to the target of the highest level that takes it. */
  dedupe?: boolean;
  /** The files target names are resolved from (default: the caller's file, as pino does). */
  caller?: string | string[];
}

/** What the consumer thread loads: a module path and the argument of its default export. */
export interface ResolvedTargets {
  /** Absolute path or file:// URL of the module. */
  module: string;
  /** Its argument (thread-stream's `workerData.workerData`). */
  options: Record<string, unknown>;
  /** Whether pino should know several targets with levels are in use (it checks its level formatter). */
  usesMultistream: boolean;
}

/** Resolves pino.transport() options; `callers` come from getCallers() in the public entry point. */
export function resolveTargets(
  opts: PinoTransportOptions,
  callers: Array<string | undefined> | undefined,
): ResolvedTargets {
  const { pipeline, targets, levels, dedupe } = opts;
  const from = (typeof opts.caller === 'string' ? [opts.caller] : (opts.caller ?? callers ?? [])).filter(
    (f): f is string => typeof f === 'string',
  );
  const overrides = bundlerOverrides();
  const fix = (origin: string): string => fixTarget(origin, from, overrides);
  const options: Record<string, unknown> = { ...opts.options };
  let module = opts.target;
  let usesMultistream = false;
  if (module !== undefined && targets !== undefined) {
    throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'only one of target or targets can be specified');
  }
  if (targets !== undefined) {
    if (!Array.isArray(targets)) throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'targets must be an array');
    module = overrides['pino-worker'] ?? join(PINO_DIR, 'lib', 'worker.js');
    const single = targets.filter((t): t is TargetOptions => typeof (t as TargetOptions).target === 'string');
    const pipes = targets.filter((t): t is { pipeline: TargetOptions[]; level?: string | number } =>
      Array.isArray((t as { pipeline?: unknown }).pipeline),
    );
    options.targets = single.map((t) => ({ ...t, target: fix(t.target) }));
    options.pipelines = pipes.map((p) => p.pipeline.map((t) => ({ ...t, level: p.level, target: fix(t.target) })));
    const withLevel = single.some((t) => t.level != null) || pipes.some((p) => p.level != null);
    usesMultistream = single.length + pipes.length > 1 || withLevel;
  } else if (pipeline !== undefined) {
    if (!Array.isArray(pipeline)) throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'pipeline must be an array');
    module = overrides['pino-worker'] ?? join(PINO_DIR, 'lib', 'worker.js');
    options.pipelines = [pipeline.map((t) => ({ ...t, target: fix(t.target) }))];
  }
  if (typeof module !== 'string')
    throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'transport() needs a target, targets or pipeline');
  if (levels) options.levels = levels;
  if (dedupe) options.dedupe = dedupe;
  // As pino.transport(): pino-abstract-transport waits for PINO_CONFIG when a transport asks for it.
  options.pinoWillSendConfig = true;
  return { module: fix(module), options, usesMultistream };
}

/** pino's fixTarget(): the same rules in the same order. */
function fixTarget(origin: string, callers: string[], overrides: Record<string, string>): string {
  origin = overrides[origin] ?? origin;
  if (isAbsolute(origin) || origin.startsWith('file://')) return origin;
  if (origin === 'pino/file') return join(PINO_DIR, 'file.js');
  for (const file of callers) {
    try {
      return createRequire(file === 'node:repl' ? process.cwd() + sep : file).resolve(origin);
    } catch {
      continue;
    }
  }
  throw new RingBufError('ERR_RINGBUF_ARGUMENT', `unable to determine transport target for "${origin}"`);
}

/** Bundlers' path overrides (globalThis.__bundlerPathsOverrides), as pino reads them. */
function bundlerOverrides(): Record<string, string> {
  const g = globalThis as { __bundlerPathsOverrides?: unknown };
  return Object.prototype.hasOwnProperty.call(globalThis, '__bundlerPathsOverrides') &&
    g.__bundlerPathsOverrides &&
    typeof g.__bundlerPathsOverrides === 'object'
    ? (g.__bundlerPathsOverrides as Record<string, string>)
    : (Object.create(null) as Record<string, string>);
}
