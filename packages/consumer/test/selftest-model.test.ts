/**
 * The ring against an independent model of the kernel's positions, single-threaded:
 * - seeded randomized laps (~100 laps around 4096/8192-byte rings, from 0 and across the 2^32 wrap)
 *   with several outstanding reservations committed out of order, canaries around every payload,
 *   records straddling the end of the data area checked explicitly;
 * - a fast-check property over arbitrary reserve/submit/discard/output/consume sequences.
 * After every step: producer_pos, consumer_pos, pending_pos, avail_data and ring_size equal the
 * model's (mod 2^32), every unconsumed record's header, payload and padding are intact, and the
 * consumer delivered exactly the committed records, in reservation order, with their contents.
 *
 * Replay a failure with RINGBUF_SEED=<seed printed by the test>.
 */
import test from 'ava';
import fc from 'fast-check';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  RingBufRangeError,
  RingBuffer,
  layout,
} from '@ringbuf/core';
import { Consumer } from '../src/index.js';
import { mulberry32, seedFromEnv, type Prng } from './helpers/prng.js';

/** Padding bytes between a payload's end and its footprint's end. */
const CANARY = 0xa5;
const PRODUCER_ID = 5;

const u32 = (x: number): number => x >>> 0;
/** round_up(size + 8, 8), computed here independently of the library. */
const footprint = (size: number): number => Math.ceil((size + 8) / 8) * 8;

type RecState = 'busy' | 'committed' | 'discarded';

interface ModelRecord {
  /** Logical position of the header (u32). */
  pos: number;
  size: number;
  len: number;
  state: RecState;
  /** Payload offset the ring returned. */
  off: number;
  /** The bytes written into the payload. */
  bytes: Uint8Array;
}

/** A mismatch between the ring and the model. */
class ModelError extends Error {}

export interface HarnessStats {
  steps: number;
  reserved: number;
  refused: number;
  oversize: number;
  committed: number;
  discarded: number;
  delivered: number;
  /** Records whose footprint runs past the end of the data area. */
  straddlers: number;
  /** Records whose payload itself crosses the end of the data area (starts before it, ends after). */
  payloadStraddlers: number;
  /** Bytes the producer position advanced in total (laps = advanced / size). */
  advanced: number;
}

class Harness {
  readonly ring: RingBuffer;
  readonly consumer: Consumer;
  readonly size: number;
  readonly mask: number;
  readonly i32: Int32Array;
  readonly start: number;
  prod: number;
  cons: number;
  pend: number;
  /** Every record from min(cons, pend) to prod, in position order. */
  readonly window: ModelRecord[] = [];
  /** Reserved and not yet committed, in reservation order. */
  readonly outstanding: ModelRecord[] = [];
  readonly stats: HarnessStats = {
    steps: 0,
    reserved: 0,
    refused: 0,
    oversize: 0,
    committed: 0,
    discarded: 0,
    delivered: 0,
    straddlers: 0,
    payloadStraddlers: 0,
    advanced: 0,
  };
  private expected: ModelRecord[] = [];
  private nextExpected = 0;

  constructor(
    size: number,
    startPos: number,
    private readonly rnd: Prng,
  ) {
    this.ring = RingBuffer.create({ size, startPos, producerId: PRODUCER_ID });
    this.size = size;
    this.mask = size - 1;
    this.i32 = new Int32Array(this.ring.buffer);
    this.start = u32(startPos);
    this.prod = this.cons = this.pend = this.start;
    this.consumer = new Consumer(this.ring, (data, off, sz) => this.onSample(data, off, sz));
  }

  private fail(msg: string): never {
    throw new ModelError(
      `step ${this.stats.steps}: ${msg} (model prod ${this.prod}, cons ${this.cons}, pend ${this.pend})`,
    );
  }

  private recordAt(pos: number): ModelRecord | undefined {
    // The window is short (at most size / 8 records); a scan keeps the model obviously right.
    for (const r of this.window) if (r.pos === pos) return r;
    return undefined;
  }

  /** The kernel's pending loop: advance past committed and discarded records, stop at BUSY. */
  private advancePending(): void {
    while (this.pend !== this.prod) {
      const r = this.recordAt(this.pend);
      if (r === undefined) this.fail(`no record framed at pending position ${this.pend}`);
      if (r.state === 'busy') break;
      this.pend = u32(this.pend + r.len);
    }
  }

  /** Whether position `pos` has moved past the whole record `r` (positions are within a lap). */
  private passed(pos: number, r: ModelRecord): boolean {
    const d = u32(pos - r.pos);
    return d >= r.len && d <= this.size;
  }

  /** Drop records behind both consumer_pos and pending_pos. */
  private trim(): void {
    while (this.window.length > 0) {
      const r = this.window[0]!;
      if (!(this.passed(this.cons, r) && this.passed(this.pend, r))) break;
      this.window.shift();
    }
  }

  reserve(size: number, viaOutput = false, flags = 0): void {
    this.stats.steps++;
    if (size > this.ring.maxPayload) {
      this.stats.oversize++;
      let code: string | undefined;
      try {
        if (viaOutput) this.ring.output(new Uint8Array(size), flags);
        else this.ring.reserve(size);
      } catch (e) {
        if (e instanceof RingBufRangeError) code = e.code;
      }
      if (code !== 'ERR_RINGBUF_RECORD_SIZE')
        this.fail(`oversize ${size} was not refused with ERR_RINGBUF_RECORD_SIZE`);
      this.check();
      return;
    }
    const len = footprint(size);
    const newProd = u32(this.prod + len);
    this.advancePending();
    const fits = u32(newProd - this.pend) <= this.mask && u32(newProd - this.cons) <= this.mask;
    const bytes = new Uint8Array(size);
    this.rnd.fill(bytes);
    const expectedOff = (this.prod & this.mask) + 8;
    let off: number;
    if (viaOutput) {
      const ok = this.ring.output(bytes, flags);
      off = ok ? expectedOff : -1;
      if (ok && !fits) this.fail(`output of ${size} succeeded but the model says it does not fit`);
      if (!ok && fits) this.fail(`output of ${size} failed but the model says it fits`);
    } else {
      off = this.ring.reserve(size);
      if (!fits) {
        if (off !== -1) this.fail(`reserve(${size}) returned ${off} but the model says it does not fit`);
      } else if (off !== expectedOff) {
        this.fail(`reserve(${size}) returned ${off}, the model expects ${expectedOff}`);
      }
    }
    if (!fits) {
      this.stats.refused++;
      this.check();
      return;
    }
    const rec: ModelRecord = { pos: this.prod, size, len, state: viaOutput ? 'committed' : 'busy', off, bytes };
    if (!viaOutput) {
      this.ring.data.set(bytes, off);
      this.outstanding.push(rec);
    } else {
      this.stats.committed++;
    }
    // Canary: the padding up to the footprint's end.
    this.ring.data.fill(CANARY, off + size, off - 8 + len);
    this.window.push(rec);
    this.prod = newProd;
    this.stats.reserved++;
    this.stats.advanced += len;
    if ((rec.pos & this.mask) + len > this.size) this.stats.straddlers++;
    if (off < this.size && off + size > this.size) this.stats.payloadStraddlers++;
    this.check();
  }

  /** Commit the i-th outstanding reservation (out of order when i > 0). */
  commit(i: number, discard: boolean, flags: number): void {
    this.stats.steps++;
    if (this.outstanding.length === 0) return;
    const [rec] = this.outstanding.splice(i % this.outstanding.length, 1);
    if (discard) {
      this.ring.discard(rec!.off, flags);
      rec!.state = 'discarded';
      this.stats.discarded++;
    } else {
      this.ring.submit(rec!.off, flags);
      rec!.state = 'committed';
      this.stats.committed++;
    }
    this.check();
  }

  /** consumeN(n) (n > 0) or consume() (n undefined): libbpf's walk, modelled. */
  consume(n?: number): void {
    this.stats.steps++;
    const limit = n ?? Number.MAX_SAFE_INTEGER;
    const expected: ModelRecord[] = [];
    let pos = this.cons;
    while (pos !== this.prod) {
      const r = this.recordAt(pos);
      if (r === undefined) this.fail(`no record framed at consumer position ${pos}`);
      if (r.state === 'busy') break;
      pos = u32(pos + r.len);
      if (r.state === 'committed') {
        expected.push(r);
        if (expected.length >= limit) break;
      }
    }
    this.expected = expected;
    this.nextExpected = 0;
    const got = n === undefined ? this.consumer.consume() : this.consumer.consumeN(n);
    if (this.nextExpected !== expected.length)
      this.fail(`delivered ${this.nextExpected} records, the model expects ${expected.length}`);
    if (got !== expected.length) this.fail(`consume returned ${got}, the model expects ${expected.length}`);
    this.stats.delivered += expected.length;
    this.cons = pos;
    this.check();
  }

  private onSample(data: Uint8Array, off: number, size: number): void {
    const r = this.expected[this.nextExpected++];
    if (r === undefined) this.fail(`unexpected delivery of ${size} bytes at ${off}`);
    if (off !== r.off || size !== r.size)
      this.fail(`delivered (${off}, ${size}), the model expects (${r.off}, ${r.size}) at position ${r.pos}`);
    for (let i = 0; i < size; i++) {
      if (data[off + i] !== r.bytes[i])
        this.fail(`record at position ${r.pos} delivered with byte ${i} = ${data[off + i]}, written ${r.bytes[i]}`);
    }
  }

  /** Everything observable equals the model. */
  check(): void {
    const ring = this.ring;
    if (ring.query(BPF_RB_PROD_POS) !== this.prod) this.fail(`query(PROD_POS) = ${ring.query(BPF_RB_PROD_POS)}`);
    if (ring.query(BPF_RB_CONS_POS) !== this.cons) this.fail(`query(CONS_POS) = ${ring.query(BPF_RB_CONS_POS)}`);
    if (ring.query(BPF_RB_AVAIL_DATA) !== u32(this.prod - this.cons))
      this.fail(`query(AVAIL_DATA) = ${ring.query(BPF_RB_AVAIL_DATA)}`);
    if (ring.query(BPF_RB_RING_SIZE) !== this.size) this.fail(`query(RING_SIZE) = ${ring.query(BPF_RB_RING_SIZE)}`);
    if (u32(this.i32[layout.PENDING_POS_INDEX]!) !== this.pend)
      this.fail(`pending_pos = ${u32(this.i32[layout.PENDING_POS_INDEX]!)}`);
    this.trim();
    const data = ring.data;
    for (const r of this.window) {
      // Only records the consumer has not passed are guaranteed intact.
      if (u32(r.pos - this.cons) >= this.size) continue;
      const hdrIndex = layout.headerIndex(r.pos & this.mask);
      const flags =
        r.state === 'busy' ? layout.BPF_RINGBUF_BUSY_BIT : r.state === 'discarded' ? layout.BPF_RINGBUF_DISCARD_BIT : 0;
      if (u32(this.i32[hdrIndex]!) !== u32(r.size | flags))
        this.fail(`header at position ${r.pos} is ${u32(this.i32[hdrIndex]!).toString(16)}`);
      if (this.i32[hdrIndex + layout.HDR_OWNER_WORD] !== PRODUCER_ID)
        this.fail(`owner word at position ${r.pos} is wrong`);
      for (let i = 0; i < r.size; i++) {
        if (data[r.off + i] !== r.bytes[i])
          this.fail(`payload byte ${i} of the record at position ${r.pos} was overwritten`);
      }
      for (let i = r.off + r.size; i < r.off - 8 + r.len; i++) {
        if (data[i] !== CANARY) this.fail(`canary after the record at position ${r.pos} was overwritten (byte ${i})`);
      }
    }
  }

  close(): void {
    this.consumer.close();
  }
}

/** A payload size: mostly small, sometimes large, rarely up to maxPayload or beyond it. */
function randomSize(rnd: Prng, maxPayload: number): number {
  const r = rnd.next();
  if (r < 0.55) return rnd.int(0, 64);
  if (r < 0.8) return rnd.int(65, 512);
  if (r < 0.97) return rnd.int(513, maxPayload >> 1);
  if (r < 0.99) return rnd.int(maxPayload >> 1, maxPayload);
  return maxPayload + rnd.int(1, 16);
}

const FLAGS = [0, 0, BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP] as const;

function runLaps(size: number, startPos: number, seed: number, laps: number): HarnessStats {
  const rnd = mulberry32(seed);
  const h = new Harness(size, startPos, rnd);
  try {
    let maxOutstanding = 1;
    while (h.stats.advanced < laps * size) {
      if (rnd.chance(0.01)) maxOutstanding = rnd.int(1, 6);
      const r = rnd.next();
      if (r < 0.45 && h.outstanding.length < maxOutstanding) {
        h.reserve(randomSize(rnd, h.ring.maxPayload));
      } else if (r < 0.5) {
        h.reserve(randomSize(rnd, h.ring.maxPayload), true, rnd.pick(FLAGS));
      } else if (r < 0.8 && h.outstanding.length > 0) {
        h.commit(rnd.int(0, h.outstanding.length - 1), rnd.chance(0.2), rnd.pick(FLAGS));
      } else if (rnd.chance(0.5)) {
        h.consume(rnd.int(1, 8));
      } else {
        h.consume();
      }
    }
    return h.stats;
  } finally {
    h.close();
  }
}

const baseSeed = seedFromEnv();

const lapCases: Array<{ size: number; start: number; label: string }> = [];
for (const size of [4096, 8192]) {
  lapCases.push({ size, start: 0, label: 'from position 0' });
  lapCases.push({ size, start: 2 ** 32 - 3 * size, label: 'from 2^32 - 3*size across the wrap' });
}

lapCases.forEach(({ size, start, label }, i) => {
  test(
    `100 random laps around a ${size}-byte ring ${label} match the position model, deliver in reservation order ` +
      `with contents and canaries intact`,
    (t) => {
      const seed = u32(baseSeed + i);
      t.log(`seed=${seed} (RINGBUF_SEED=${baseSeed} replays this file)`);
      let stats: HarnessStats | undefined;
      try {
        stats = runLaps(size, start, seed, 100);
      } catch (e) {
        if (e instanceof ModelError) t.fail(`seed ${seed}: ${e.message}`);
        throw e;
      }
      t.log(JSON.stringify(stats));
      t.true(stats.advanced >= 100 * size, 'at least 100 laps');
      t.true(stats.straddlers > 0, 'some records ran past the end of the data area');
      t.true(stats.payloadStraddlers > 0, 'some payloads crossed the end of the data area (mirror tail)');
      t.true(stats.refused > 0, 'the ring was full at times');
      t.true(stats.discarded > 0 && stats.delivered > 0);
      if (start !== 0) t.true(start + stats.advanced > 2 ** 32, 'the positions wrapped past 2^32');
    },
  );
});

type Cmd =
  | { t: 'reserve'; size: number }
  | { t: 'output'; size: number; flags: number }
  | { t: 'submit'; i: number; flags: number }
  | { t: 'discard'; i: number; flags: number }
  | { t: 'consumeN'; n: number }
  | { t: 'consume' };

const SIZE = 4096;
const maxPayload = SIZE - 16;
const flagsArb = fc.constantFrom(0, BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP);
const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 96 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: maxPayload }) },
  { weight: 1, arbitrary: fc.integer({ min: maxPayload - 8, max: maxPayload + 16 }) },
);
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: sizeArb.map((size) => ({ t: 'reserve' as const, size })) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('output' as const), size: sizeArb, flags: flagsArb }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('submit' as const), i: fc.nat(7), flags: flagsArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('discard' as const), i: fc.nat(7), flags: flagsArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('consumeN' as const), n: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'consume' as const }) },
);
const startArb = fc.oneof(
  fc.constantFrom(0, 2 ** 32 - SIZE, 2 ** 32 - 8, 2 ** 32 - 2 * SIZE + 40),
  fc.nat(2 ** 29 - 1).map((x) => x * 8),
);

test(
  'property: after every command of any reserve/submit/discard/output/consume sequence, the ring equals the ' + 'model',
  (t) => {
    const seed = baseSeed | 0;
    t.log(`fast-check seed=${seed} (RINGBUF_SEED=${baseSeed} replays it)`);
    let runs = 0;
    fc.assert(
      fc.property(startArb, fc.array(cmdArb, { maxLength: 120 }), fc.integer(), (start, cmds, payloadSeed) => {
        runs++;
        const h = new Harness(SIZE, start, mulberry32(payloadSeed));
        try {
          for (const c of cmds) {
            switch (c.t) {
              case 'reserve':
                h.reserve(c.size);
                break;
              case 'output':
                h.reserve(c.size, true, c.flags);
                break;
              case 'submit':
                h.commit(c.i, false, c.flags);
                break;
              case 'discard':
                h.commit(c.i, true, c.flags);
                break;
              case 'consumeN':
                h.consume(c.n);
                break;
              case 'consume':
                h.consume();
                break;
            }
          }
        } finally {
          h.close();
        }
      }),
      { seed, numRuns: 250 },
    );
    t.is(runs, 250);
  },
);
