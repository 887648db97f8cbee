/**
 * The pool's typed error. Its own module (it imports only @ringbuf/core, which producer threads load
 * anyway) so that the per-record helpers (pattern.ts, prng.ts) can throw it without pulling in the
 * options module. It extends core's {@link CodedError}, the base of every package's typed errors.
 */
import { CodedError } from '@ringbuf/core';

/** Error codes of the producer pool. */
export type PoolErrorCode =
  /** A pool option (or a `run()` option) is missing, of the wrong type or out of range. */
  | 'ERR_POOL_OPTIONS'
  /** A scenario option is missing, out of range, or combined with one it cannot go with. */
  | 'ERR_POOL_SCENARIO'
  /** `run()` called while a run is in progress or after the pool was closed. */
  | 'ERR_POOL_STATE'
  /**
   * An argument of a helper (`fillerByte`, `writeFiller`, `checkFiller`, `new Prng`) is of the
   * wrong type or out of range: for the filler, a range `[offset, offset + size)` not inside `data`.
   */
  | 'ERR_POOL_ARGUMENT'
  /**
   * The scenario's producer module could not be used: its import or `init()` failed, or it exports
   * no `write` function. `run()` rejects with it after stopping every producer.
   */
  | 'ERR_POOL_PRODUCER_MODULE';

/** A refused call of this package: nothing was started and no shared memory was written. */
export class PoolError extends CodedError<PoolErrorCode> {
  override readonly name: string = 'PoolError';
}

/**
 * `run()` ended because the scenario's producer module failed to load or initialise in a producer:
 * `module` is its URL, `reason` what failed (e.g. "init() threw Error: no config"). Nothing was
 * left reserved: the producer died before its first record.
 */
export class ProducerModuleError extends PoolError {
  override readonly name: string = 'ProducerModuleError';
  constructor(
    readonly module: string,
    readonly reason: string,
  ) {
    super('ERR_POOL_PRODUCER_MODULE', `producer module ${module}: ${reason}`);
  }
}

/**
 * The error a producer throws when a fault hook tells it to die by throwing (a test hook: not a
 * refused call, so not a PoolError).
 */
export class InjectedDeath extends CodedError<'ERR_POOL_INJECTED_DEATH'> {
  override readonly name: string = 'InjectedDeath';
  /** @param message which death, e.g. 'injected death (throw)' */
  constructor(message: string) {
    super('ERR_POOL_INJECTED_DEATH', message);
  }
}

/**
 * A bad value as an error message names it (never throws on a BigInt, a Symbol or an object without
 * a toString; tells 1n from 1 and '1' from 1): the one quoting every layer's typed errors share.
 */
export { describeValue as describe } from '@ringbuf/core';
