/**
 * The records one handle has reserved and not yet committed, so that `submit`/`discard` commit only
 * a record this handle holds. The kernel's verifier proves the same statically (a program can only
 * submit a pointer it got from reserve); here any caller can pass any number, and payload bytes can
 * mimic a BUSY header with this producer's own id, so the handle keeps a table.
 *
 * Private to one thread (plain memory, no Atomics).
 *
 * ## Identity by position, and only what is still held
 *
 * Callers name a record by its data offset, `pos & mask`, and offsets are reused: once a record is
 * committed and consumed, a later reservation may start at the same offset. Two records this handle
 * still holds never share an offset (both lie in [pending_pos, producer_pos), less than a ring), so
 * the table keeps exactly the records still held and nothing else. An entry is a **run**: `len`
 * consecutive held records of one reservation, from logical position `start`, each `footprint` bytes.
 * Committing records cuts them out of their run: the whole run goes, or its head or tail is trimmed,
 * or a middle cut splits it in two. A committed record is therefore never found again, whatever
 * reuses its space (the table used to keep a batch's whole extent with a count of records left, and
 * a newer reservation on a committed record's offset was then matched to the stale extent).
 *
 * Each run also carries its reservation: the position and record count of the `reserve` (1 record)
 * or `reserveBatch` it came from. `submitBatch` commits only records of one reservation, and
 * `batchOffset(first, i)` answers for the newest reservation whose first record is at `first` and
 * which still holds a record (an older one may have started at the same offset: its first record
 * was committed and consumed and its space reused).
 *
 * The table is a preallocated Int32Array that doubles when full, so steady state allocates nothing;
 * lookups scan from the newest run, the one a producer commits next in the common case. The
 * commonest case of all, one single record outstanding at a time (reserve, fill, submit), never
 * touches the table: it lives in two fields (`single`, the header offset + 1, 0 when empty, and its
 * position), which `find` reports as a run of its own (SINGLE), so callers see one kind of run.
 */

/** Words per run: first held position, footprint, held records, reservation position and count. */
const RUN_WORDS = 5;
const START = 0;
const FOOTPRINT = 1;
const LEN = 2;
const RES_START = 3;
const RES_COUNT = 4;
const INITIAL_RUNS = 8;
/** What `find` returns when this handle holds no such record. */
export const NOT_HELD = -1;
/** The run index `find` gives the one-field slot. */
const SINGLE = -2;

export class Reservations {
  private table = new Int32Array(INITIAL_RUNS * RUN_WORDS);
  private runs = 0;
  /** The fast slot: header offset + 1 of one outstanding single reservation, or 0; its footprint and position. */
  private single = 0;
  private singleFootprint = 0;
  private singlePos = 0;
  /** Set by find(): the index of the record found within its run. */
  foundIndex = 0;
  /**
   * The batch noted last (noteBatch), until any record of this handle is committed: its first
   * header's offset and footprint, and its record count (0 when there is none, so no index matches).
   * batchHeader answers from it without a scan: no commit since means it is still wholly held, and it
   * is the newest reservation of all.
   */
  private lastBatch = 0;
  private lastBatchCount = 0;
  private lastBatchFootprint = 0;

  constructor(private readonly mask: number) {}

  /** Records a single reservation at logical position `start` (header offset `hdrOffset`). */
  addOne(hdrOffset: number, start: number, footprint: number): void {
    if (this.single !== 0) {
      this.add(start, footprint, 1);
      return;
    }
    this.single = hdrOffset + 1;
    this.singleFootprint = footprint;
    this.singlePos = start;
  }

  /**
   * Takes the record at `hdrOffset` out of the table, if this handle holds one there (a single
   * record or a record of a batch). Returns false when it holds none.
   */
  takeOne(hdrOffset: number): boolean {
    const e = this.find(hdrOffset, 1);
    if (e === NOT_HELD) return false;
    this.committed(e, this.foundIndex, 1);
    return true;
  }

  /** Records a new reservation of `count` records of `footprint` bytes from position `start`. */
  add(start: number, footprint: number, count: number): void {
    this.push(start, footprint, count, start, count);
  }

  private push(start: number, footprint: number, len: number, resStart: number, resCount: number): void {
    if (this.runs * RUN_WORDS === this.table.length) this.grow();
    const at = this.runs * RUN_WORDS;
    const t = this.table;
    t[at + START] = start;
    t[at + FOOTPRINT] = footprint;
    t[at + LEN] = len;
    t[at + RES_START] = resStart;
    t[at + RES_COUNT] = resCount;
    this.runs++;
  }

  /** Notes the batch just reserved (already added) for batchHeader. */
  noteBatch(hdrOffset: number, count: number, footprint: number): void {
    this.lastBatch = hdrOffset;
    this.lastBatchCount = count;
    this.lastBatchFootprint = footprint;
  }

  /**
   * The header offset of record `i` (a non-negative integer) of the batch noted last, if its first
   * header is at `hdrOffset` and none of this handle's records has been committed since; else
   * NOT_HELD, and the caller asks reservationHeader().
   */
  batchHeader(hdrOffset: number, i: number): number {
    if (hdrOffset !== this.lastBatch || i >= this.lastBatchCount) return NOT_HELD;
    return (hdrOffset + i * this.lastBatchFootprint) & this.mask;
  }

  /**
   * The header offset of record `i` of the newest reservation (reserve or reserveBatch) whose first
   * header is at `hdrOffset` and which still holds a record, or NOT_HELD when there is none or `i`
   * is not one of its record indexes. Not on the hot path: a scan of the runs.
   */
  reservationHeader(hdrOffset: number, i: number): number {
    const mask = this.mask;
    let found = false;
    let newest = 0;
    let footprint = 0;
    let count = 0;
    if (this.single === hdrOffset + 1) {
      found = true;
      newest = this.singlePos;
      footprint = this.singleFootprint;
      count = 1;
    }
    const t = this.table;
    for (let e = 0; e < this.runs; e++) {
      const at = e * RUN_WORDS;
      const resStart = t[at + RES_START]!;
      // Held reservations start within two rings of each other: a signed difference orders them.
      if ((resStart & mask) !== hdrOffset || (found && ((resStart - newest) | 0) <= 0)) continue;
      found = true;
      newest = resStart;
      footprint = t[at + FOOTPRINT]!;
      count = t[at + RES_COUNT]!;
    }
    if (!found || i >= count) return NOT_HELD;
    return (hdrOffset + i * footprint) & mask;
  }

  /**
   * The run holding records [i, i + n) that start at data offset `hdrOffset` (the header's offset,
   * `pos & mask`), all of one reservation and all still held, or NOT_HELD. On success `foundIndex`
   * is i, the index within the run.
   */
  find(hdrOffset: number, n: number): number {
    if (n === 1 && this.single === hdrOffset + 1) {
      this.foundIndex = 0;
      return SINGLE;
    }
    const t = this.table;
    const mask = this.mask;
    for (let e = this.runs - 1; e >= 0; e--) {
      const at = e * RUN_WORDS;
      const d = (hdrOffset - t[at + START]!) & mask;
      const footprint = t[at + FOOTPRINT]!;
      const i = (d / footprint) | 0;
      if (i * footprint === d && i + n <= t[at + LEN]!) {
        this.foundIndex = i;
        return e;
      }
    }
    return NOT_HELD;
  }

  /** Footprint of the records of run `e`. */
  footprint(e: number): number {
    return e === SINGLE ? this.singleFootprint : this.table[e * RUN_WORDS + FOOTPRINT]!;
  }

  /**
   * Records [i, i + n) of run `e` were committed: they leave the table. The run goes when nothing
   * is left of it, loses its head or tail, or is split in two around a middle cut.
   */
  committed(e: number, i: number, n: number): void {
    // Any commit may take a record of the noted batch: batchHeader defers to the table from now on.
    this.lastBatchCount = 0;
    if (e === SINGLE) {
      this.single = 0;
      return;
    }
    const t = this.table;
    const at = e * RUN_WORDS;
    const len = t[at + LEN]!;
    const footprint = t[at + FOOTPRINT]!;
    const tail = len - i - n;
    if (i === 0 && tail === 0) {
      // Swap-remove: move the last run into this slot.
      const last = (this.runs - 1) * RUN_WORDS;
      if (at !== last) t.copyWithin(at, last, last + RUN_WORDS);
      this.runs--;
      return;
    }
    if (i === 0) {
      t[at + START] = (t[at + START]! + n * footprint) | 0;
      t[at + LEN] = tail;
      return;
    }
    t[at + LEN] = i;
    if (tail > 0)
      this.push((t[at + START]! + (i + n) * footprint) | 0, footprint, tail, t[at + RES_START]!, t[at + RES_COUNT]!);
  }

  private grow(): void {
    const bigger = new Int32Array(this.table.length * 2);
    bigger.set(this.table);
    this.table = bigger;
  }
}
