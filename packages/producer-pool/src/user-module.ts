/**
 * The user's producer module (Scenario.producerModule): imported once per producer thread, its
 * optional `init` awaited before the first record, its `write` called for each record to commit.
 * Thread: the producer's.
 */
import { describeThrown as describeError } from '@ringbuf/core';
import type { ProducerTask } from './messages.js';

/** The user producer module's `write` (see Scenario.producerModule). */
export type UserWrite = (payload: Uint8Array, seq: number, producerId: number) => void;

type UserInit = (o: unknown, who: { producerId: number; slot: number }) => unknown;

/** How long a producer module's `init` may take before the producer gives up (and dies). */
const USER_INIT_TIMEOUT_MS = 10_000;

/**
 * Imports the scenario's producer module (once per thread: the import is cached) and awaits its
 * optional `init(options, { producerId, slot })`, at most USER_INIT_TIMEOUT_MS.
 * @throws Error saying what failed ("import failed: ...", "init() threw ...", no `write`, an init
 *   that takes too long): the producer then dies before its first record and the pool ends the run
 *   with a ProducerModuleError.
 */
export async function loadUserWrite(task: ProducerTask): Promise<UserWrite> {
  const spec = task.scenario.producerModule ?? '';
  let mod: { write?: unknown; default?: unknown; init?: unknown };
  try {
    mod = (await import(spec)) as typeof mod;
  } catch (err) {
    throw new Error(`import failed: ${describeError(err)}`);
  }
  const write =
    typeof mod.write === 'function' ? mod.write : typeof mod.default === 'function' ? mod.default : undefined;
  if (write === undefined) throw new Error("exports no 'write' (or default) function");
  if (typeof mod.init === 'function') await initWithin(mod.init as UserInit, task);
  return write as UserWrite;
}

/** The module's init(), rejected if it does not settle within USER_INIT_TIMEOUT_MS. */
async function initWithin(init: UserInit, task: ProducerTask): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`init() did not settle within ${USER_INIT_TIMEOUT_MS} ms`)),
      USER_INIT_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([callInit(init, task), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The module's init(), its throw or rejection named as such. */
async function callInit(init: UserInit, task: ProducerTask): Promise<void> {
  try {
    await init(task.scenario.producerOptions, { producerId: task.producerId, slot: task.slot });
  } catch (err) {
    throw new Error(`init() threw ${describeError(err)}`);
  }
}
