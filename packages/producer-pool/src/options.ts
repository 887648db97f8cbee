/**
 * Scenario and pool options: the public shapes (all optional where a default exists), the filled
 * shapes the workers receive, and one validation pass with typed errors.
 */
import { INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';
import { LOG_LEVELS, defaultLogLevel } from '@ringbuf/instrument/log';
import { DEFAULT_LOCK_TIMEOUT_MS, MAX_PRODUCER_ID, RingBuffer, layout, type RingShare } from '@ringbuf/core';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PoolError, describe } from './errors.js';
import { isSeed } from './prng.js';

export { PoolError } from './errors.js';
export type { PoolErrorCode } from './errors.js';

/** The producer id of the main thread's recovery handles: never given to a producer. */
export const RECOVERY_PRODUCER_ID = MAX_PRODUCER_ID;
/**
 * How long one recovery attempt may block the pool's thread waiting for the ring's lock. Short on
 * purpose: the lock may be held by another producer that died too, whose death this thread can only
 * learn (and recover) once it returns to its event loop; recovery retries asynchronously instead.
 */
const RECOVERY_LOCK_TIMEOUT_MS = 10;

/** Payload size of each record: fixed, uniform in [min, max], or a weighted list (at most 1024 entries). */
export type PayloadSize =
  number | { min: number; max: number } | { weighted: ReadonlyArray<{ size: number; weight: number }> };

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
  /** @default SCENARIO_DEFAULTS.payload */
  payload?: PayloadSize;
  /**
   * `'reserve'`: reserve, write in place, submit (or discard). `'output'`: copy then bpf_ringbuf_output.
   * @default SCENARIO_DEFAULTS.api
   */
  api?: 'reserve' | 'output';
  /**
   * Fraction of reserved records discarded instead of submitted (reserve only).
   * @default SCENARIO_DEFAULTS.discardRatio
   */
  discardRatio?: number;
  /** @default SCENARIO_DEFAULTS.wakeup */
  wakeup?: WakeupPolicy;
  /**
   * Records per trigger (the kernel bench's `--rb-batch-cnt`); open-loop triggers carry this many.
   * @default SCENARIO_DEFAULTS.batch
   */
  batch?: number;
  /**
   * Open loop: records per second per producer, sent on a fixed schedule whose intended times are the
   * records' timestamps (no coordinated omission). Absent: closed loop, as fast as possible.
   */
  ratePerProducer?: number;
  /**
   * Write the shared instrumented record format (payload >= INSTRUMENTED_HEADER_BYTES); false for plain payloads.
   * @default SCENARIO_DEFAULTS.instrumented
   */
  instrumented?: boolean;
  /**
   * Closed loop: after a reservation fails, sleep this many microseconds before the next record
   * (on the stop word, so a stop still ends it at once). 0 retries at once, as the kernel bench's
   * BPF program does; a small backoff leaves the CPU to the consumer when producers outnumber cores.
   * @default SCENARIO_DEFAULTS.dropBackoffUs
   */
  dropBackoffUs?: number;
  /**
   * Causal scenario: a token handed round the producer slots through shared memory; slot i emits
   * only while it holds token t with (t - 1) % producers === i, events cycling fork/exec/exit.
   * @default SCENARIO_DEFAULTS.causal
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
  /** Passed to the producer module's `init` (structured-cloneable; only with `producerModule`). */
  producerOptions?: unknown;
}

/** Options of one run (`pool.run(options)`). */
export interface RunOptions {
  /** Stops the run: producers finish the record in hand, submit it and report. */
  signal?: AbortSignal;
}

/** Points at which the fault-injection hooks can make a producer die. */
export type DiePointName = 'between' | 'in-lock' | 'after-reserve' | 'after-submit' | 'anywhere';
/** How a producer dies. `'terminate'` is `worker.terminate()` from the main thread. */
export type DeathMethod = 'throw' | 'exit' | 'uncaught' | 'terminate';

/** Fault injection: kill a random live producer every `everyMs` and start a replacement with a new id. */
export interface FaultOptions {
  everyMs: number;
  /** @default FAULT_DEFAULTS.methods */
  methods?: readonly DeathMethod[];
  /**
   * `'anywhere'` means a `worker.terminate()` at whatever instruction the thread is at (only with
   * method 'terminate'); the others are hooks the producer checks once per record.
   * @default FAULT_DEFAULTS.points
   */
  points?: readonly DiePointName[];
  /** Stop injecting after this many kills (a non-negative integer, or Infinity). @default FAULT_DEFAULTS.maxKills */
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
  /**
   * Seed of every random choice (sizes, discards, kills): a 32-bit integer, -2^31 to 2^32 - 1.
   * @default Date.now() & 0x7fffffff
   */
  seed?: number;
  /** pino level for lifecycle logs. @default env RINGBUF_LOG_LEVEL, else 'warn' */
  logLevel?: string;
  /** Lock acquisition deadline of each producer's handle (rqspinlock-like). @default POOL_DEFAULTS.lockTimeoutMs */
  lockTimeoutMs?: number;
  /** First producer id; ids increase from it and are never reused. @default POOL_DEFAULTS.firstProducerId */
  firstProducerId?: number;
  /**
   * Relative tolerance (0 to 1) on the open-loop rate before it is reported as not met.
   * @default POOL_DEFAULTS.rateTolerance
   */
  rateTolerance?: number;
}

/** The default of each optional Scenario field with a constant default (used when the field is absent). */
export const SCENARIO_DEFAULTS = Object.freeze({
  /** Payload size in bytes. */
  payload: 64,
  /** Reserve, write in place, submit. */
  api: 'reserve',
  /** No record discarded. */
  discardRatio: 0,
  /** The kernel's self-pacing wakeup rule (flags 0). */
  wakeup: 'self',
  /** One record per trigger. */
  batch: 1,
  /** The shared instrumented record format. */
  instrumented: true,
  /** Retry at once after a failed reservation. */
  dropBackoffUs: 0,
  /** Not causal. */
  causal: false,
} as const satisfies Required<
  Pick<Scenario, 'payload' | 'api' | 'discardRatio' | 'wakeup' | 'batch' | 'instrumented' | 'dropBackoffUs' | 'causal'>
>);

/** Every death method, in the order faults.methods lists them by default. */
const ALL_METHODS: readonly DeathMethod[] = Object.freeze(['terminate', 'throw', 'exit', 'uncaught']);
/** Every die point, in the order faults.points lists them by default. */
const ALL_POINTS: readonly DiePointName[] = Object.freeze([
  'anywhere',
  'between',
  'in-lock',
  'after-reserve',
  'after-submit',
]);

/** The defaults of the optional FaultOptions fields (used when the field is absent). */
export const FAULT_DEFAULTS = Object.freeze({
  /** Every method: terminate, throw, exit, uncaught. */
  methods: ALL_METHODS,
  /** Every point: anywhere, between, in-lock, after-reserve, after-submit. */
  points: ALL_POINTS,
  /** No limit. */
  maxKills: Infinity,
} as const satisfies Required<Pick<FaultOptions, 'methods' | 'points' | 'maxKills'>>);

/**
 * The defaults of the optional ProducerPoolOptions fields with a constant default (used when the
 * field is absent). `seed` and `logLevel` have defaults computed at construction (see each).
 */
export const POOL_DEFAULTS = Object.freeze({
  /** Core's default lock deadline (DEFAULT_LOCK_TIMEOUT_MS of @ringbuf/core). */
  lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS,
  /** Producer ids start at 1. */
  firstProducerId: 1,
  /** 5 % below the target rate. */
  rateTolerance: 0.05,
} as const satisfies Required<Pick<ProducerPoolOptions, 'lockTimeoutMs' | 'firstProducerId' | 'rateTolerance'>>);

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

/**
 * Largest payload a scenario may ask for (16 MiB): fixed sizes, range ends and weighted sizes above it
 * are refused with ERR_POOL_SCENARIO. The CLI checks its `--size` against the same limit.
 */
export const MAX_PAYLOAD = 2 ** 24;
/** Entries of a weighted payload list (each record's size is picked by a scan of the list). */
const MAX_WEIGHTED_SIZES = 1024;

function scenarioError(message: string): PoolError {
  return new PoolError('ERR_POOL_SCENARIO', message);
}

function optionsError(message: string): PoolError {
  return new PoolError('ERR_POOL_OPTIONS', message);
}

/** An object that is neither null, an array nor a function: what an options bag must be. */
function isBag(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Refuses a key the bag's shape does not have (a typo would otherwise be ignored in silence). */
function checkKeys(
  bag: object,
  known: Readonly<Record<string, true>>,
  what: string,
  error: (message: string) => PoolError,
): void {
  for (const key of Object.keys(bag)) {
    if (!Object.hasOwn(known, key))
      throw error(`${what} has no option ${JSON.stringify(key)} (known: ${Object.keys(known).join(', ')})`);
  }
}

function isPosInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
}

function isPosFinite(n: unknown): n is number {
  return typeof n === 'number' && n > 0 && Number.isFinite(n);
}

function isNonNegFinite(n: unknown): n is number {
  return typeof n === 'number' && n >= 0 && Number.isFinite(n);
}

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_PAYLOAD;
}

const SCENARIO_KEYS = {
  records: true,
  durationMs: true,
  payload: true,
  api: true,
  discardRatio: true,
  wakeup: true,
  batch: true,
  ratePerProducer: true,
  instrumented: true,
  dropBackoffUs: true,
  causal: true,
  stages: true,
  producerModule: true,
  producerOptions: true,
} as const satisfies Record<keyof Scenario, true>;

interface FilledSize {
  sizeKind: FilledScenario['sizeKind'];
  sizeMin: number;
  sizeMax: number;
  meanSize: number;
  weightedSizes: number[];
  weightedCum: number[];
}

/** The `payload: { weighted: [{ size, weight }, ...] }` option: sizes and cumulative weights. */
function fillWeighted(payload: Record<string, unknown>): FilledSize {
  checkKeys(payload, { weighted: true }, 'payload { weighted }', scenarioError);
  const list: unknown = payload['weighted'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_WEIGHTED_SIZES) {
    throw scenarioError(
      `payload.weighted must be an array of 1 to ${MAX_WEIGHTED_SIZES} { size, weight }, ` +
        `got ${describe(list)}${Array.isArray(list) ? ` of ${list.length}` : ''}`,
    );
  }
  let total = 0;
  let sizeMin = Infinity;
  let sizeMax = -Infinity;
  for (const [i, entry] of (list as unknown[]).entries()) {
    if (!isBag(entry)) throw scenarioError(`payload.weighted[${i}] must be { size, weight }, got ${describe(entry)}`);
    checkKeys(entry, { size: true, weight: true }, `payload.weighted[${i}]`, scenarioError);
    const { size, weight } = entry;
    if (!isSize(size))
      throw scenarioError(
        `payload.weighted[${i}].size must be an integer from 0 to ${MAX_PAYLOAD}, got ${describe(size)}`,
      );
    if (!isPosFinite(weight))
      throw scenarioError(`payload.weighted[${i}].weight must be a positive finite number, got ${describe(weight)}`);
    total += weight;
    sizeMin = Math.min(sizeMin, size);
    sizeMax = Math.max(sizeMax, size);
  }
  if (!Number.isFinite(total)) throw scenarioError('payload.weighted: the weights add up to Infinity');
  const entries = list as ReadonlyArray<{ size: number; weight: number }>;
  const weightedSizes: number[] = [];
  const weightedCum: number[] = [];
  let acc = 0;
  let meanSize = 0;
  for (const entry of entries) {
    acc += entry.weight / total;
    meanSize += (entry.size * entry.weight) / total;
    weightedSizes.push(entry.size);
    weightedCum.push(acc);
  }
  weightedCum[weightedCum.length - 1] = 1;
  return { sizeKind: 'weighted', sizeMin, sizeMax, meanSize, weightedSizes, weightedCum };
}

/** The `payload` option: a size, { min, max } or { weighted: [{ size, weight }, ...] }. */
function fillPayload(payload: unknown): FilledSize {
  if (typeof payload === 'number') {
    if (!isSize(payload))
      throw scenarioError(`payload size must be an integer from 0 to ${MAX_PAYLOAD}, got ${describe(payload)}`);
    return {
      sizeKind: 'fixed',
      sizeMin: payload,
      sizeMax: payload,
      meanSize: payload,
      weightedSizes: [],
      weightedCum: [],
    };
  }
  if (!isBag(payload))
    throw scenarioError(`payload must be a number, { min, max } or { weighted: [...] }, got ${describe(payload)}`);
  if ('weighted' in payload) return fillWeighted(payload);
  checkKeys(payload, { min: true, max: true }, 'payload { min, max }', scenarioError);
  const { min, max } = payload;
  if (!isSize(min) || !isSize(max) || min > max) {
    throw scenarioError(
      `payload range must be integers 0 <= min <= max <= ${MAX_PAYLOAD}, got ${describe(min)}..${describe(max)}`,
    );
  }
  return {
    sizeKind: 'uniform',
    sizeMin: min,
    sizeMax: max,
    meanSize: (min + max) / 2,
    weightedSizes: [],
    weightedCum: [],
  };
}

/** The `wakeup` option. */
function fillWakeup(w: unknown): { wakeup: FilledScenario['wakeup']; sampledRecords: number } {
  if (w === 'self' || w === 'none' || w === 'force') return { wakeup: w, sampledRecords: 0 };
  if (isBag(w)) {
    checkKeys(w, { sampled: true }, 'wakeup { sampled }', scenarioError);
    if (isPosInt(w['sampled'])) return { wakeup: 'sampled', sampledRecords: w['sampled'] };
  }
  throw scenarioError(
    `wakeup must be 'self', 'none', 'force' or { sampled: N } with N a positive integer, ` +
      `got ${describe(isBag(w) ? w['sampled'] : w)}`,
  );
}

/** The `stages` option: its durations (µs), targets and total duration (ms). */
function fillStages(stages: unknown): { stageDurationsUs: number[]; stageTargets: number[]; stagesMs: number } {
  if (!Array.isArray(stages) || stages.length === 0)
    throw scenarioError(`stages must be a non-empty array of { durationMs, target }, got ${describe(stages)}`);
  const stageDurationsUs: number[] = [];
  const stageTargets: number[] = [];
  let stagesMs = 0;
  for (const [i, st] of (stages as unknown[]).entries()) {
    if (!isBag(st)) throw scenarioError(`stages[${i}] must be { durationMs, target }, got ${describe(st)}`);
    checkKeys(st, { durationMs: true, target: true }, `stages[${i}]`, scenarioError);
    const d = st['durationMs'];
    const t = st['target'];
    if (!isPosFinite(d))
      throw scenarioError(`stages[${i}].durationMs must be a positive finite number, got ${describe(d)}`);
    if (!isNonNegFinite(t))
      throw scenarioError(
        `stages[${i}].target must be a non-negative finite number of records per second, got ${describe(t)}`,
      );
    stageDurationsUs.push(d * 1000);
    stageTargets.push(t);
    stagesMs += d;
  }
  return { stageDurationsUs, stageTargets, stagesMs };
}

/** The `producerModule` option as a URL; a file that does not exist is refused here, not in every producer. */
function moduleUrl(spec: unknown): string {
  if (typeof spec !== 'string' || spec.length === 0)
    throw scenarioError(`producerModule must be a module URL or path, got ${describe(spec)}`);
  const url =
    /^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec) ? spec : pathToFileURL(resolve(spec)).href;
  if (url.startsWith('file:')) {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (err) {
      throw scenarioError(`producerModule ${JSON.stringify(spec)} is not a usable file URL: ${(err as Error).message}`);
    }
    if (!existsSync(path)) throw scenarioError(`producerModule ${JSON.stringify(spec)}: no such file ${path}`);
  }
  return url;
}

/** The run's length: `records` and `durationMs` (one of them, or `stages`, must be given). */
function fillRunLength(s: Scenario): { records: number | undefined; durationMs: number | undefined } {
  const { records, durationMs } = s;
  if (records === undefined && durationMs === undefined && s.stages === undefined)
    throw scenarioError('scenario needs records, durationMs or stages');
  if (records !== undefined && !isPosInt(records))
    throw scenarioError(`records must be a positive integer, got ${describe(records)}`);
  if (durationMs !== undefined && !isPosFinite(durationMs))
    throw scenarioError(`durationMs must be a positive finite number, got ${describe(durationMs)}`);
  return { records, durationMs };
}

/** The record format: `payload` (against the smallest ring) and `instrumented`. */
function fillFormat(s: Scenario, ringSizes: readonly number[]): FilledSize & { instrumented: boolean } {
  const size = fillPayload(s.payload === undefined ? SCENARIO_DEFAULTS.payload : s.payload);
  const smallestRing = Math.min(...ringSizes);
  if (size.sizeMax > smallestRing - 2 * layout.BPF_RINGBUF_HDR_SZ) {
    throw scenarioError(
      `payload size ${size.sizeMax} can never fit a ${smallestRing}-byte ring (max ${smallestRing - 16})`,
    );
  }
  const instrumented = s.instrumented === undefined ? SCENARIO_DEFAULTS.instrumented : s.instrumented;
  if (typeof instrumented !== 'boolean')
    throw scenarioError(`instrumented must be a boolean, got ${describe(instrumented)}`);
  if (instrumented && size.sizeMin < INSTRUMENTED_HEADER_BYTES) {
    throw scenarioError(
      `instrumented payloads need at least ${INSTRUMENTED_HEADER_BYTES} bytes, ` +
        `got payload size ${size.sizeMin}; set instrumented: false`,
    );
  }
  return { ...size, instrumented };
}

/** How each record is written: `api` and `discardRatio`. */
function fillApi(s: Scenario): { api: FilledScenario['api']; discardRatio: number } {
  const api: unknown = s.api === undefined ? SCENARIO_DEFAULTS.api : s.api;
  if (api !== 'reserve' && api !== 'output')
    throw scenarioError(`api must be 'reserve' or 'output', got ${describe(api)}`);
  const discardRatio = s.discardRatio === undefined ? SCENARIO_DEFAULTS.discardRatio : s.discardRatio;
  if (!(typeof discardRatio === 'number' && discardRatio >= 0 && discardRatio <= 1)) {
    throw scenarioError(`discardRatio must be a number from 0 to 1, got ${describe(discardRatio)}`);
  }
  if (api === 'output' && discardRatio > 0)
    throw scenarioError('bpf_ringbuf_output cannot discard: use api "reserve" with a discardRatio');
  return { api, discardRatio };
}

/** The pace of the records: `wakeup`, `batch`, `ratePerProducer` and `dropBackoffUs`. */
function fillPace(s: Scenario): {
  wakeup: FilledScenario['wakeup'];
  sampledRecords: number;
  batch: number;
  rate: number | undefined;
  dropBackoffUs: number;
} {
  const { wakeup, sampledRecords } = fillWakeup(s.wakeup === undefined ? SCENARIO_DEFAULTS.wakeup : s.wakeup);
  const batch = s.batch === undefined ? SCENARIO_DEFAULTS.batch : s.batch;
  if (!isPosInt(batch)) throw scenarioError(`batch must be a positive integer, got ${describe(batch)}`);
  const rate = s.ratePerProducer;
  if (rate !== undefined && !isPosFinite(rate))
    throw scenarioError(`ratePerProducer must be a positive finite number, got ${describe(rate)}`);
  const dropBackoffUs = s.dropBackoffUs === undefined ? SCENARIO_DEFAULTS.dropBackoffUs : s.dropBackoffUs;
  if (!isNonNegFinite(dropBackoffUs))
    throw scenarioError(`dropBackoffUs must be a non-negative number of microseconds, got ${describe(dropBackoffUs)}`);
  return { wakeup, sampledRecords, batch, rate, dropBackoffUs };
}

/** The `causal` option, and what a causal scenario cannot go with. */
function fillCausal(
  s: Scenario,
  f: { instrumented: boolean; discardRatio: number; batch: number; rate: number | undefined },
): boolean {
  const causal = s.causal === undefined ? SCENARIO_DEFAULTS.causal : s.causal;
  if (typeof causal !== 'boolean') throw scenarioError(`causal must be a boolean, got ${describe(causal)}`);
  if (causal) {
    if (!f.instrumented)
      throw scenarioError('causal scenarios carry the token in instrumented records: instrumented must be true');
    if (f.discardRatio > 0) throw scenarioError('causal events are never discarded: discardRatio must be 0');
    if (f.batch !== 1) throw scenarioError('a causal token carries one event: batch must be 1');
    if (f.rate !== undefined) throw scenarioError('causal scenarios are closed-loop: ratePerProducer is not allowed');
  }
  return causal;
}

/** The `stages` option, if given (none: empty lists). */
function fillStagesOption(
  s: Scenario,
  rate: number | undefined,
  causal: boolean,
): { stageDurationsUs: number[]; stageTargets: number[]; stagesMs: number } {
  if (s.stages === undefined) return { stageDurationsUs: [], stageTargets: [], stagesMs: 0 };
  if (rate !== undefined)
    throw scenarioError('stages set the open-loop rate: ratePerProducer is not allowed with them');
  if (causal) throw scenarioError('causal scenarios are closed-loop: stages are not allowed');
  return fillStages(s.stages);
}

/** The `producerModule` option as a URL (undefined: the pool's filler), and its `producerOptions`. */
function fillProducerModule(s: Scenario, instrumented: boolean, causal: boolean): string | undefined {
  let producerModule: string | undefined;
  if (s.producerModule !== undefined) {
    if (!instrumented)
      throw scenarioError('a producer module writes after the instrumented header: instrumented must be true');
    if (causal) throw scenarioError('causal scenarios write their own events: producerModule is not allowed');
    producerModule = moduleUrl(s.producerModule);
  }
  if (s.producerOptions !== undefined) {
    if (producerModule === undefined)
      throw scenarioError('producerOptions are passed to the producer module: they need producerModule');
    try {
      // The producers receive it by structured clone: a value that cannot be cloned is refused here.
      structuredClone(s.producerOptions);
    } catch (err) {
      throw scenarioError(`producerOptions must be structured-cloneable: ${(err as Error).message}`);
    }
  }
  return producerModule;
}

/**
 * Validates a scenario against the ring sizes it will run on. Only `undefined` means "absent, use
 * the default" (SCENARIO_DEFAULTS): `null` or a value of another type is refused, as is an unknown key.
 * @throws PoolError `ERR_POOL_SCENARIO` naming the first bad field.
 */
function fillScenario(s: Scenario, ringSizes: readonly number[]): FilledScenario {
  if (!isBag(s)) throw scenarioError(`scenario must be an object, got ${describe(s)}`);
  checkKeys(s, SCENARIO_KEYS, 'scenario', scenarioError);
  const { records, durationMs } = fillRunLength(s);
  const { instrumented, ...size } = fillFormat(s, ringSizes);
  const { api, discardRatio } = fillApi(s);
  const { wakeup, sampledRecords, batch, rate, dropBackoffUs } = fillPace(s);
  const causal = fillCausal(s, { instrumented, discardRatio, batch, rate });
  const { stageDurationsUs, stageTargets, stagesMs } = fillStagesOption(s, rate, causal);
  const producerModule = fillProducerModule(s, instrumented, causal);
  const stagedDurationMs = stagesMs > 0 ? Math.min(stagesMs, durationMs ?? Infinity) : durationMs;
  return {
    records: records ?? Infinity,
    durationMs: stagedDurationMs ?? Infinity,
    sizeKind: size.sizeKind,
    sizeMin: size.sizeMin,
    sizeMax: size.sizeMax,
    weightedSizes: size.weightedSizes,
    weightedCum: size.weightedCum,
    meanSize: size.meanSize,
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

const POOL_KEYS = {
  ring: true,
  producers: true,
  scenario: true,
  killEveryMs: true,
  faults: true,
  seed: true,
  logLevel: true,
  lockTimeoutMs: true,
  firstProducerId: true,
  rateTolerance: true,
} as const satisfies Record<keyof ProducerPoolOptions, true>;

const FAULT_KEYS = { everyMs: true, methods: true, points: true, maxKills: true } as const satisfies Record<
  keyof FaultOptions,
  true
>;

const RUN_KEYS = { signal: true } as const satisfies Record<keyof RunOptions, true>;

/** A non-empty list of names from `all` (faults.methods, faults.points). */
function nameList<T extends string>(list: unknown, all: readonly T[], what: string): T[] {
  const known = (m: unknown): boolean => (all as readonly unknown[]).includes(m);
  if (!Array.isArray(list) || list.length === 0 || !list.every(known)) {
    const bad: unknown = Array.isArray(list) ? (list as unknown[]).find((m) => !known(m)) : list;
    throw optionsError(
      `${what} must be a non-empty list of ${all.join(', ')}, ` +
        `got ${Array.isArray(list) && list.length === 0 ? 'an empty list' : describe(bad)}`,
    );
  }
  return [...(list as T[])];
}

/** The fault options (`killEveryMs` or `faults`). */
function fillFaults(o: ProducerPoolOptions, causal: boolean): Required<FaultOptions> | undefined {
  if (o.faults === undefined && o.killEveryMs === undefined) return undefined;
  if (o.faults !== undefined && o.killEveryMs !== undefined)
    throw optionsError('give killEveryMs (the shorthand) or faults, not both');
  let everyMs: unknown = o.killEveryMs;
  let f: Record<string, unknown> = {};
  if (o.faults !== undefined) {
    if (!isBag(o.faults))
      throw optionsError(
        `faults must be an object { everyMs, methods?, points?, maxKills? }, got ${describe(o.faults)}`,
      );
    checkKeys(o.faults, FAULT_KEYS, 'faults', optionsError);
    f = o.faults;
    everyMs = f['everyMs'];
  }
  const which = o.faults !== undefined ? 'faults.everyMs' : 'killEveryMs';
  if (!isPosFinite(everyMs))
    throw optionsError(`${which} must be a positive finite number of milliseconds, got ${describe(everyMs)}`);
  const methods =
    f['methods'] === undefined ? [...FAULT_DEFAULTS.methods] : nameList(f['methods'], ALL_METHODS, 'faults.methods');
  const points =
    f['points'] === undefined ? [...FAULT_DEFAULTS.points] : nameList(f['points'], ALL_POINTS, 'faults.points');
  if (points.length === 1 && points[0] === 'anywhere' && !methods.includes('terminate')) {
    throw optionsError("faults.points ['anywhere'] needs the 'terminate' method");
  }
  const maxKills = f['maxKills'] === undefined ? FAULT_DEFAULTS.maxKills : f['maxKills'];
  if (!(maxKills === Infinity || (typeof maxKills === 'number' && Number.isSafeInteger(maxKills) && maxKills >= 0))) {
    throw optionsError(`faults.maxKills must be a non-negative integer or Infinity, got ${describe(maxKills)}`);
  }
  if (causal) {
    throw optionsError(
      'causal scenarios cannot run with fault injection: a token held by a dead producer has no defined owner',
    );
  }
  return { everyMs, methods, points, maxKills };
}

/** The `ring` option: the shares, and the main thread's recovery handle on each. */
function fillRings(ring: unknown): { rings: RingShare[]; handles: RingBuffer[] } {
  if (ring === undefined)
    throw optionsError('ring is required: a RingShare (ring.share()) or a non-empty array of them');
  const rings = (Array.isArray(ring) ? [...(ring as unknown[])] : [ring]) as RingShare[];
  if (rings.length === 0)
    throw optionsError('ring must be a RingShare or a non-empty array of them, got an empty array');
  const handles = rings.map((share, i) => {
    try {
      // Attaching only reads the ring's control words.
      return RingBuffer.attach(share, { producerId: RECOVERY_PRODUCER_ID, lockTimeoutMs: RECOVERY_LOCK_TIMEOUT_MS });
    } catch (err) {
      throw optionsError(
        `ring[${i}] is not a usable RingShare (ring.share()): ${err instanceof Error ? err.message : describe(err)}`,
      );
    }
  });
  return { rings, handles };
}

/** The run-wide settings: `seed`, `logLevel`, `lockTimeoutMs`, `firstProducerId`, `rateTolerance`. */
function fillSettings(
  o: ProducerPoolOptions,
): Pick<FilledPoolOptions, 'seed' | 'logLevel' | 'lockTimeoutMs' | 'firstProducerId' | 'rateTolerance'> {
  const seed = o.seed === undefined ? Date.now() & 0x7fffffff : o.seed;
  if (!isSeed(seed)) throw optionsError(`seed must be an integer from -2^31 to 2^32 - 1, got ${describe(seed)}`);
  const logLevel = o.logLevel === undefined ? defaultLogLevel() : o.logLevel;
  if (!(LOG_LEVELS as readonly unknown[]).includes(logLevel))
    throw optionsError(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${describe(logLevel)}`);
  const lockTimeoutMs = o.lockTimeoutMs === undefined ? POOL_DEFAULTS.lockTimeoutMs : o.lockTimeoutMs;
  // As core's own check of lockTimeoutMs (Infinity: wait for ever).
  if (!(typeof lockTimeoutMs === 'number' && lockTimeoutMs >= 0))
    throw optionsError(`lockTimeoutMs must be a non-negative number, got ${describe(lockTimeoutMs)}`);
  const firstProducerId = o.firstProducerId === undefined ? POOL_DEFAULTS.firstProducerId : o.firstProducerId;
  if (!isPosInt(firstProducerId) || firstProducerId >= MAX_PRODUCER_ID - 1_000_000) {
    throw optionsError(
      `firstProducerId must be a positive integer below ${MAX_PRODUCER_ID - 1_000_000}, ` +
        `got ${describe(firstProducerId)}`,
    );
  }
  const rateTolerance = o.rateTolerance === undefined ? POOL_DEFAULTS.rateTolerance : o.rateTolerance;
  if (!(typeof rateTolerance === 'number' && rateTolerance >= 0 && rateTolerance <= 1)) {
    throw optionsError(`rateTolerance must be a number from 0 to 1, got ${describe(rateTolerance)}`);
  }
  return { seed: seed | 0, logLevel, lockTimeoutMs, firstProducerId, rateTolerance };
}

/**
 * Validates the pool options. Only `undefined` means "absent, use the default" (POOL_DEFAULTS):
 * `null` or a value of another type is refused, as is an unknown key. Nothing is written to any ring.
 * @throws PoolError `ERR_POOL_OPTIONS` or `ERR_POOL_SCENARIO`.
 */
export function fillPoolOptions(o: ProducerPoolOptions): FilledPoolOptions {
  if (!isBag(o)) throw optionsError(`ProducerPool needs an options object, got ${describe(o)}`);
  checkKeys(o, POOL_KEYS, 'ProducerPool options', optionsError);
  const { rings, handles } = fillRings(o.ring);
  const ringSizes = handles.map((h) => h.size);
  if (!isPosInt(o.producers) || o.producers > 1024)
    throw optionsError(`producers must be an integer from 1 to 1024, got ${describe(o.producers)}`);
  const scenario = fillScenario(o.scenario, ringSizes);
  const faults = fillFaults(o, scenario.causal);
  const { seed, logLevel, lockTimeoutMs, firstProducerId, rateTolerance } = fillSettings(o);
  return {
    rings,
    handles,
    producers: o.producers,
    scenario,
    faults,
    seed,
    logLevel,
    lockTimeoutMs,
    firstProducerId,
    rateTolerance,
  };
}

/**
 * Validates `pool.run(options)`'s argument (`undefined`, or an object whose only key is an
 * AbortSignal `signal`).
 * @throws PoolError `ERR_POOL_OPTIONS`.
 */
export function checkRunOptions(options: unknown): asserts options is RunOptions | undefined {
  if (options === undefined) return;
  if (options instanceof AbortSignal) throw optionsError('run() takes { signal }, not the AbortSignal itself');
  if (!isBag(options)) throw optionsError(`run() options must be an object { signal? }, got ${describe(options)}`);
  checkKeys(options, RUN_KEYS, 'run() options', optionsError);
  const signal = options['signal'];
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw optionsError(`run() options.signal must be an AbortSignal, got ${describe(signal)}`);
}
