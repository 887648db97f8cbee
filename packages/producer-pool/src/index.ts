export { ProducerPool } from './pool.js';
export type { ProducerReport, DeathReport, PoolTotals, PoolResult, RunOptions } from './pool.js';
export { PoolError, RECOVERY_PRODUCER_ID } from './options.js';
export type {
  PoolErrorCode,
  PayloadSize,
  WakeupPolicy,
  Scenario,
  DiePointName,
  DeathMethod,
  FaultOptions,
  ProducerPoolOptions,
} from './options.js';
export { SequenceVerifier } from './verify.js';
export type { VerifyProblem, VerifySummary } from './verify.js';
export { fillerByte, writeFiller, checkFiller } from './pattern.js';
export { Prng } from './prng.js';
export { InjectedDeath } from './producer-task.js';
export { startDrain } from './drain.js';
export type { DrainHandle, DrainOptions, DrainReport } from './drain.js';
export { checkDeliveries } from './verify.js';
