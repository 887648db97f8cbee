export { ProducerPool } from './pool.js';
export type { RunOptions } from './pool.js';
export type { ProducerReport, DeathReport, PoolTotals, PoolResult } from './accounting.js';
export type { InHandOutcome } from './incarnation.js';
export { PoolError, RECOVERY_PRODUCER_ID } from './options.js';
export { ProducerModuleError } from './errors.js';
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
export { fillerByte, writeFiller, checkFiller } from './pattern.js';
export { Prng } from './prng.js';
export { InjectedDeath, SPIN_BEFORE_SEND_US } from './producer-task.js';
