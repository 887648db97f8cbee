/**
 * The loss, duplicate and order accounting of one run: the producer pool's exact per-producer counts
 * against what the consumer's ordering verifier saw. Pure functions of the two reports (unit-tested
 * without threads). Thread: any.
 *
 * Per producer id (a replacement after a kill has a new id and starts at seq 0):
 *   committed(p) = the producer's own count; for a dead producer, at least lastCommittedSeq + 1, and
 *                  one more if the verifier saw it (it died inside output() after the commit: the
 *                  pool cannot tell that from a death before the reservation and counts the record
 *                  abandoned; the delivery says it was committed, so it moves to committed);
 *   abandoned(p) = records in a dead producer's hands that recovery discarded or that never got a
 *                  reservation (the pool's count, less any the consumer saw delivered), so that
 *                  attempted = committed + discarded + dropped + abandoned exactly;
 *   lost(p)      = sequence numbers the verifier found missing in the middle (a gap never filled)
 *                  + the tail it never saw: max(0, committed(p) - nextSeq(p)).
 * Records still in the ring when the consumer stopped (a drain that hit its deadline, a consumer
 * terminated because its handler never returned) are that tail but not lost: they are counted as
 * `leftBehind` (the runtime counts them exactly by walking the ring) and taken off `lost`. Without
 * the verifier's report (a terminated consumer) lost is committed - consumed - leftBehind.
 * Overwrite mode: the verifier accepts gaps (records overwritten before the consumer read them are
 * the mode's contract, counted exactly by the consumer as `overwritten`); a committed record is lost
 * only if it was neither delivered nor overwritten: max(0, committed - consumed - overwritten).
 */
import type { ProducerReport, DeathReport } from '@ringbuf/producer-pool';
import type { RuntimeReport, VerifierReport, Violation } from '@ringbuf/consumer';

/** The numbers the commands report. */
export interface Accounting {
  records: {
    /** Records the producers tried to produce: committed + discarded + dropped + abandoned, exactly. */
    attempted: number;
    /** Records committed (submit / output succeeded). */
    committed: number;
    /** Records reserved and then discarded (never delivered, by design). */
    discarded: number;
    /** Reservations refused: ring full (the kernel's -EAGAIN / NULL) or the lock not taken in time. */
    dropped: number;
    /** Records a producer had in hand when it died, never committed: discarded by crash recovery. */
    abandoned: number;
    /** Records delivered to the consumer's handler. */
    consumed: number;
  };
  /**
   * Committed records never delivered, not overwritten (overwrite mode) and not left in the ring
   * when the consumer stopped (see leftBehind).
   */
  lost: number;
  /** Committed records left in the ring when the consumer stopped (drain deadline, terminated consumer). */
  leftBehind: number;
  /** Whether the ordering verifier's report came back (false: the consumer was terminated). */
  verified: boolean;
  /** Records delivered twice. */
  duplicates: number;
  /** Records delivered out of order: per-producer reorders plus causal-order violations. */
  orderViolations: number;
  /** Of those, causal violations (a token delivered after a higher one). */
  causalViolations: number;
  /**
   * Records too short for the instrumented header or from an unknown producer id, torn records
   * (filler not the writer's) and records whose header owner word names another producer.
   */
  malformed: number;
  /** Overwrite mode: committed records overwritten before the consumer read them (not lost). */
  overwritten: number;
  /** Records that carried a causal token (the `order` command's events). */
  tokenEvents: number;
  /** Delivered payload bytes. */
  consumedBytes: number;
  /** Producers killed by fault injection. */
  killed: number;
  /** Producers that died on their own (a bug, or an exception in a producer). */
  crashed: number;
  /** Producers the watchdog terminated, stuck in their record in hand (watchdog.ts). */
  stuck: number;
  /** Deaths whose recovery completed (lock freed if held, BUSY records discarded). */
  recovered: number;
  /** The verifier's first examples (delivery order). */
  examples: Violation[];
}

/** A death's recovery completed (the pool reports -1 discarded records when it gave up). */
function recoveredDeath(d: DeathReport): boolean {
  return d.recordsDiscarded >= 0;
}

/** The producers' counts summed, with the in-order loss the verifier's report shows (see the module comment). */
interface ProducerTotals {
  attempted: number;
  committed: number;
  discarded: number;
  dropped: number;
  abandoned: number;
  /** Gaps never filled plus the tails never seen (0 in overwrite mode). */
  lostInOrder: number;
}

/**
 * Sums the pool's per-incarnation counts; a dead producer's record the verifier saw delivered moves
 * from abandoned to committed.
 */
function producerTotals(
  producers: readonly ProducerReport[],
  deaths: readonly DeathReport[],
  verifier: VerifierReport | undefined,
  overwrite: boolean,
): ProducerTotals {
  const seen = new Map<number, { nextSeq: number; missing: number }>();
  for (const p of verifier?.producers ?? []) seen.set(p.producerId, { nextSeq: p.nextSeq, missing: p.missing });
  const dead = new Set(deaths.map((d) => d.producerId));
  const t: ProducerTotals = { attempted: 0, committed: 0, discarded: 0, dropped: 0, abandoned: 0, lostInOrder: 0 };
  for (const p of producers) {
    t.attempted += p.attempted;
    t.discarded += p.discarded;
    t.dropped += p.dropped;
    let c = p.committed;
    let a = p.abandoned;
    const v = seen.get(p.producerId);
    if (dead.has(p.producerId) || p.state === 'dead') {
      const seenCommitted = Math.max(p.lastCommittedSeq + 1, v?.nextSeq ?? 0);
      if (seenCommitted > c) {
        // Delivered, so committed: it can only be the record the pool counted abandoned.
        a -= Math.min(seenCommitted - c, a);
        c = seenCommitted;
      }
    }
    t.committed += c;
    t.abandoned += a;
    if (!overwrite) t.lostInOrder += (v?.missing ?? 0) + Math.max(0, c - (v?.nextSeq ?? 0));
  }
  return t;
}

/**
 * Accounts one run. `producers` is the pool's per-incarnation list (PoolResult.producers), `deaths`
 * its deaths, `runtime` the consumer runtime's final report (with its verifier report).
 */
export function account(
  producers: readonly ProducerReport[],
  deaths: readonly DeathReport[],
  runtime: RuntimeReport,
  overwrite: boolean,
): Accounting {
  const verifier: VerifierReport | undefined = runtime.verifier;
  const { attempted, committed, discarded, dropped, abandoned, lostInOrder } = producerTotals(
    producers,
    deaths,
    verifier,
    overwrite,
  );
  const consumed = runtime.delivered;
  const overwritten = overwrite ? runtime.rings.reduce((s, r) => s + (Number.isFinite(r.lost) ? r.lost : 0), 0) : 0;
  const leftBehind = runtime.leftBehindCommitted;
  const lost =
    overwrite || verifier === undefined
      ? Math.max(0, committed - consumed - overwritten - leftBehind)
      : Math.max(0, lostInOrder - leftBehind);
  const killed = deaths.filter((d) => d.cause === 'injected').length;
  return {
    records: { attempted, committed, discarded, dropped, abandoned, consumed },
    lost,
    leftBehind,
    verified: verifier !== undefined,
    duplicates: verifier?.duplicates ?? 0,
    orderViolations: (verifier?.reorders ?? 0) + (verifier?.causal ?? 0),
    causalViolations: verifier?.causal ?? 0,
    malformed: (verifier?.producerErrors ?? 0) + (verifier?.torn ?? 0) + (verifier?.ownerMismatches ?? 0),
    overwritten,
    tokenEvents: verifier?.tokenRecords ?? 0,
    // A terminated consumer's rings have no counts (NaN): its last published stats then.
    consumedBytes: runtime.rings.every((r) => Number.isFinite(r.bytes))
      ? runtime.rings.reduce((s, r) => s + r.bytes, 0)
      : runtime.stats.bytes,
    killed,
    crashed: deaths.filter((d) => d.cause === 'crashed').length,
    stuck: deaths.filter((d) => d.cause === 'watchdog').length,
    recovered: deaths.filter(recoveredDeath).length,
    examples: verifier?.examples ?? [],
  };
}

/** Whether the run kept every promise: nothing lost, duplicated, reordered or malformed. */
export function clean(a: Accounting): boolean {
  return a.lost === 0 && a.duplicates === 0 && a.orderViolations === 0 && a.malformed === 0;
}
