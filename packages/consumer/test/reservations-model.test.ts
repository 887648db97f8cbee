/**
 * Model-based test of what each producer handle may commit, over several handles of one ring.
 *
 * fast-check commands (reserve, reserveBatch, submit, discard, submitBatch, discardBatch over any
 * records of a reservation in any order, commits of offsets a handle does not hold, batchOffset on
 * live and stale reservations, consume) run against the real ring and against a plain model: every
 * record with its position, footprint, owner, reservation and state. Rings are small (4096 bytes)
 * and records large, so space is reused often and offsets of committed records come back as
 * offsets of new ones: the case where a table keyed by offset confuses a stale reservation with a
 * new one. After every command:
 * - a commit succeeds exactly when the model says the handle holds every record it names (one
 *   reservation, all still BUSY); a refused one throws ERR_RINGBUF_NOT_BUSY or ERR_RINGBUF_OFFSET and
 *   leaves the ring byte-identical;
 * - reserve and reserveBatch succeed exactly when the model says the records fit, at the model's
 *   offset;
 * - every batchOffset answer is the model's: the newest reservation of the handle whose first record
 *   is at that offset and which still holds a record, or ERR_RINGBUF_OFFSET;
 * - the consumer delivers exactly the committed records (tags written in their payloads), in
 *   reservation order, stopping at the first BUSY one; producer_pos and consumer_pos equal the model's.
 *
 * Replay a failure with RINGBUF_SEED=<seed printed by the test>; fast-check also prints the seed and
 * the shrunk command list.
 */
import test from 'ava';
import fc from 'fast-check';
import { BPF_RB_CONS_POS, BPF_RB_PROD_POS, RingBuffer } from '@ringbuf/core';
import { Consumer } from '../src/index.js';
import { seedFromEnv } from './helpers/prng.js';

const SIZE = 4096;
const MASK = SIZE - 1;
const HANDLES = 3;
/** Payload sizes: large against the ring, so that space is reused every few reservations. */
const SIZES = [4, 12, 60, 250, 504, 900] as const;
const footprint = (size: number): number => Math.ceil((size + 8) / 8) * 8;

type State = 'busy' | 'committed' | 'discarded';

interface MRecord {
  /** Model position (from 0, unbounded); the ring's is start + pos mod 2^32. */
  pos: number;
  fp: number;
  size: number;
  owner: number;
  res: MReservation;
  state: State;
  tag: number;
}

interface MReservation {
  handle: number;
  records: MRecord[];
}

class Model {
  /** Every record not yet consumed, in position order (consumed ones leave). */
  live: MRecord[] = [];
  /** Every reservation each handle ever made, oldest first (stale ones too: batchOffset asks them). */
  reservations: MReservation[][] = Array.from({ length: HANDLES }, () => []);
  prod = 0;
  cons = 0;
  nextTag = 1;
  constructor(readonly start: number) {}

  offsetOf(pos: number): number {
    return ((this.start + pos) & MASK) + 8;
  }

  /** Whether `len` more bytes fit: the kernel's two checks, pending_pos being the first BUSY record. */
  fits(len: number): boolean {
    const busy = this.live.find((r) => r.state === 'busy');
    const pend = busy ? busy.pos : this.prod;
    return this.prod + len - pend <= MASK && this.prod + len - this.cons <= MASK;
  }

  held(handle: number): MRecord[] {
    return this.live.filter((r) => r.owner === handle && r.state === 'busy');
  }

  /** The record a handle holds at payload offset `off`, if any (held offsets never collide). */
  heldAt(handle: number, off: number): MRecord | undefined {
    return this.held(handle).find((r) => this.offsetOf(r.pos) === off);
  }

  /** batchOffset's answer: the newest reservation still holding a record, first record at `first`. */
  batchOffset(handle: number, first: number, i: number): number | undefined {
    const res = this.reservations[handle]!.filter(
      (r) => this.offsetOf(r.records[0]!.pos) === first && r.records.some((x) => x.state === 'busy'),
    ).at(-1);
    if (res === undefined || i >= res.records.length) return undefined;
    return this.offsetOf(res.records[i]!.pos);
  }
}

interface Real {
  handles: RingBuffer[];
  consumer: Consumer;
  delivered: number[];
}

type Cmd = fc.Command<Model, Real>;

const snapshot = (r: Real): Buffer => Buffer.from(new Uint8Array(r.handles[0]!.buffer).slice());

function expectRefused(r: Real, call: () => unknown, what: string): void {
  const before = snapshot(r);
  let code: string | undefined;
  try {
    call();
  } catch (err) {
    code = (err as { code?: string }).code;
  }
  if (code !== 'ERR_RINGBUF_NOT_BUSY' && code !== 'ERR_RINGBUF_OFFSET')
    throw new Error(`${what}: expected a refusal, got ${code ?? 'success'}`);
  if (!before.equals(snapshot(r))) throw new Error(`${what}: refused, but the ring changed`);
}

function checkPositions(m: Model, r: Real, what: string): void {
  const ring = r.handles[0]!;
  const prod = (m.start + m.prod) >>> 0;
  const cons = (m.start + m.cons) >>> 0;
  if (ring.query(BPF_RB_PROD_POS) !== prod || ring.query(BPF_RB_CONS_POS) !== cons) {
    throw new Error(
      `${what}: positions ${ring.query(BPF_RB_PROD_POS)}/${ring.query(BPF_RB_CONS_POS)}, model ${prod}/${cons}`,
    );
  }
}

class ReserveCmd implements Cmd {
  constructor(
    readonly handle: number,
    readonly size: number,
    readonly count: number,
  ) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const ring = r.handles[this.handle]!;
    const fp = footprint(this.size);
    const fits = m.fits(fp * this.count);
    const off = this.count === 1 ? ring.reserve(this.size) : ring.reserveBatch(this.size, this.count);
    if (!fits) {
      if (off !== -1) throw new Error(`${this.toString()}: the model says it does not fit, got ${off}`);
      return;
    }
    if (off !== m.offsetOf(m.prod)) throw new Error(`${this.toString()}: offset ${off}, model ${m.offsetOf(m.prod)}`);
    const res: MReservation = { handle: this.handle, records: [] };
    for (let k = 0; k < this.count; k++) {
      const rec: MRecord = {
        pos: m.prod,
        fp,
        size: this.size,
        owner: this.handle,
        res,
        state: 'busy',
        tag: m.nextTag++,
      };
      // Tag the payload through the model's offset (batchOffset is checked on its own).
      ring.view.setUint32(m.offsetOf(rec.pos), rec.tag, true);
      res.records.push(rec);
      m.live.push(rec);
      m.prod += fp;
    }
    m.reservations[this.handle]!.push(res);
    checkPositions(m, r, this.toString());
  }
  toString = (): string =>
    `h${this.handle}.${this.count === 1 ? `reserve(${this.size})` : `reserveBatch(${this.size}, ${this.count})`}`;
}

/** Commits `n` records from the `pick`-th record the handle holds (in position order). */
class CommitCmd implements Cmd {
  constructor(
    readonly handle: number,
    readonly pick: number,
    readonly n: number,
    readonly discard: boolean,
    readonly single: boolean,
  ) {}
  check = (m: Model): boolean => m.held(this.handle).length > 0;
  run(m: Model, r: Real): void {
    const ring = r.handles[this.handle]!;
    const held = m.held(this.handle);
    const first = held[this.pick % held.length]!;
    const off = m.offsetOf(first.pos);
    const n = this.single ? 1 : this.n;
    // Valid iff records [j, j + n) of first's reservation are all held.
    const recs = first.res.records;
    const j = recs.indexOf(first);
    const span = recs.slice(j, j + n);
    const valid = span.length === n && span.every((x) => x.state === 'busy');
    const call = (): void => {
      if (this.single) {
        if (this.discard) ring.discard(off);
        else ring.submit(off);
      } else if (this.discard) ring.discardBatch(off, n);
      else ring.submitBatch(off, n);
    };
    if (!valid) {
      expectRefused(r, call, this.toString());
      return;
    }
    call();
    for (const x of span) x.state = this.discard ? 'discarded' : 'committed';
  }
  toString = (): string =>
    `h${this.handle}.` +
    `${this.single ? (this.discard ? 'discard' : 'submit') : this.discard ? 'discardBatch' : 'submitBatch'}(held #` +
    `${this.pick}${this.single ? '' : `, ${this.n}`})`;
}

/** Commits an offset the handle may not hold: another handle's record, a consumed one, any 8-aligned offset. */
class ForeignCommitCmd implements Cmd {
  constructor(
    readonly handle: number,
    readonly kind: 'other' | 'stale' | 'any',
    readonly pick: number,
    readonly n: number,
  ) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    let off: number;
    if (this.kind === 'any') off = ((this.pick * 8) & MASK) + 8;
    else {
      const pool =
        this.kind === 'other'
          ? m.live.filter((x) => x.owner !== this.handle && x.state === 'busy')
          : m.reservations[this.handle]!.flatMap((res) => res.records).filter((x) => x.state !== 'busy');
      if (pool.length === 0) return;
      off = m.offsetOf(pool[this.pick % pool.length]!.pos);
    }
    const ring = r.handles[this.handle]!;
    const mine = m.heldAt(this.handle, off);
    const recs = mine
      ? mine.res.records.slice(mine.res.records.indexOf(mine), mine.res.records.indexOf(mine) + this.n)
      : [];
    const valid = mine !== undefined && recs.length === this.n && recs.every((x) => x.state === 'busy');
    const call = (): void => (this.n === 1 ? ring.submit(off) : ring.submitBatch(off, this.n));
    if (!valid) {
      expectRefused(r, call, `${this.toString()} at ${off}`);
      return;
    }
    call();
    for (const x of recs) x.state = 'committed';
  }
  toString = (): string => `h${this.handle}.commit(${this.kind} #${this.pick}, ${this.n})`;
}

/** batchOffset on any reservation the handle ever made (live or stale), any index. */
class BatchOffsetCmd implements Cmd {
  constructor(
    readonly handle: number,
    readonly pick: number,
    readonly i: number,
  ) {}
  check = (m: Model): boolean => m.reservations[this.handle]!.length > 0;
  run(m: Model, r: Real): void {
    const all = m.reservations[this.handle]!;
    const res = all[all.length - 1 - (this.pick % all.length)]!;
    const first = m.offsetOf(res.records[0]!.pos);
    const expected = m.batchOffset(this.handle, first, this.i);
    let got: number | string;
    try {
      got = r.handles[this.handle]!.batchOffset(first, this.i);
    } catch (err) {
      got = String((err as { code?: string }).code);
    }
    if (got !== (expected ?? 'ERR_RINGBUF_OFFSET')) {
      throw new Error(
        `${this.toString()}: batchOffset(${first}, ${this.i}) = ${got}, model ${expected ?? 'ERR_RINGBUF_OFFSET'}`,
      );
    }
  }
  toString = (): string => `h${this.handle}.batchOffset(reservation -${this.pick}, ${this.i})`;
}

class ConsumeCmd implements Cmd {
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    r.delivered.length = 0;
    r.consumer.consume();
    const expected: number[] = [];
    while (m.live.length > 0 && m.live[0]!.state !== 'busy') {
      const rec = m.live.shift()!;
      if (rec.state === 'committed') expected.push(rec.tag);
      m.cons = rec.pos + rec.fp;
    }
    if (r.delivered.join() !== expected.join())
      throw new Error(`consume delivered [${r.delivered.join()}], model [${expected.join()}]`);
    checkPositions(m, r, 'consume');
  }
  toString = (): string => 'consume';
}

const handleArb = fc.nat(HANDLES - 1);
/**
 * Batches, single commits and consumes twice as likely as the rest: held batches, partly committed, over reused space.
 */
const commandArbs = [
  fc.tuple(handleArb, fc.constantFrom(...SIZES)).map(([h, s]) => new ReserveCmd(h, s, 1)),
  fc
    .tuple(handleArb, fc.constantFrom(...SIZES.slice(0, 4)), fc.integer({ min: 1, max: 6 }))
    .map(([h, s, n]) => new ReserveCmd(h, s, n)),
  fc
    .tuple(handleArb, fc.constantFrom(...SIZES.slice(0, 4)), fc.integer({ min: 2, max: 6 }))
    .map(([h, s, n]) => new ReserveCmd(h, s, n)),
  fc.tuple(handleArb, fc.nat(20), fc.boolean()).map(([h, p, d]) => new CommitCmd(h, p, 1, d, true)),
  fc.tuple(handleArb, fc.nat(20), fc.boolean()).map(([h, p, d]) => new CommitCmd(h, p, 1, d, true)),
  fc
    .tuple(handleArb, fc.nat(20), fc.integer({ min: 1, max: 4 }), fc.boolean())
    .map(([h, p, n, d]) => new CommitCmd(h, p, n, d, false)),
  fc
    .tuple(
      handleArb,
      fc.constantFrom<'other' | 'stale' | 'any'>('other', 'stale', 'any'),
      fc.nat(600),
      fc.integer({ min: 1, max: 3 }),
    )
    .map(([h, k, p, n]) => new ForeignCommitCmd(h, k, p, n)),
  fc.tuple(handleArb, fc.nat(8), fc.nat(7)).map(([h, p, i]) => new BatchOffsetCmd(h, p, i)),
  fc.constant(new ConsumeCmd()),
  fc.constant(new ConsumeCmd()),
];
const startArb = fc.constantFrom(0, 2 ** 32 - SIZE, 2 ** 32 - 8 * 8, 4096 * 1000 + 8 * 37);

const seed = seedFromEnv() | 0;
const RUNS = 4000;

for (const publish of ['record', 'pass'] as const) {
  test(
    `model: with ${publish === 'record' ? 'per-record' : 'per-pass'} publishing, each handle commits exactly ` +
      `what it still holds, batchOffset answers as the model, the consumer delivers every committed record once in ` +
      `order`,
    (t) => {
      t.log(`fast-check seed=${seed} (RINGBUF_SEED=${seed >>> 0} replays it), ${RUNS} runs`);
      let runs = 0;
      fc.assert(
        fc.property(startArb, fc.commands(commandArbs, { maxCommands: 120, size: 'max' }), (start, cmds) => {
          runs++;
          const first = RingBuffer.create({ size: SIZE, producerId: 1, startPos: start });
          const handles = [
            first,
            ...Array.from({ length: HANDLES - 1 }, (_, k) => RingBuffer.attach(first.share(), { producerId: k + 2 })),
          ];
          const delivered: number[] = [];
          const consumer = new Consumer(
            RingBuffer.attach(first.share(), { producerId: 99 }),
            (data, offset) => {
              delivered.push(new DataView(data.buffer, data.byteOffset).getUint32(offset, true));
            },
            { publish },
          );
          try {
            fc.modelRun(() => ({ model: new Model(start), real: { handles, consumer, delivered } }), cmds);
          } finally {
            consumer.close();
          }
        }),
        { seed, numRuns: RUNS },
      );
      t.is(runs, RUNS);
    },
  );
}

test(
  'the reproduction of the aliasing defect: a new batch on a consumed record of a held batch leaves both ' +
    'committable',
  (t) => {
    const A = RingBuffer.create({ size: 4096, producerId: 5 });
    const c = new Consumer(RingBuffer.attach(A.share(), { producerId: 9 }), () => {});
    const Z = A.reserveBatch(8, 2);
    const O = A.reserveBatch(504, 6);
    const Y = A.reserveBatch(8, 2);
    const o = [0, 1, 2, 3, 4, 5].map((i) => A.batchOffset(O, i));
    A.submitBatch(Z, 2);
    for (let i = 0; i < 4; i++) A.submit(o[i]!);
    c.consume();
    A.submit(A.reserve(472));
    const N = A.reserveBatch(504, 2); // record 1 lands on O's first record's old offset
    t.is(A.batchOffset(N, 1), O);
    A.submitBatch(Y, 2);
    A.submit(A.batchOffset(N, 1));
    A.submit(A.batchOffset(N, 0));
    A.submit(o[4]!);
    A.submit(o[5]!); // was ERR_RINGBUF_NOT_BUSY: the ring wedged behind O's last record
    t.is(c.consume(), 7, "Y (2), the 472-byte record, N (2) and O's last two");
    t.is(A.query(BPF_RB_CONS_POS), A.query(BPF_RB_PROD_POS), 'nothing left behind a BUSY record');
    // submitBatch over two separate single reservations is refused, and both stay committable.
    const s1 = A.reserve(8);
    const s2 = A.reserve(8);
    t.is(s2, s1 + 16);
    t.throws(() => A.submitBatch(s1, 2), { code: 'ERR_RINGBUF_NOT_BUSY' });
    A.submit(s2);
    A.submit(s1);
    t.is(c.consume(), 2);
  },
);
