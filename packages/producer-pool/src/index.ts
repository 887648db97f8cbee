export { ProducerPool } from './pool.js';
export type { ProducerReport, DeathReport, PoolTotals, PoolResult } from './accounting.js';
export type { InHandOutcome } from './incarnation.js';
export {
  PoolError,
  RECOVERY_PRODUCER_ID,
  SCENARIO_DEFAULTS,
  FAULT_DEFAULTS,
  POOL_DEFAULTS,
  MAX_PAYLOAD,
} from './options.js';
export { InjectedDeath, ProducerModuleError } from './errors.js';
export type {
  PoolErrorCode,
  PayloadSize,
  WakeupPolicy,
  Scenario,
  DiePointName,
  DeathMethod,
  FaultOptions,
  ProducerPoolOptions,
  RunOptions,
} from './options.js';
export { fillerByte, writeFiller, checkFiller } from './pattern.js';
export { Prng } from './prng.js';
export { SPIN_BEFORE_SEND_US } from './pacing.js';
