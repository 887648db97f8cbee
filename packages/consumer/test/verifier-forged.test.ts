import test from 'ava';
import { RingBuffer, layout } from '@ringbuf/core';
import { Consumer, ConsumerRuntime, OrderingVerifier, formatVerifierReport } from '../src/index.js';
import { writeInstrumented, clockMicros, INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';
import { prng, runProducer, testSeed } from './fixtures/runtime-helpers.js';

const REC = INSTRUMENTED_HEADER_BYTES;
const FOOTPRINT = layout.recordFootprint(REC);

/** Forges instrumented records (producer, seq, token) into a ring, in this order. */
function forge(ring: RingBuffer, records: Array<[producerId: number, seq: number, token?: number]>): void {
  for (const [producerId, seq, token = 0] of records) {
    const off = ring.reserve(REC);
    writeInstrumented(ring.view, off, producerId, seq, clockMicros(), token, 0);
    ring.submit(off, 0);
  }
}

/** Consumes `ring` on this thread through a verifier whose positions come from consumer_pos. */
function verifyRing(ring: RingBuffer, verifier: OrderingVerifier): number {
  const view = ring.view;
  const consumer = new Consumer(ring, (_data, offset, size) => {
    verifier.check(view, offset, size, 0);
  });
  const n = consumer.consume();
  consumer.close();
  return n;
}

function positionsVerifier(
  ring: RingBuffer,
  extra: ConstructorParameters<typeof OrderingVerifier>[0] = {},
): OrderingVerifier {
  return new OrderingVerifier({ ...extra, positionOf: () => ring.query(2) });
}

test('honest traffic from one producer passes with no violation', (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const v = positionsVerifier(ring);
  forge(ring, [
    [1, 0],
    [1, 1],
    [2, 0],
    [1, 2],
    [2, 1],
  ]);
  t.is(verifyRing(ring, v), 5);
  const r = v.report({ 1: 3, 2: 2 });
  t.true(r.ok);
  t.is(r.violations, 0);
  t.deepEqual(r.examples, []);
  t.deepEqual(
    r.producers.map((p) => [p.producerId, p.records, p.nextSeq, p.missing]),
    [
      [1, 3, 3, 0],
      [2, 2, 2, 0],
    ],
  );
  t.regex(formatVerifierReport(r), /^ordering ok/);
});

test('a planted gap is reported with the producer, expected and received seq, and the ring position', (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const v = positionsVerifier(ring);
  forge(ring, [
    [7, 0],
    [7, 1],
    [7, 4], // 2 and 3 never arrive
    [7, 5],
  ]);
  verifyRing(ring, v);
  const r = v.report();
  t.false(r.ok);
  t.is(r.gaps, 1);
  t.is(r.missing, 2);
  t.deepEqual(r.examples, [
    { kind: 'gap', producerId: 7, expected: 2, got: 4, ring: 0, position: 2 * FOOTPRINT, index: 2 },
  ]);
  t.regex(formatVerifierReport(r), /VIOLATED.*gap producer 7 expected 2 got 4/);
});

test('a planted duplicate and a planted reorder are told apart', (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const v = positionsVerifier(ring);
  forge(ring, [
    [3, 0],
    [3, 1],
    [3, 1], // duplicate of 1
    [3, 3], // gap: 2 missing
    [3, 2], // 2 arrives late: reorder
    [3, 4],
    [3, 0], // delivered before: duplicate
  ]);
  verifyRing(ring, v);
  const r = v.report();
  t.is(r.duplicates, 2);
  t.is(r.gaps, 1);
  t.is(r.reorders, 1);
  t.is(r.missing, 0, 'the late record filled the gap');
  t.deepEqual(
    r.examples.map((e) => [e.kind, e.expected, e.got, e.position]),
    [
      ['duplicate', 2, 1, 2 * FOOTPRINT],
      ['gap', 2, 3, 3 * FOOTPRINT],
      ['reorder', 4, 2, 4 * FOOTPRINT],
      ['duplicate', 5, 0, 6 * FOOTPRINT],
    ],
  );
});

test('a token lower than one already delivered is a causal violation; equal tokens are fine', (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const v = positionsVerifier(ring);
  forge(ring, [
    [1, 0, 1],
    [2, 0, 2],
    [2, 1, 2],
    [1, 1, 4],
    [3, 0, 3], // token 3 after token 4
    [3, 1, 5],
  ]);
  verifyRing(ring, v);
  const r = v.report();
  t.is(r.causal, 1);
  t.is(r.tokenRecords, 6);
  t.is(r.maxToken, 5);
  t.deepEqual(r.examples, [
    { kind: 'causal', producerId: 3, expected: 4, got: 3, ring: 0, position: 4 * FOOTPRINT, index: 4 },
  ]);
});

test('expectFrom, a lost tail against the producers’ counts, short records, and maxExamples', (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const v = new OrderingVerifier({ expectFrom: { 5: 100 }, maxExamples: 2 });
  forge(ring, [
    [5, 100],
    [5, 101],
    [6, 0],
  ]);
  const off = ring.reserve(8);
  ring.submit(off, 0); // too short for the header
  verifyRing(ring, v);
  const r = v.report({ 5: 104, 6: 1, 9: 2 });
  t.is(r.producerErrors, 1);
  t.is(r.missing, 2 + 2, 'producer 5 lost 102..103 at the tail; producer 9 delivered none of 2');
  t.is(r.gaps, 2);
  t.is(r.examples.length, 2);
  t.is(r.examples[0]!.kind, 'producer');
  t.deepEqual(
    r.producers.find((p) => p.producerId === 9),
    { producerId: 9, records: 0, nextSeq: 2, missing: 2 },
  );
  t.throws(() => new OrderingVerifier({ maxExamples: -1 }), { instanceOf: RangeError });
});

test('producer ids beyond the initial arrays grow them; ids beyond maxProducerId are violations', (t) => {
  const view = new DataView(new ArrayBuffer(REC));
  const v = new OrderingVerifier({ maxProducerId: 70000 });
  writeInstrumented(view, 0, 65535, 0, 0, 0, 0);
  t.true(v.check(view, 0, REC));
  writeInstrumented(view, 0, 65535, 1, 0, 0, 0);
  t.true(v.check(view, 0, REC));
  writeInstrumented(view, 0, 70001, 0, 0, 0, 0);
  t.false(v.check(view, 0, REC));
  const r = v.report();
  t.is(r.producerErrors, 1);
  t.is(r.producers.find((p) => p.producerId === 65535)?.nextSeq, 2);
});

test('allowGaps (overwrite mode) accepts losses but still catches a record going backwards', (t) => {
  const view = new DataView(new ArrayBuffer(REC));
  const v = new OrderingVerifier({ allowGaps: true, expectFrom: 'first' });
  for (const seq of [10, 11, 15, 16, 12]) {
    writeInstrumented(view, 0, 1, seq, 0, 0, 0);
    v.check(view, 0, REC);
  }
  const r = v.report();
  t.is(r.skippedGaps, 1);
  t.is(r.gaps, 0);
  t.is(r.reorders, 1);
  t.is(r.violations, 1);
});

test('the runtime verifies forged records in its worker and reports ring positions', async (t) => {
  const ring = RingBuffer.create({ size: 4096, startPos: 2 ** 32 - 64, producerId: 1 });
  forge(ring, [
    [1, 0],
    [1, 2],
  ]);
  const rt = await ConsumerRuntime.start({ rings: [ring], verify: { maxExamples: 4 } });
  const report = await rt.stop({ drain: true, timeoutMs: 1000 });
  const v = report.verifier!;
  t.is(v.gaps, 1);
  t.deepEqual(v.examples, [
    { kind: 'gap', producerId: 1, expected: 1, got: 2, ring: 0, position: (2 ** 32 - 64 + FOOTPRINT) >>> 0, index: 1 },
  ]);
  t.is(report.stats.violations, 1);
});

test('honest multi-producer traffic with a causal token passed around reports no violation', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const rand = prng(seed);
  const ring = RingBuffer.create({ size: 16384 });
  const tokenBuffer = new SharedArrayBuffer(8);
  const rt = await ConsumerRuntime.start({ rings: [ring], verify: true });
  const results = await Promise.all(
    [1, 2, 3].map((producerId) =>
      runProducer({
        share: ring.share(),
        producerId,
        count: 1000 + Math.floor(rand() * 3000),
        seed: (seed + 17 * producerId) >>> 0,
        minSize: 32,
        maxSize: 64,
        discardRate: 0,
        flags: 'mixed',
        pattern: false,
        spinOnFull: true,
        tokenBuffer,
      }),
    ),
  );
  const report = await rt.stop({ drain: true, timeoutMs: 2000 });
  const committed = results.reduce((s, r) => s + r.committed, 0);
  const v = report.verifier!;
  t.is(v.records, committed);
  t.is(v.tokenRecords, committed);
  t.is(v.violations, 0, formatVerifierReport(v));
  t.true(v.ok);
});

/** A filler rule for these tests: byte i of record (p, s) is (s * 7 + p + i) & 0xff. */
function testFiller(bytes: Uint8Array, offset: number, size: number, producerId: number, seq: number): boolean {
  for (let i = REC; i < size; i++) if (bytes[offset + i] !== ((seq * 7 + producerId + i) & 0xff)) return false;
  return true;
}

function writeTestRecord(view: DataView, producerId: number, seq: number, size: number, token = 0, kind = 0): void {
  writeInstrumented(view, 0, producerId, seq, 0, token, kind);
  for (let i = REC; i < size; i++) view.setUint8(i, (seq * 7 + producerId + i) & 0xff);
}

test('with the writer’s filler rule, a torn payload is a violation and intact ones pass', (t) => {
  const view = new DataView(new ArrayBuffer(64));
  const v = new OrderingVerifier({ filler: testFiller });
  writeTestRecord(view, 4, 0, 64);
  t.true(v.check(view, 0, 64));
  writeTestRecord(view, 4, 1, 64);
  view.setUint8(40, view.getUint8(40) ^ 1); // one flipped bit in the filler
  t.false(v.check(view, 0, 64));
  writeTestRecord(view, 4, 2, REC); // no filler at all: nothing to tear
  t.true(v.check(view, 0, REC));
  const r = v.report();
  t.is(r.torn, 1);
  t.is(r.violations, 1);
  t.deepEqual(
    r.examples.map((e) => [e.kind, e.producerId, e.expected, e.got, e.index]),
    [['torn', 4, 1, 1, 1]],
  );
  t.regex(formatVerifierReport(r), /torn 1/);
  t.throws(() => new OrderingVerifier({ filler: 42 as never }), { instanceOf: RangeError });
});

test('a header owner word naming another producer than the payload is a violation', (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  // Each record reserved by a handle with the producer id its payload names, as honest producers do.
  for (const producerId of [1, 2]) forge(RingBuffer.attach(ring.share(), { producerId }), [[producerId, 0]]);
  // Forge the second record's header owner word (a test that corrupts memory on purpose).
  const second = layout.recordFootprint(REC);
  new Int32Array(ring.share().buffer)[layout.headerIndex(second) + layout.HDR_OWNER_WORD] = 9;
  const v = new OrderingVerifier();
  const consumer = new Consumer(ring, (_data, offset, size) => {
    v.check(ring.view, offset, size, 0, ring.headerOwnerAt(offset - layout.BPF_RINGBUF_HDR_SZ));
  });
  t.is(consumer.consume(), 2);
  consumer.close();
  const r = v.report();
  t.is(r.ownerMismatches, 1);
  t.is(r.violations, 1);
  t.deepEqual(
    r.examples.map((e) => [e.kind, e.producerId, e.expected, e.got]),
    [['owner', 2, 2, 9]],
  );
  // Without the owner argument the same records pass: the check is the caller's to enable.
  const plain = new OrderingVerifier();
  const view = new DataView(new ArrayBuffer(REC));
  writeInstrumented(view, 0, 2, 0, 0, 0, 0);
  t.true(plain.check(view, 0, REC));
});

test("tokens: 'chain' wants exactly one event per token, in order, with the causal rule's kind", (t) => {
  const view = new DataView(new ArrayBuffer(REC));
  const v = new OrderingVerifier({ tokens: 'chain' });
  // [producer, seq, token, kind]: kinds follow causalKind (fork 1, exec 2, exit 3, fork 1, ...).
  const rows: Array<[number, number, number, number]> = [
    [1, 0, 1, 1],
    [2, 0, 2, 2],
    [3, 0, 3, 3],
    [1, 1, 4, 2], // wrong kind for token 4 (fork)
    [2, 1, 5, 2], // right
    [3, 1, 5, 2], // the same token twice: not a chain
    [1, 2, 7, 1], // token 6 skipped
  ];
  const results = rows.map(([p, s, token, kind]) => {
    writeInstrumented(view, 0, p, s, 0, token, kind);
    return v.check(view, 0, REC);
  });
  t.deepEqual(results, [true, true, true, false, true, false, false]);
  const r = v.report();
  t.is(r.causal, 3);
  t.is(r.maxToken, 7);
  t.deepEqual(
    r.examples.map((e) => [e.kind, e.expected, e.got]),
    [
      ['causal', 4, 4],
      ['causal', 6, 5],
      ['causal', 6, 7],
    ],
  );
  // The default ('monotonic') accepts the repeated token and the skipped one.
  const m = new OrderingVerifier();
  for (const [p, s, token, kind] of rows) {
    writeInstrumented(view, 0, p, s, 0, token, kind);
    m.check(view, 0, REC);
  }
  t.is(m.report().causal, 0);
  t.throws(() => new OrderingVerifier({ tokens: 'strict' as never }), { instanceOf: RangeError });
});

test('the runtime checks the header owner word against the payload producer id in normal mode', async (t) => {
  // Records written by a handle of producer 5 whose payloads claim producer 1.
  const ring = RingBuffer.create({ size: 4096, producerId: 5 });
  forge(ring, [
    [1, 0],
    [1, 1],
  ]);
  const rt = await ConsumerRuntime.start({ rings: [ring], verify: { maxExamples: 4 } });
  const report = await rt.stop({ drain: true, timeoutMs: 1000 });
  const v = report.verifier!;
  t.is(v.ownerMismatches, 2);
  t.deepEqual(
    v.examples.map((e) => [e.kind, e.expected, e.got]),
    [
      ['owner', 1, 5],
      ['owner', 1, 5],
    ],
  );
});
