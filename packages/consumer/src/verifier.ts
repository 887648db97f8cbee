/**
 * The ordering verifier: checks, as records are delivered, that instrumented records (the format
 * in @ringbuf/instrument, shared with the producer pool) arrive
 *
 * - per producer in FIFO order with no gaps and no duplicates: each producer's `seq` must be exactly
 *   the previous one plus 1 (mod 2^32), starting from the producer's first sequence number
 *   (`expectFrom`, 0 by default);
 * - in global causal order for records that carry a token: tokens are handed around 1, 2, 3, ...
 *   by the causal scenario, so a record with token k must be delivered after every record with a
 *   token below k. The verifier keeps the highest token delivered so far; a lower one after it is a
 *   violation (several records may carry the same token).
 *
 * Violations are counted by kind and the first `maxExamples` are kept with the producer, the
 * expected and received sequence numbers (or tokens), and the ring and logical position of the
 * record, so a report shows what went wrong, not just how often.
 *
 * Kinds:
 * - `gap`: `seq` is ahead of the expected one; records `expected .. seq - 1` were missing at that
 *   point (they are remembered, so one that turns up later is reported as a `reorder`);
 * - `duplicate`: `seq` was delivered before;
 * - `reorder`: `seq` was missing (reported in a gap) and arrives late;
 * - `causal`: a token lower than one already delivered; with `tokens: 'chain'`, any token other
 *   than the previous one plus 1, or an event kind other than the causal rule's (`causalKind`);
 * - `producer`: a producer id the verifier cannot track (above `maxProducerId`), or a record too
 *   short to carry the instrumented header;
 * - `torn`: the payload after the instrumented header is not the writer's filler (checked only
 *   with the `filler` option: the writer's rule, so this layer does not import the writer);
 * - `owner`: the ring header's owner word (passed to `check` by a caller that has the ring) names
 *   another producer than the payload does.
 *
 * Beyond the kernel: nothing like this exists in libbpf; it is how this project proves ordering.
 *
 * Hot path: {@link OrderingVerifier.check} allocates nothing on honest traffic (typed arrays indexed
 * by producer id, grown outside the per-record path only when a larger id first appears).
 * Thread: one verifier is used from one thread (the consumer's).
 */
import { describeValue, RingBufRangeError } from '@ringbuf/core';
import {
  INSTRUMENTED_HEADER_BYTES,
  RECORD_KIND,
  RECORD_PRODUCER_ID,
  RECORD_SEQ,
  RECORD_TOKEN,
  causalKind,
} from '@ringbuf/instrument';

/** What went wrong with one record. */
export type ViolationKind = 'gap' | 'duplicate' | 'reorder' | 'causal' | 'producer' | 'torn' | 'owner';

/**
 * The writer's filler rule: whether `bytes[offset + 24, offset + size)` of the record `seq` of
 * `producerId` is intact. Must allocate nothing (it runs once per record). The producer pool's
 * `checkFiller` is one.
 */
export type FillerCheck = (bytes: Uint8Array, offset: number, size: number, producerId: number, seq: number) => boolean;

/** One example of a violation. */
export interface Violation {
  kind: ViolationKind;
  /** Producer id in the record (0 for a record too short to have one). */
  producerId: number;
  /**
   * Sequence number expected next from this producer (for `causal`: the highest token seen, or with
   * `tokens: 'chain'` the token expected; for `torn`: the record's seq; for `owner`: the payload's
   * producer id).
   */
  expected: number;
  /**
   * Sequence number received (for `causal`: the record's token; for `torn`: the seq; for `owner`: the header's owner
   * word).
   */
  got: number;
  /** Index of the ring (in the consumer's order) the record came from. */
  ring: number;
  /** Logical position of the record's header in its ring (unsigned), or -1 when unknown. */
  position: number;
  /** Records this verifier had checked before this one (its index in delivery order). */
  index: number;
}

/** Per-producer summary. */
export interface ProducerSummary {
  producerId: number;
  /** Records from this producer that were checked. */
  records: number;
  /** The sequence number expected next. */
  nextSeq: number;
  /** Sequence numbers still missing (reported in a gap and never delivered). */
  missing: number;
}

/** The verifier's findings. Plain data: it can be posted between threads. */
export interface VerifierReport {
  /** Records checked. */
  records: number;
  /** Records that carried a causal token. */
  tokenRecords: number;
  /** Highest token delivered. */
  maxToken: number;
  /** Violations by kind (`gap` counts events; `missing` counts the sequence numbers). */
  gaps: number;
  duplicates: number;
  reorders: number;
  causal: number;
  producerErrors: number;
  /** Records whose filler was not the writer's (only with the `filler` option). */
  torn: number;
  /** Records whose header owner word named another producer than the payload (only when `check` gets the owner). */
  ownerMismatches: number;
  /** Sequence numbers missing at report time, over all producers (including a missing tail). */
  missing: number;
  /** Gap events that `allowGaps` accepted (overwrite mode's losses); not violations. */
  skippedGaps: number;
  /** Sum of every violation kind. */
  violations: number;
  /** The first examples, in delivery order. */
  examples: Violation[];
  /** Per producer, by increasing id. */
  producers: ProducerSummary[];
  /** Whether no violation was found. */
  ok: boolean;
}

/** Options of {@link OrderingVerifier}. */
export interface VerifierOptions {
  /**
   * First sequence number of each producer: `'zero'` (every producer starts at 0), `'first'`
   * (accept whatever arrives first: a consumer that attached late, or an overwrite ring), a map of
   * producer id to first seq (missing ids start at 0), or a function called once per producer.
   * @default 'zero'
   */
  expectFrom?: 'zero' | 'first' | Readonly<Record<number, number>> | ((producerId: number) => number);
  /**
   * Treat gaps as expected losses (overwrite mode): counted in `skippedGaps`, not violations. A
   * sequence number that goes backwards is then reported as `reorder` (missing numbers are not
   * remembered, so a late record and a duplicate cannot be told apart).
   * @default false
   */
  allowGaps?: boolean;
  /** How many violation examples to keep. @default 16 */
  maxExamples?: number;
  /** Largest producer id tracked; records from larger ids are `producer` violations. @default 65535 */
  maxProducerId?: number;
  /** Returns the logical position of the record being checked in ring `ring` (called on violations only). */
  positionOf?: (ring: number) => number;
  /**
   * The causal rule for records with a token:
   * - `'monotonic'`: tokens never go below one already delivered (several records may share one);
   * - `'chain'`: one event per token, as the producer pool's causal scenario emits them: tokens
   *   arrive exactly 1, 2, 3, ..., each with the event kind `causalKind(token)`.
   * @default 'monotonic'
   */
  tokens?: 'monotonic' | 'chain';
  /** The writer's filler rule; when given, every record's filler is checked (`torn`). */
  filler?: FillerCheck;
}

/** Largest number of missing sequence numbers remembered per producer, to bound memory. */
const MAX_MISSING_TRACKED = 1 << 16;
const INITIAL_PRODUCERS = 64;
const U32 = 2 ** 32;

/** report()'s `committed` counts as a map (producer id -> count), whichever form they came in. */
function committedCounts(
  committed: Readonly<Record<number, number>> | ReadonlyMap<number, number> | undefined,
): ReadonlyMap<number, number> | undefined {
  if (committed === undefined || committed instanceof Map) return committed as ReadonlyMap<number, number> | undefined;
  const record = committed as Readonly<Record<number, number>>;
  return new Map(Object.keys(record).map((key) => [Number(key), record[Number(key)]!]));
}

/**
 * Checks a Verifier's options, defaults applied (untrusted: each read as `unknown`).
 * @throws RingBufRangeError `ERR_RINGBUF_ARGUMENT` (a RangeError), as the Verifier's constructor.
 */
function checkVerifierOptions(options: Record<string, unknown>): void {
  const { expectFrom, maxExamples, maxProducerId, tokens, filler } = options;
  if (typeof maxExamples !== 'number' || !Number.isInteger(maxExamples) || maxExamples < 0) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_ARGUMENT',
      `maxExamples must be a non-negative integer, got ${describeValue(maxExamples)}`,
    );
  }
  if (
    typeof maxProducerId !== 'number' ||
    !Number.isInteger(maxProducerId) ||
    maxProducerId < 0 ||
    maxProducerId >= U32
  ) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_ARGUMENT',
      `maxProducerId must be an integer from 0 to 2^32 - 1, got ${describeValue(maxProducerId)}`,
    );
  }
  if (
    expectFrom !== 'zero' &&
    expectFrom !== 'first' &&
    typeof expectFrom !== 'function' &&
    (expectFrom === null || typeof expectFrom !== 'object')
  ) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_ARGUMENT',
      `expectFrom must be 'zero', 'first', a record of first sequence numbers or a function`,
    );
  }
  if (tokens !== 'monotonic' && tokens !== 'chain')
    throw new RingBufRangeError(
      'ERR_RINGBUF_ARGUMENT',
      `tokens must be 'monotonic' or 'chain', got ${describeValue(tokens)}`,
    );
  if (filler !== undefined && typeof filler !== 'function')
    throw new RingBufRangeError('ERR_RINGBUF_ARGUMENT', 'filler must be a function');
}

/**
 * Checks per-producer FIFO order and global causal order of instrumented records.
 * Thread: the consumer thread that delivers the records.
 */
export class OrderingVerifier {
  private nextSeq = new Uint32Array(INITIAL_PRODUCERS);
  private seen = new Uint8Array(INITIAL_PRODUCERS);
  private counts = new Float64Array(INITIAL_PRODUCERS);
  /** Missing sequence numbers per producer, created on the first gap (a violation path). */
  private readonly missingSets = new Map<number, Set<number>>();
  private readonly maxProducerId: number;
  private readonly maxExamples: number;
  private readonly allowGaps: boolean;
  private readonly expectFrom: NonNullable<VerifierOptions['expectFrom']>;
  private readonly positionOf: ((ring: number) => number) | undefined;
  private readonly chain: boolean;
  private readonly filler: FillerCheck | undefined;
  /** The bytes behind the last view checked (for `filler`): remade only when the view changes. */
  private fillerView: DataView | undefined;
  private fillerBytes: Uint8Array = new Uint8Array(0);
  private records = 0;
  private tokenRecords = 0;
  private maxToken = 0;
  private gaps = 0;
  private duplicates = 0;
  private reorders = 0;
  private causal = 0;
  private producerErrors = 0;
  private torn = 0;
  private ownerMismatches = 0;
  private skippedGaps = 0;
  private untrackedMissing = 0;
  private readonly examples: Violation[] = [];

  /**
   * @throws RingBufRangeError `ERR_RINGBUF_ARGUMENT` (a RangeError) when `maxExamples` or
   *   `maxProducerId` is not a non-negative integer, or `expectFrom`, `tokens` or `filler` is not one
   *   of the accepted forms.
   */
  constructor(options: VerifierOptions = {}) {
    const {
      expectFrom = 'zero',
      allowGaps = false,
      maxExamples = 16,
      maxProducerId = 65535,
      positionOf,
      tokens = 'monotonic',
      filler,
    } = options;
    checkVerifierOptions({ expectFrom, maxExamples, maxProducerId, tokens, filler });
    this.chain = tokens === 'chain';
    this.filler = filler;
    this.expectFrom = expectFrom;
    this.allowGaps = allowGaps;
    this.maxExamples = maxExamples;
    this.maxProducerId = maxProducerId;
    this.positionOf = positionOf;
  }

  /**
   * Checks the instrumented record whose payload is `view[offset, offset + size)`, delivered from
   * ring `ring`. `owner`, when given, is the owner word of the record's ring header
   * (`RingBuffer.headerOwnerAt(offset - BPF_RINGBUF_HDR_SZ)`), which must name the producer the
   * payload names. Returns true when the record is in order and intact. Allocation-free unless it
   * finds a violation, a new producer id beyond the arrays' current length, or (with `filler`) a
   * view over another buffer than the previous record's.
   */
  check(view: DataView, offset: number, size: number, ring = 0, owner?: number): boolean {
    const index = this.records++;
    if (size < INSTRUMENTED_HEADER_BYTES) {
      this.producerErrors++;
      this.example('producer', 0, INSTRUMENTED_HEADER_BYTES, size, ring, index);
      return false;
    }
    const id = view.getUint32(offset + RECORD_PRODUCER_ID, true);
    const seq = view.getUint32(offset + RECORD_SEQ, true);
    const token = view.getUint32(offset + RECORD_TOKEN, true);
    let ok = true;
    if (id > this.maxProducerId) {
      this.producerErrors++;
      this.example('producer', id, this.maxProducerId, id, ring, index);
      ok = false;
    } else {
      if (id >= this.seen.length) this.grow(id);
      ok = this.checkSeq(id, seq, ring, index);
    }
    if (owner !== undefined && owner !== id) {
      this.ownerMismatches++;
      this.example('owner', id, id, owner, ring, index);
      ok = false;
    }
    const filler = this.filler;
    if (filler !== undefined && !this.checkFiller(filler, view, offset, size, id, seq)) {
      this.torn++;
      this.example('torn', id, seq, seq, ring, index);
      ok = false;
    }
    if (token !== 0 && !this.checkToken(view, offset, token, id, ring, index)) ok = false;
    return ok;
  }

  /** The causal rule for a record carrying `token` (see VerifierOptions.tokens). */
  private checkToken(view: DataView, offset: number, token: number, id: number, ring: number, index: number): boolean {
    this.tokenRecords++;
    if (this.chain) {
      const expected = this.maxToken + 1;
      const kindOk = view.getUint32(offset + RECORD_KIND, true) === causalKind(token);
      if (token > this.maxToken) this.maxToken = token;
      if (token === expected && kindOk) return true;
      this.causal++;
      this.example('causal', id, expected, token, ring, index);
      return false;
    }
    if (token < this.maxToken) {
      this.causal++;
      this.example('causal', id, this.maxToken, token, ring, index);
      return false;
    }
    this.maxToken = token;
    return true;
  }

  /** Runs the writer's filler rule over the record's bytes (a byte view made once per buffer). */
  private checkFiller(
    filler: FillerCheck,
    view: DataView,
    offset: number,
    size: number,
    id: number,
    seq: number,
  ): boolean {
    if (view !== this.fillerView) {
      this.fillerView = view;
      this.fillerBytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    }
    return filler(this.fillerBytes, offset, size, id, seq);
  }

  private checkSeq(id: number, seq: number, ring: number, index: number): boolean {
    if (this.seen[id] === 0) {
      this.seen[id] = 1;
      this.nextSeq[id] = this.firstSeq(id, seq);
    }
    this.counts[id]!++;
    const expected = this.nextSeq[id]!;
    if (seq === expected) {
      this.nextSeq[id] = (seq + 1) >>> 0;
      return true;
    }
    // Distance forward from expected to seq, mod 2^32: below 2^31 means ahead (a gap).
    const ahead = (seq - expected) >>> 0;
    if (ahead < U32 / 2) {
      this.nextSeq[id] = (seq + 1) >>> 0;
      if (this.allowGaps) {
        this.skippedGaps++;
        return true;
      }
      this.gaps++;
      this.rememberMissing(id, expected, ahead);
      this.example('gap', id, expected, seq, ring, index);
      return false;
    }
    // Behind: a late record that a gap reported missing, or a duplicate.
    const missing = this.missingSets.get(id);
    if (this.allowGaps || (missing !== undefined && missing.delete(seq))) {
      this.reorders++;
      this.example('reorder', id, expected, seq, ring, index);
    } else {
      this.duplicates++;
      this.example('duplicate', id, expected, seq, ring, index);
    }
    return false;
  }

  private firstSeq(id: number, seq: number): number {
    const from = this.expectFrom;
    if (from === 'zero') return 0;
    if (from === 'first') return seq;
    if (typeof from === 'function') return from(id) >>> 0;
    return (from[id] ?? 0) >>> 0;
  }

  private rememberMissing(id: number, from: number, count: number): void {
    let set = this.missingSets.get(id);
    if (set === undefined) {
      set = new Set();
      this.missingSets.set(id, set);
    }
    for (let i = 0; i < count; i++) {
      if (set.size >= MAX_MISSING_TRACKED) {
        this.untrackedMissing += count - i;
        return;
      }
      set.add((from + i) >>> 0);
    }
  }

  private example(
    kind: ViolationKind,
    producerId: number,
    expected: number,
    got: number,
    ring: number,
    index: number,
  ): void {
    if (this.examples.length >= this.maxExamples) return;
    const position = this.positionOf === undefined ? -1 : this.positionOf(ring);
    this.examples.push({ kind, producerId, expected, got, ring, position, index });
  }

  /** Grows the per-producer arrays to hold `id` (outside the per-record path: once per new size). */
  private grow(id: number): void {
    let length = this.seen.length;
    while (length <= id) length *= 2;
    length = Math.min(length, this.maxProducerId + 1);
    const nextSeq = new Uint32Array(length);
    const seen = new Uint8Array(length);
    const counts = new Float64Array(length);
    nextSeq.set(this.nextSeq);
    seen.set(this.seen);
    counts.set(this.counts);
    this.nextSeq = nextSeq;
    this.seen = seen;
    this.counts = counts;
  }

  /** Violations found so far (cheap; for live stats). */
  get violations(): number {
    return (
      this.gaps + this.duplicates + this.reorders + this.causal + this.producerErrors + this.torn + this.ownerMismatches
    );
  }

  /**
   * The findings so far. `committed`, when given, is each producer's own count of records it
   * committed (producer id -> count, as the producer pool reports it): sequence numbers from the
   * expected next one up to that count are then reported missing too (a lost tail that no later
   * record could reveal), and a producer that committed records but delivered none counts all of
   * them missing. Counts assume the producer started at `expectFrom` (0 by default).
   */
  report(committed?: Readonly<Record<number, number>> | ReadonlyMap<number, number>): VerifierReport {
    const producers: ProducerSummary[] = [];
    let missingTotal = this.untrackedMissing;
    let gaps = this.gaps;
    const examples = this.examples.slice();
    const counts = committedCounts(committed);
    const ids = new Set<number>(counts?.keys());
    for (let id = 0; id < this.seen.length; id++) if (this.seen[id] === 1) ids.add(id);
    for (const id of [...ids].sort((a, b) => a - b)) {
      const seen = id < this.seen.length && this.seen[id] === 1;
      let nextSeq = seen ? this.nextSeq[id]! : this.firstSeqForReport(id);
      let missing = this.missingSets.get(id)?.size ?? 0;
      const total = counts?.get(id);
      if (total !== undefined && !this.allowGaps) {
        const tail = total - nextSeq;
        if (tail > 0) {
          missing += tail;
          gaps++;
          if (examples.length < this.maxExamples) {
            examples.push({
              kind: 'gap',
              producerId: id,
              expected: nextSeq,
              got: total,
              ring: -1,
              position: -1,
              index: this.records,
            });
          }
          nextSeq = total;
        }
      }
      missingTotal += missing;
      producers.push({ producerId: id, records: seen ? this.counts[id]! : 0, nextSeq, missing });
    }
    const violations =
      gaps + this.duplicates + this.reorders + this.causal + this.producerErrors + this.torn + this.ownerMismatches;
    return {
      records: this.records,
      tokenRecords: this.tokenRecords,
      maxToken: this.maxToken,
      gaps,
      duplicates: this.duplicates,
      reorders: this.reorders,
      causal: this.causal,
      producerErrors: this.producerErrors,
      torn: this.torn,
      ownerMismatches: this.ownerMismatches,
      missing: missingTotal,
      skippedGaps: this.skippedGaps,
      violations,
      examples,
      producers,
      ok: violations === 0,
    };
  }

  private firstSeqForReport(id: number): number {
    return this.expectFrom === 'first' ? 0 : this.firstSeq(id, 0);
  }
}

/** A one-line human summary of a report (for logs and the CLI). */
export function formatVerifierReport(report: VerifierReport): string {
  if (report.ok) {
    return (
      `ordering ok: ${report.records} records from ${report.producers.length} producers, ` +
      `${report.tokenRecords} with causal tokens`
    );
  }
  const first = report.examples
    .slice(0, 3)
    .map(
      (v) =>
        `${v.kind} producer ${v.producerId} expected ${v.expected} got ${v.got} (ring ${v.ring} pos ${v.position})`,
    )
    .join('; ');
  return (
    `ordering VIOLATED: ${report.violations} violations (gaps ${report.gaps}, missing ${report.missing}, duplicates ` +
    `${report.duplicates}, reorders ${report.reorders}, causal ${report.causal}, producer ${report.producerErrors}, ` +
    `torn ${report.torn}, ` +
    `owner ${report.ownerMismatches}); first: ${first}`
  );
}
