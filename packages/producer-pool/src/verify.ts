/**
 * A consumer-side checker for instrumented records written by the pool: per producer, sequences
 * arrive 0, 1, 2, ... with no gap, duplicate or reorder; every payload's filler is intact (nothing
 * torn); the header's owner word names the producer the payload names; in causal runs, tokens arrive
 * 1, 2, 3, ... with the event kind each token implies. After the run, `checkAgainst` compares what
 * was delivered with the pool's accounting, allowing a dead producer exactly the one record it may
 * have committed after its last published sequence.
 *
 * The per-record path (`onRecord`) allocates nothing unless it records a problem.
 * Thread: the consumer's thread.
 */
import { EventKind, RECORD_KIND, RECORD_PRODUCER_ID, RECORD_SEQ, RECORD_TOKEN } from '@ringbuf/instrument';
import { layout, type RingBuffer } from '@ringbuf/core';
import { checkFiller } from './pattern.js';
import type { PoolResult } from './pool.js';

export interface VerifyProblem {
  kind: 'gap' | 'duplicate-or-reorder' | 'torn' | 'owner-mismatch' | 'short' | 'token' | 'count' | 'unknown-producer';
  producerId: number;
  seq: number;
  expected: number;
  detail?: string;
}

export interface VerifySummary {
  records: number;
  producers: number;
  problems: VerifyProblem[];
  /** Causal runs: the next token expected (tokens 1 .. nextToken - 1 were seen, in order). */
  nextToken: number;
}

/** Keep at most this many problems (the first ones explain the rest). */
const MAX_PROBLEMS = 100;

export class SequenceVerifier {
  private readonly view: DataView;
  private readonly i32: Int32Array;
  private readonly next = new Map<number, number>();
  private readonly problems: VerifyProblem[] = [];
  private readonly causal: boolean;
  private records = 0;
  private nextToken = 1;

  /** @param ring the consumer's handle of the ring the records come from. */
  constructor(ring: RingBuffer, options: { causal?: boolean } = {}) {
    this.view = ring.view;
    this.i32 = ring.i32;
    this.causal = options.causal ?? false;
  }

  /** The Consumer callback: `new Consumer(ring, (d, o, s) => verifier.onRecord(d, o, s))`. */
  onRecord(data: Uint8Array, offset: number, size: number): void {
    this.records++;
    if (size < 24) {
      this.problem({ kind: 'short', producerId: 0, seq: 0, expected: 24, detail: `payload of ${size} bytes` });
      return;
    }
    const view = this.view;
    const producerId = view.getUint32(offset + RECORD_PRODUCER_ID, true);
    const seq = view.getUint32(offset + RECORD_SEQ, true);
    const owner = this.i32[layout.headerIndex(offset - layout.BPF_RINGBUF_HDR_SZ) + layout.HDR_OWNER_WORD]!;
    if (owner !== producerId) this.problem({ kind: 'owner-mismatch', producerId, seq, expected: owner });
    const expected = this.next.get(producerId) ?? 0;
    if (seq !== expected) {
      this.problem({ kind: seq > expected ? 'gap' : 'duplicate-or-reorder', producerId, seq, expected });
    }
    this.next.set(producerId, seq + 1);
    if (!checkFiller(data, offset, size, producerId, seq)) this.problem({ kind: 'torn', producerId, seq, expected: seq });
    if (this.causal) {
      const token = view.getUint32(offset + RECORD_TOKEN, true);
      const kind = view.getUint32(offset + RECORD_KIND, true);
      if (token !== this.nextToken || kind !== EventKind.Fork + ((token - 1) % 3)) {
        this.problem({ kind: 'token', producerId, seq, expected: this.nextToken, detail: `token ${token} kind ${kind}` });
      }
      this.nextToken = token + 1;
    }
  }

  /** Records delivered from `producerId` (its next expected sequence). */
  delivered(producerId: number): number {
    return this.next.get(producerId) ?? 0;
  }

  /** Every producer id seen, with its delivered count. */
  deliveredCounts(): Array<[number, number]> {
    return [...this.next.entries()];
  }

  summary(): VerifySummary {
    return { records: this.records, producers: this.next.size, problems: [...this.problems], nextToken: this.nextToken };
  }

  /**
   * Compares deliveries with the pool's accounting, after the ring was drained:
   * - a producer that finished: delivered === committed;
   * - a dead producer: delivered is lastCommittedSeq + 1 or one more (killed between submit and its
   *   sequence store), and committed or one more; its inFlight is 0 or 1.
   */
  checkAgainst(result: PoolResult, delivered: ReadonlyMap<number, number> = this.next): VerifyProblem[] {
    return checkDeliveries(result, delivered, this.problems);
  }

  private problem(p: VerifyProblem): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(p);
  }
}

/** `checkAgainst` for deliveries counted elsewhere (e.g. in a consumer worker). */
export function checkDeliveries(result: PoolResult, delivered: ReadonlyMap<number, number>, streamProblems: readonly VerifyProblem[] = []): VerifyProblem[] {
  const problems: VerifyProblem[] = [...streamProblems];
  const known = new Set<number>();
  for (const p of result.producers) {
    known.add(p.producerId);
    const d = delivered.get(p.producerId) ?? 0;
    if (p.state === 'dead') {
      const low = p.lastCommittedSeq + 1;
      const okSeq = d === low || d === low + 1;
      const okCommitted = d === p.committed || d === p.committed + 1;
      if (!okSeq || !okCommitted || p.inFlight < 0 || p.inFlight > 1) {
        problems.push({
          kind: 'count',
          producerId: p.producerId,
          seq: d,
          expected: low,
          detail: `dead: delivered ${d}, lastCommittedSeq ${p.lastCommittedSeq}, committed ${p.committed}, inFlight ${p.inFlight}`,
        });
      }
    } else if (d !== p.committed || p.inFlight !== 0 || p.lastCommittedSeq !== p.committed - 1) {
      problems.push({
        kind: 'count',
        producerId: p.producerId,
        seq: d,
        expected: p.committed,
        detail: `${p.state}: delivered ${d}, committed ${p.committed}, inFlight ${p.inFlight}, lastCommittedSeq ${p.lastCommittedSeq}`,
      });
    }
  }
  for (const [id, d] of delivered) {
    if (!known.has(id)) problems.push({ kind: 'unknown-producer', producerId: id, seq: d, expected: 0 });
  }
  return problems;
}
