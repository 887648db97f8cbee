/**
 * Scenario and pool options: the public shapes (all optional where a default exists), the filled
 * shapes the workers receive, and one validation pass with typed errors.
 */
import { INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';
import { LOG_LEVELS, defaultLogLevel } from '@ringbuf/instrument/log';
import { MAX_PRODUCER_ID, RingBuffer, layout, type RingShare } from '@ringbuf/core';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The producer id of the main thread's recovery handles: never given to a producer. */
export const RECOVERY_PRODUCER_ID = MAX_PRODUCER_ID;
/**
 * How long one recovery attempt may block the pool's thread waiting for the ring's lock. Short on
 * purpose: the lock may be held by another producer that died too, whose death this thread can only
 * learn (and recover) once it returns to its event loop; recovery retries asynchronously instead.
 */
const RECOVERY_LOCK_TIMEOUT_MS = 10;

/** Error codes of the producer pool. */
export type PoolErrorCode =
  /** A pool option is missing or out of range (producers, rings, seed, faults...). */
  | 'ERR_POOL_OPTIONS'
  /** A scenario option is missing, out of range, or combined with one it cannot go with. */
  | 'ERR_POOL_SCENARIO'
  /** `run()` called while a run is in progress or after the pool was closed. */
  | 'ERR_POOL_STATE';

/** A refused pool call; nothing was started. */
export class PoolError extends Error {
  override readonly name: string = 'PoolError';
  constructor(
    readonly code: PoolErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Payload size of each record: fixed, uniform in [min, max], or a weighted list. */
export type PayloadSize = number | { min: number; max: number } | { weighted: ReadonlyArray<{ size: number; weight: number }> };

/**
 * How a producer asks for wakeups on commit:
 * - `'self'`: flags 0, the kernel's self-pacing rule (wake iff the consumer caught up to this record);
 * - `'none'`: always BPF_RB_NO_WAKEUP (the consumer must poll with a timeout);
 * - `'force'`: always BPF_RB_FORCE_WAKEUP;
 * - `{ sampled: N }`: the kernel bench's `--rb-sampled`: FORCE when AVAIL_DATA >= N records' worth,
 *   else NO_WAKEUP.
 */
export type WakeupPolicy = 'self' | 'none' | 'force' | { sampled: number };

/** What each producer does. Give `records` or `durationMs` (or both: whichever ends first). */
export interface Scenario {
  /** Records each producer slot attempts (replacements continue the count of the slot). */
  records?: number;
  /** How long each producer runs, in milliseconds. */
  durationMs?: number;
  /** @default 64 */
  payload?: PayloadSize;
  /** `'reserve'`: reserve, write in place, submit (or discard). `'output'`: copy then bpf_ringbuf_output. @default 'reserve' */
  api?: 'reserve' | 'output';
  /** Fraction of reserved records discarded instead of submitted (reserve only). @default 0 */
  discardRatio?: number;
  /** @default 'self' */
  wakeup?: WakeupPolicy;
  /** Records per trigger (the kernel bench's `--rb-batch-cnt`); open-loop triggers carry this many. @default 1 */
  batch?: number;
  /**
   * Open loop: records per second per producer, sent on a fixed schedule whose intended times are the
   * records' timestamps (no coordinated omission). Absent: closed loop, as fast as possible.
   */
  ratePerProducer?: number;
  /** Write the shared instrumented record format (payload >= INSTRUMENTED_HEADER_BYTES); false for plain payloads. @default true */
  instrumented?: boolean;
  /**
   * Closed loop: after a reservation fails, sleep this many microseconds before the next record
   * (on the stop word, so a stop still ends it at once). 0 retries at once, as the kernel bench's
   * BPF program does; a small backoff leaves the CPU to the consumer when producers outnumber cores.
   * @default 0
   */
  dropBackoffUs?: number;
  /**
   * Causal scenario: a token handed round the producer slots through shared memory; slot i emits
   * only while it holds token t with (t - 1) % producers === i, events cycling fork/exec/exit.
   * @default false
   */
  causal?: boolean;
  /**
   * A load profile like k6's stages: each stage runs `durationMs` and ramps the open-loop rate
   * (records per second per producer) linearly from the previous stage's target (0 before the
   * first) to its own `target`. Open loop, as `ratePerProducer` (which it replaces): every trigger's
   * intended time comes from the schedule, so latency carries no coordinated omission. The
   * scenario's duration is the stages' total (a `durationMs` given too may end it earlier).
   */
  stages?: ReadonlyArray<{ durationMs: number; target: number }>;
  /**
   * The user's producer module (a file URL, `URL` string, or absolute path): it exports
   * `write(payload: Uint8Array, seq: number, producerId: number): void`, called for each record
   * it is about to commit (not for discarded ones), in place on the bytes after the instrumented header (`payload` is
   * `size - INSTRUMENTED_HEADER_BYTES` bytes, valid only during the call), and optionally
   * `init(options, { producerId, slot })`, awaited once per producer before its first record. The
   * pool's filler is then not written (the bytes are the user's). Needs `instrumented` (the
   * ordering verifier and the latency stamps use the header).
   */
  producerModule?: string;
  /** Passed to the producer module's `init` (structured-cloneable). */
  producerOptions?: unknown;
}

/** Points at which the fault-injection hooks can make a producer die. */
export type DiePointName = 'between' | 'in-lock' | 'after-reserve' | 'after-submit' | 'anywhere';
/** How a producer dies. `'terminate'` is `worker.terminate()` from the main thread. */
export type DeathMethod = 'throw' | 'exit' | 'uncaught' | 'terminate';

/** Fault injection: kill a random live producer every `everyMs` and start a replacement with a new id. */
export interface FaultOptions {
  everyMs: number;
  /** @default ['terminate', 'throw', 'exit', 'uncaught'] */
  methods?: readonly DeathMethod[];
  /**
   * `'anywhere'` means a `worker.terminate()` at whatever instruction the thread is at (only with
   * method 'terminate'); the others are hooks the producer checks once per record.
   * @default ['anywhere', 'between', 'in-lock', 'after-reserve', 'after-submit']
   */
  points?: readonly DiePointName[];
  /** Stop injecting after this many kills. @default Infinity */
  maxKills?: number;
}

export interface ProducerPoolOptions {
  /** The ring(s); producer slot i writes to ring i % rings.length. */
  ring: RingShare | readonly RingShare[];
  /** Number of producer workers (may exceed the cores). */
  producers: number;
  scenario: Scenario;
  /** Shorthand for `faults: { everyMs }`. */
  killEveryMs?: number;
  faults?: FaultOptions;
  /** Seed of every random choice (sizes, discards, kills). @default Date.now() & 0x7fffffff */
  seed?: number;
  /** pino level for lifecycle logs. @default env RINGBUF_LOG_LEVEL, else 'warn' */
  logLevel?: string;
  /** Lock acquisition deadline of each producer's handle (rqspinlock-like). @default 250 */
  lockTimeoutMs?: number;
  /** First producer id; ids increase from it and are never reused. @default 1 */
  firstProducerId?: number;
  /** Relative tolerance on the open-loop rate before it is reported as not met. @default 0.05 */
  rateTolerance?: number;
}

/** The scenario as the workers receive it (structured-cloneable, every field filled). */
export interface FilledScenario {
  records: number;
  durationMs: number;
  sizeKind: 'fixed' | 'uniform' | 'weighted';
  sizeMin: number;
  sizeMax: number;
  weightedSizes: number[];
  /** Cumulative weights normalised to 1. */
  weightedCum: number[];
  /** Mean payload size (for the sampled wakeup threshold). */
  meanSize: number;
  api: 'reserve' | 'output';
  discardRatio: number;
  wakeup: 'self' | 'none' | 'force' | 'sampled';
  sampledRecords: number;
  batch: number;
  ratePerProducer: number;
  dropBackoffUs: number;
  instrumented: boolean;
  causal: boolean;
  /** Stages: microseconds of each stage (empty without stages). */
  stageDurationsUs: number[];
  /** Stages: target records per second per producer at the end of each stage. */
  stageTargets: number[];
  /** The producer module's URL (undefined: the pool's filler). */
  producerModule: string | undefined;
  producerOptions: unknown;
}

const MAX_PAYLOAD = 2 ** 24;

function scenarioError(message: string): PoolError {
  return new PoolError('ERR_POOL_SCENARIO', message);
}

function isPosInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
}

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_PAYLOAD;
}

/**
 * Validates a scenario against the ring sizes it will run on.
 * @throws PoolError `ERR_POOL_SCENARIO` naming the first bad field.
 */
export function fillScenario(s: Scenario, ringSizes: readonly number[]): FilledScenario {
  if (s === null || typeof s !== 'object') throw scenarioError('scenario must be an object');
  const { records, durationMs } = s;
  if (records === undefined && durationMs === undefined && s.stages === undefined) throw scenarioError('scenario needs records, durationMs or stages');
  if (records !== undefined && !isPosInt(records)) throw scenarioError(`records must be a positive integer, got ${String(records)}`);
  if (durationMs !== undefined && !(typeof durationMs === 'number' && durationMs > 0 && Number.isFinite(durationMs))) {
    throw scenarioError(`durationMs must be a positive finite number, got ${String(durationMs)}`);
  }
  const payload = s.payload ?? 64;
  let sizeKind: FilledScenario['sizeKind'];
  let sizeMin: number;
  let sizeMax: number;
  let meanSize: number;
  const weightedSizes: number[] = [];
  const weightedCum: number[] = [];
  if (typeof payload === 'number') {
    if (!isSize(payload)) throw scenarioError(`payload size must be an integer from 0 to ${MAX_PAYLOAD}, got ${payload}`);
    sizeKind = 'fixed';
    sizeMin = sizeMax = meanSize = payload;
  } else if (payload !== null && typeof payload === 'object' && 'weighted' in payload) {
    const list = payload.weighted;
    if (!Array.isArray(list) || list.length === 0) throw scenarioError('payload.weighted must be a non-empty array of { size, weight }');
    let total = 0;
    for (const entry of list as ReadonlyArray<{ size: number; weight: number }>) {
      if (!isSize(entry?.size)) throw scenarioError(`weighted payload size must be an integer from 0 to ${MAX_PAYLOAD}, got ${String(entry?.size)}`);
      if (!(typeof entry.weight === 'number' && entry.weight > 0 && Number.isFinite(entry.weight))) {
        throw scenarioError(`weighted payload weight must be a positive number, got ${String(entry.weight)}`);
      }
      total += entry.weight;
    }
    let acc = 0;
    meanSize = 0;
    for (const entry of list as ReadonlyArray<{ size: number; weight: number }>) {
      acc += entry.weight / total;
      meanSize += (entry.size * entry.weight) / total;
      weightedSizes.push(entry.size);
      weightedCum.push(acc);
    }
    weightedCum[weightedCum.length - 1] = 1;
    sizeKind = 'weighted';
    sizeMin = Math.min(...weightedSizes);
    sizeMax = Math.max(...weightedSizes);
  } else if (payload !== null && typeof payload === 'object' && 'min' in payload) {
    if (!isSize(payload.min) || !isSize(payload.max) || payload.min > payload.max) {
      throw scenarioError(`payload range must be integers 0 <= min <= max <= ${MAX_PAYLOAD}, got ${String(payload.min)}..${String(payload.max)}`);
    }
    sizeKind = 'uniform';
    sizeMin = payload.min;
    sizeMax = payload.max;
    meanSize = (sizeMin + sizeMax) / 2;
  } else {
    throw scenarioError('payload must be a number, { min, max } or { weighted: [...] }');
  }
  const smallestRing = Math.min(...ringSizes);
  if (sizeMax > smallestRing - 2 * layout.BPF_RINGBUF_HDR_SZ) {
    throw scenarioError(`payload size ${sizeMax} can never fit a ${smallestRing}-byte ring (max ${smallestRing - 16})`);
  }
  const instrumented = s.instrumented ?? true;
  if (typeof instrumented !== 'boolean') throw scenarioError('instrumented must be a boolean');
  if (instrumented && sizeMin < INSTRUMENTED_HEADER_BYTES) {
    throw scenarioError(`instrumented payloads need at least ${INSTRUMENTED_HEADER_BYTES} bytes, got ${sizeMin}; set instrumented: false`);
  }
  const api = s.api ?? 'reserve';
  if (api !== 'reserve' && api !== 'output') throw scenarioError(`api must be 'reserve' or 'output', got ${String(api)}`);
  const discardRatio = s.discardRatio ?? 0;
  if (!(typeof discardRatio === 'number' && discardRatio >= 0 && discardRatio <= 1)) {
    throw scenarioError(`discardRatio must be a number from 0 to 1, got ${String(discardRatio)}`);
  }
  if (api === 'output' && discardRatio > 0) throw scenarioError('bpf_ringbuf_output cannot discard: use api "reserve" with a discardRatio');
  const w = s.wakeup ?? 'self';
  let wakeup: FilledScenario['wakeup'];
  let sampledRecords = 0;
  if (w === 'self' || w === 'none' || w === 'force') {
    wakeup = w;
  } else if (w !== null && typeof w === 'object' && isPosInt(w.sampled)) {
    wakeup = 'sampled';
    sampledRecords = w.sampled;
  } else {
    throw scenarioError(`wakeup must be 'self', 'none', 'force' or { sampled: N } with N a positive integer, got ${JSON.stringify(w)}`);
  }
  const batch = s.batch ?? 1;
  if (!isPosInt(batch)) throw scenarioError(`batch must be a positive integer, got ${String(batch)}`);
  const rate = s.ratePerProducer;
  if (rate !== undefined && !(typeof rate === 'number' && rate > 0 && Number.isFinite(rate))) {
    throw scenarioError(`ratePerProducer must be a positive finite number, got ${String(rate)}`);
  }
  const dropBackoffUs = s.dropBackoffUs ?? 0;
  if (!(typeof dropBackoffUs === 'number' && dropBackoffUs >= 0 && Number.isFinite(dropBackoffUs))) {
    throw scenarioError(`dropBackoffUs must be a non-negative number of microseconds, got ${String(dropBackoffUs)}`);
  }
  const causal = s.causal ?? false;
  if (typeof causal !== 'boolean') throw scenarioError('causal must be a boolean');
  if (causal) {
    if (!instrumented) throw scenarioError('causal scenarios carry the token in instrumented records: instrumented must be true');
    if (discardRatio > 0) throw scenarioError('causal events are never discarded: discardRatio must be 0');
    if (batch !== 1) throw scenarioError('a causal token carries one event: batch must be 1');
    if (rate !== undefined) throw scenarioError('causal scenarios are closed-loop: ratePerProducer is not allowed');
  }
  const stageDurationsUs: number[] = [];
  const stageTargets: number[] = [];
  let stagesMs = 0;
  if (s.stages !== undefined) {
    if (!Array.isArray(s.stages) || s.stages.length === 0) throw scenarioError('stages must be a non-empty array of { durationMs, target }');
    if (rate !== undefined) throw scenarioError('stages set the open-loop rate: ratePerProducer is not allowed with them');
    if (causal) throw scenarioError('causal scenarios are closed-loop: stages are not allowed');
    for (const [i, st] of (s.stages as ReadonlyArray<{ durationMs: unknown; target: unknown }>).entries()) {
      const d = st?.durationMs;
      const t = st?.target;
      if (!(typeof d === 'number' && d > 0 && Number.isFinite(d))) throw scenarioError(`stages[${i}].durationMs must be a positive finite number, got ${String(d)}`);
      if (!(typeof t === 'number' && t >= 0 && Number.isFinite(t))) throw scenarioError(`stages[${i}].target must be a non-negative finite number of records per second, got ${String(t)}`);
      stageDurationsUs.push(d * 1000);
      stageTargets.push(t);
      stagesMs += d;
    }
  }
  let producerModule: string | undefined;
  if (s.producerModule !== undefined) {
    if (typeof s.producerModule !== 'string' || s.producerModule.length === 0) throw scenarioError('producerModule must be a module URL or path');
    if (!instrumented) throw scenarioError('a producer module writes after the instrumented header: instrumented must be true');
    if (causal) throw scenarioError('causal scenarios write their own events: producerModule is not allowed');
    producerModule = /^[a-z][a-z0-9+.-]*:/i.test(s.producerModule) && !/^[a-z]:[\\/]/i.test(s.producerModule)
      ? s.producerModule
      : pathToFileURL(resolve(s.producerModule)).href;
  }
  const stagedDurationMs = stagesMs > 0 ? Math.min(stagesMs, durationMs ?? Infinity) : durationMs;
  return {
    records: records ?? Infinity,
    durationMs: stagedDurationMs ?? Infinity,
    sizeKind,
    sizeMin,
    sizeMax,
    weightedSizes,
    weightedCum,
    meanSize,
    api,
    discardRatio,
    wakeup,
    sampledRecords,
    batch,
    ratePerProducer: rate ?? 0,
    dropBackoffUs,
    instrumented,
    causal,
    stageDurationsUs,
    stageTargets,
    producerModule,
    producerOptions: s.producerOptions,
  };
}

/** Validated pool options. */
export interface FilledPoolOptions {
  rings: RingShare[];
  /** The main thread's handles (id RECOVERY_PRODUCER_ID), used for recovery only. */
  handles: RingBuffer[];
  producers: number;
  scenario: FilledScenario;
  faults: Required<FaultOptions> | undefined;
  seed: number;
  logLevel: string;
  lockTimeoutMs: number;
  firstProducerId: number;
  rateTolerance: number;
}

const ALL_METHODS: readonly DeathMethod[] = ['terminate', 'throw', 'exit', 'uncaught'];
const ALL_POINTS: readonly DiePointName[] = ['anywhere', 'between', 'in-lock', 'after-reserve', 'after-submit'];

function optionsError(message: string): PoolError {
  return new PoolError('ERR_POOL_OPTIONS', message);
}

/**
 * Validates the pool options.
 * @throws PoolError `ERR_POOL_OPTIONS` or `ERR_POOL_SCENARIO`.
 */
export function fillPoolOptions(o: ProducerPoolOptions): FilledPoolOptions {
  if (o === null || typeof o !== 'object') throw optionsError('ProducerPool needs an options object');
  const rings = (Array.isArray(o.ring) ? [...o.ring] : [o.ring]) as RingShare[];
  if (rings.length === 0) throw optionsError('ring must be a RingShare or a non-empty array of them');
  const handles = rings.map((share, i) => {
    try {
      return RingBuffer.attach(share, { producerId: RECOVERY_PRODUCER_ID, lockTimeoutMs: RECOVERY_LOCK_TIMEOUT_MS });
    } catch (err) {
      throw optionsError(`ring[${i}] is not a usable RingShare (ring.share()): ${(err as Error).message}`);
    }
  });
  const ringSizes = handles.map((h) => h.size);
  if (!isPosInt(o.producers) || o.producers > 1024) throw optionsError(`producers must be an integer from 1 to 1024, got ${String(o.producers)}`);
  const scenario = fillScenario(o.scenario, ringSizes);
  let faults: Required<FaultOptions> | undefined;
  const everyMs = o.faults?.everyMs ?? o.killEveryMs;
  if (o.faults !== undefined || o.killEveryMs !== undefined) {
    if (!(typeof everyMs === 'number' && everyMs > 0 && Number.isFinite(everyMs))) {
      throw optionsError(`killEveryMs / faults.everyMs must be a positive number, got ${String(everyMs)}`);
    }
    const methods = [...(o.faults?.methods ?? ALL_METHODS)];
    const points = [...(o.faults?.points ?? ALL_POINTS)];
    if (methods.length === 0 || methods.some((m) => !ALL_METHODS.includes(m))) {
      throw optionsError(`faults.methods must be a non-empty list of ${ALL_METHODS.join(', ')}`);
    }
    if (points.length === 0 || points.some((p) => !ALL_POINTS.includes(p))) {
      throw optionsError(`faults.points must be a non-empty list of ${ALL_POINTS.join(', ')}`);
    }
    if (points.length === 1 && points[0] === 'anywhere' && !methods.includes('terminate')) {
      throw optionsError("faults.points ['anywhere'] needs the 'terminate' method");
    }
    const maxKills = o.faults?.maxKills ?? Infinity;
    if (!(typeof maxKills === 'number' && maxKills >= 0)) throw optionsError('faults.maxKills must be a non-negative number');
    if (scenario.causal) {
      throw optionsError('causal scenarios cannot run with fault injection: a token held by a dead producer has no defined owner');
    }
    faults = { everyMs: everyMs, methods, points, maxKills };
  }
  const seed = o.seed ?? Date.now() & 0x7fffffff;
  if (!Number.isSafeInteger(seed)) throw optionsError(`seed must be an integer, got ${String(seed)}`);
  const logLevel = o.logLevel ?? defaultLogLevel();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw optionsError(`logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  const lockTimeoutMs = o.lockTimeoutMs ?? 250;
  if (!(typeof lockTimeoutMs === 'number' && lockTimeoutMs >= 0)) throw optionsError('lockTimeoutMs must be a non-negative number');
  const firstProducerId = o.firstProducerId ?? 1;
  if (!isPosInt(firstProducerId) || firstProducerId >= MAX_PRODUCER_ID - 1_000_000) {
    throw optionsError(`firstProducerId must be a positive integer well below ${MAX_PRODUCER_ID}`);
  }
  const rateTolerance = o.rateTolerance ?? 0.05;
  if (!(typeof rateTolerance === 'number' && rateTolerance >= 0)) throw optionsError('rateTolerance must be a non-negative number');
  return { rings, handles, producers: o.producers, scenario, faults, seed: seed | 0, logLevel, lockTimeoutMs, firstProducerId, rateTolerance };
}
