/**
 * The records one handle has reserved and not yet committed, so that `submit`/`discard` commit only
 * a record this handle reserved. The kernel's verifier proves the same statically (a program can
 * only submit a pointer it got from reserve); here any caller can pass any number, and payload bytes
 * can mimic a BUSY header with this producer's own id, so the handle keeps a table.
 *
 * Private to one thread (plain memory, no Atomics). An entry is an extent of `count` consecutive
 * records of equal footprint starting at logical position `start` (a single `reserve` is an extent of
 * one; a `reserveBatch` one of `count`), with `left` records still uncommitted. The table is a
 * preallocated Int32Array that doubles when full, so steady state allocates nothing; lookups scan
 * from the newest extent, which is the one a producer commits next in the common case.
 *
 * The commonest case of all, one single record outstanding at a time (reserve, fill, submit), never
 * touches the table: it lives in one field (`single`, the header offset + 1; 0 when empty), which
 * `find` reports as an extent of its own (SINGLE), so callers see one kind of extent.
 */

/** Words per extent: start position, footprint, count, uncommitted left. */
const EXTENT_WORDS = 4;
const START = 0;
const FOOTPRINT = 1;
const COUNT = 2;
const LEFT = 3;
const INITIAL_EXTENTS = 8;
/** What `find` returns when this handle holds no such record. */
export const NOT_HELD = -1;
/** The extent index `find` gives the one-field slot. */
const SINGLE = -2;

export class Reservations {
  private table = new Int32Array(INITIAL_EXTENTS * EXTENT_WORDS);
  private extents = 0;
  /** The fast slot: header offset + 1 of one outstanding single reservation, or 0, and its footprint. */
  private single = 0;
  private singleFootprint = 0;
  /** Set by find(): the index of the record found within its extent. */
  foundIndex = 0;
  /**
   * The batch noted last (noteBatch), until any record of this handle is committed: its first
   * header's offset and footprint, and its record count (0 when there is none, so no index matches).
   * batchHeader answers from it without find()'s scan and division.
   */
  private lastBatch = 0;
  private lastBatchCount = 0;
  private lastBatchFootprint = 0;

  constructor(private readonly mask: number) {}

  /** Records a single reservation whose header is at data offset `hdrOffset`. */
  addOne(hdrOffset: number, start: number, footprint: number): void {
    if (this.single !== 0) {
      this.add(start, footprint, 1);
      return;
    }
    this.single = hdrOffset + 1;
    this.singleFootprint = footprint;
  }

  /**
   * Takes the record at `hdrOffset` out of the table, if this handle holds one there (a single
   * record or a record of a batch). Returns false when it holds none.
   */
  takeOne(hdrOffset: number): boolean {
    const e = this.find(hdrOffset, 1);
    if (e === NOT_HELD) return false;
    this.committed(e, 1);
    return true;
  }

  /** Records a new reservation of `count` records of `footprint` bytes from position `start`. */
  add(start: number, footprint: number, count: number): void {
    if (this.extents * EXTENT_WORDS === this.table.length) this.grow();
    const at = this.extents * EXTENT_WORDS;
    const t = this.table;
    t[at + START] = start;
    t[at + FOOTPRINT] = footprint;
    t[at + COUNT] = count;
    t[at + LEFT] = count;
    this.extents++;
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
   * NOT_HELD, and the caller asks find().
   */
  batchHeader(hdrOffset: number, i: number): number {
    if (hdrOffset !== this.lastBatch || i >= this.lastBatchCount) return NOT_HELD;
    return (hdrOffset + i * this.lastBatchFootprint) & this.mask;
  }

  /**
   * The extent holding records [i, i + n) that start at data offset `hdrOffset` (the header's offset,
   * `pos & mask`), or NOT_HELD. On success `foundIndex` is i.
   */
  find(hdrOffset: number, n: number): number {
    if (n === 1 && this.single === hdrOffset + 1) {
      this.foundIndex = 0;
      return SINGLE;
    }
    const t = this.table;
    const mask = this.mask;
    for (let e = this.extents - 1; e >= 0; e--) {
      const at = e * EXTENT_WORDS;
      const d = (hdrOffset - t[at + START]!) & mask;
      const footprint = t[at + FOOTPRINT]!;
      const i = (d / footprint) | 0;
      if (i * footprint === d && i + n <= t[at + COUNT]!) {
        this.foundIndex = i;
        return e;
      }
    }
    return NOT_HELD;
  }

  /** Footprint of the records of extent `e`. */
  footprint(e: number): number {
    return e === SINGLE ? this.singleFootprint : this.table[e * EXTENT_WORDS + FOOTPRINT]!;
  }

  /** Records of extent `e`. */
  count(e: number): number {
    return e === SINGLE ? 1 : this.table[e * EXTENT_WORDS + COUNT]!;
  }

  /** `n` records of extent `e` were committed; the extent goes when none is left. */
  committed(e: number, n: number): void {
    // Any commit may take a record of the noted batch: batchHeader defers to find() from now on.
    this.lastBatchCount = 0;
    if (e === SINGLE) {
      this.single = 0;
      return;
    }
    const t = this.table;
    const at = e * EXTENT_WORDS;
    const left = t[at + LEFT]! - n;
    if (left > 0) {
      t[at + LEFT] = left;
      return;
    }
    // Swap-remove: move the last extent into this slot.
    const last = (this.extents - 1) * EXTENT_WORDS;
    if (at !== last) t.copyWithin(at, last, last + EXTENT_WORDS);
    this.extents--;
  }

  private grow(): void {
    const bigger = new Int32Array(this.table.length * 2);
    bigger.set(this.table);
    this.table = bigger;
  }
}
