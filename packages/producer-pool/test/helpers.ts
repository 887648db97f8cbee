import { RingBuffer } from '@ringbuf/core';
import { ConsumerRuntime, formatVerifierReport, type RuntimeReport, type VerifierReport } from '@ringbuf/consumer';
import type { PoolResult } from '../src/index.js';
import type { VerifyHandlerOptions } from './fixtures/verify-handler.js';

/** A seed from $SEED or a fresh random one; tests print it with t.log so a failure can be replayed. */
export function testSeed(): number {
  const env = process.env['SEED'];
  return env !== undefined ? Number(env) : (Math.random() * 0x7fffffff) | 0;
}

/** What a verified consumer saw, once stopped after the pool's run. */
export interface ConsumerReport {
  runtime: RuntimeReport;
  /** The worker's OrderingVerifier (sequence, filler, owner word; token chain when causal). */
  verifier: VerifierReport;
  /** Records delivered per producer id. */
  delivered: Map<number, number>;
  /** producer_pos - consumer_pos after the drain (0: nothing left behind). */
  backlog: number;
  /** The ring lock's holder after the run (0 = free). */
  lockHolder: number;
}

export interface VerifiedConsumer {
  /** Drains what the producers left (every producer has settled and been recovered), then reports. */
  stop(): Promise<ConsumerReport>;
}

const HANDLER = new URL('./fixtures/verify-handler.js', import.meta.url);

/** Starts a ConsumerRuntime on `ring` whose handler verifies every record (see fixtures/verify-handler.ts). */
export async function startVerifiedConsumer(
  ring: RingBuffer,
  options: { causal?: boolean } = {},
): Promise<VerifiedConsumer> {
  const handlerOptions: VerifyHandlerOptions = { ring: ring.share(), causal: options.causal ?? false };
  const rt = await ConsumerRuntime.start({ rings: [ring], handler: HANDLER, handlerOptions });
  return {
    async stop(): Promise<ConsumerReport> {
      const runtime = await rt.stop({ drain: true, timeoutMs: 10_000 });
      const verifier = runtime.handlerClose as VerifierReport | undefined;
      if (verifier === undefined) throw new Error(`the verify handler reported nothing (reason ${runtime.reason})`);
      return {
        runtime,
        verifier,
        delivered: new Map(verifier.producers.map((p) => [p.producerId, p.records])),
        backlog: (ring.producerPos() - ring.consumerPos()) | 0,
        lockHolder: ring.lockHolder(),
      };
    },
  };
}

/**
 * Checks a drained run end to end and returns every problem found (empty when all is well):
 * - the stream: no gap, duplicate, reorder, torn filler, owner mismatch or causal violation;
 * - the runtime drained everything (nothing left behind, nothing BUSY);
 * - per producer: attempted = committed + discarded + dropped + abandoned exactly, nothing in flight,
 *   lastCommittedSeq = committed - 1, abandoned only for a dead producer (and at most its one record
 *   in hand, exactly one when recovery discarded its BUSY record), and the consumer received exactly
 *   `committed` records from it (one more allowed only for an 'undecided' output death);
 * - every delivered producer id is one of the pool's.
 */
export function endToEndProblems(result: PoolResult, report: ConsumerReport): string[] {
  const problems: string[] = [];
  const v = report.verifier;
  if (!v.ok) problems.push(`${formatVerifierReport(v)}; examples ${JSON.stringify(v.examples)}`);
  if (report.runtime.reason !== 'drained' || report.runtime.leftBehind !== 0) {
    problems.push(`consumer ended ${report.runtime.reason} with ${report.runtime.leftBehind} left behind`);
  }
  const deaths = new Map(result.deaths.map((d) => [d.producerId, d]));
  const known = new Set<number>();
  let committedTotal = 0;
  for (const p of result.producers) {
    known.add(p.producerId);
    const d = report.delivered.get(p.producerId) ?? 0;
    const death = deaths.get(p.producerId);
    const who =
      `producer ${p.producerId} (${p.state}` +
      `${death ? `, ${death.method}/${death.point}, in hand ${death.inHand}` : ''})`;
    if (p.attempted !== p.committed + p.discarded + p.dropped + p.abandoned) {
      problems.push(
        `${who}: attempted ${p.attempted} != ${p.committed} + ${p.discarded} + ${p.dropped} + ${p.abandoned}`,
      );
    }
    if (p.inFlight !== 0) problems.push(`${who}: inFlight ${p.inFlight}`);
    if (p.lastCommittedSeq !== p.committed - 1)
      problems.push(`${who}: lastCommittedSeq ${p.lastCommittedSeq}, committed ${p.committed}`);
    if (p.abandoned < 0 || p.abandoned > (p.state === 'dead' ? 1 : 0))
      problems.push(`${who}: abandoned ${p.abandoned}`);
    if (death !== undefined && death.recordsDiscarded > 0 && p.abandoned !== 1)
      problems.push(`${who}: recovery discarded its record but abandoned ${p.abandoned}`);
    const oneMore = death?.inHand === 'undecided' && d === p.committed + 1;
    if (d !== p.committed && !oneMore) problems.push(`${who}: delivered ${d}, committed ${p.committed}`);
    committedTotal += oneMore ? d : p.committed;
  }
  for (const id of report.delivered.keys()) if (!known.has(id)) problems.push(`records from unknown producer ${id}`);
  if (report.runtime.delivered !== committedTotal)
    problems.push(`consumer delivered ${report.runtime.delivered}, producers committed ${committedTotal}`);
  if (report.backlog !== 0) problems.push(`${report.backlog} bytes left between consumer_pos and producer_pos`);
  if (report.lockHolder !== 0) problems.push(`the ring's lock is held by ${report.lockHolder}`);
  return problems;
}

export { RingBuffer };
