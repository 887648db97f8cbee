/**
 * The four bpf-rb litmus tests (spec §8, `Documentation/litmus-tests/bpf-rb/bpf-rb+{1p1c,2p1c}+
 * {bounded,unbound}.litmus` as posted in 2020) run as real worker threads, 500 rounds each, every
 * round on a fresh ring started at a seeded random position. The `exists` clauses ("Result: Always")
 * become acceptance properties checked on every round: no read of an unexpected slot, never a
 * garbage length, dropped + accepted = attempts, consumed <= committed, and the listed final
 * positions (px, cx in records) and committed lengths.
 *
 * "Bounded" means capacity one: a 4096-byte ring and a 3000-byte payload (footprint 3008 <= mask, so
 * one fits; 2 * 3008 > 4095, so two never do). "Unbound": the same payload in an 8192-byte ring.
 */
import test from 'ava';
import { BPF_RB_CONS_POS, BPF_RB_PROD_POS, RingBuffer, recordFootprint } from '@ringbuf/core';
import { mulberry32, seedFromEnv } from './helpers/prng.js';
import { firstFew, reports, start, type Running } from './fixtures/stress-harness.js';
import { createControl } from './fixtures/stress-layout.js';
import type { LitmusConfig, LitmusReport } from './fixtures/stress-litmus.js';

const ROUNDS = 500;
const PAYLOAD = 3000;
const FOOTPRINT = recordFootprint(PAYLOAD);
const BOUNDED_RING = 4096;
const UNBOUND_RING = 8192;
const FIXTURE = new URL('./fixtures/stress-litmus.js', import.meta.url);

interface Outcome {
  dropped: number;
  px: number;
  cx: number;
}

interface Scenario {
  name: string;
  producers: 1 | 2;
  ringSize: number;
  /** The consumer's passes per round ("the consumer tries twice" in 2p1c). */
  tries: number;
  /** The `exists` clause on the final state, besides the properties common to all four. */
  exists: (o: Outcome) => boolean;
  clause: string;
}

const oneOf = (x: number, values: readonly number[]): boolean => values.includes(x);

const scenarios: Scenario[] = [
  {
    name: 'bpf-rb+1p1c+bounded',
    producers: 1,
    ringSize: BOUNDED_RING,
    tries: 1,
    exists: (o) => o.dropped === 0 && o.px === 1 && oneOf(o.cx, [0, 1]),
    clause: 'dropped=0 /\\ px=1 /\\ len1=1 /\\ cx in {0,1}',
  },
  {
    name: 'bpf-rb+1p1c+unbound',
    producers: 1,
    ringSize: UNBOUND_RING,
    tries: 1,
    exists: (o) => o.px === 1 && oneOf(o.cx, [0, 1]),
    clause: 'px=1 /\\ len1=1 /\\ cx in {0,1}',
  },
  {
    name: 'bpf-rb+2p1c+bounded',
    producers: 2,
    ringSize: BOUNDED_RING,
    tries: 2,
    exists: (o) =>
      (o.dropped === 0 && o.px === 2 && oneOf(o.cx, [1, 2])) || (o.dropped === 1 && o.px === 1 && oneOf(o.cx, [0, 1])),
    clause: 'len1=1 /\\ ((dropped=0 /\\ px=2 /\\ cx in {1,2}) \\/ (dropped=1 /\\ px=1 /\\ cx in {0,1}))',
  },
  {
    name: 'bpf-rb+2p1c+unbound',
    producers: 2,
    ringSize: UNBOUND_RING,
    tries: 2,
    exists: (o) => o.dropped === 0 && o.px === 2 && oneOf(o.cx, [0, 1, 2]),
    clause: 'px=2 /\\ len1=1 /\\ len2=1 /\\ cx in {0,1,2}',
  },
];

for (const [scenarioIndex, scenario] of scenarios.entries()) {
  test.serial(`${scenario.name}: the exists clause holds in every one of ${ROUNDS} racing rounds`, async (t) => {
    const seed = seedFromEnv();
    t.log(`seed=${seed} (replay with RINGBUF_SEED=${seed})`);
    const rng = mulberry32(seed ^ scenarioIndex);
    // Fresh ring per round, starting anywhere (8-aligned), including just below the 2^32 wrap.
    const startPositions: number[] = [];
    const rings: RingBuffer[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const startPos = rng.chance(0.25) ? 2 ** 32 - 8 * rng.int(1, 1024) : 8 * rng.int(0, 2 ** 29 - 1);
      startPositions.push(startPos | 0);
      rings.push(RingBuffer.create({ size: scenario.ringSize, startPos, producerId: 100 }));
    }
    const control = createControl();
    const parties = scenario.producers + 1;
    const base = {
      producers: scenario.producers,
      rings: rings.map((ring) => ring.buffer),
      control,
      parties,
      payload: PAYLOAD,
      consumerTries: scenario.tries,
      barrierTimeoutMs: 10_000,
      maxExamples: 5,
    };
    const running: Running<LitmusReport>[] = [];
    for (let p = 0; p < scenario.producers; p++) {
      running.push(start(`producer ${p}`, FIXTURE, { ...base, role: 'producer', index: p } satisfies LitmusConfig));
    }
    running.push(start('consumer', FIXTURE, { ...base, role: 'consumer', index: 0 } satisfies LitmusConfig));
    const all = await reports(running, 60_000, scenario.name);
    for (const report of all) t.is(report.error, undefined, report.error);
    const consumerReport = all[all.length - 1]!;
    const producerReports = all.slice(0, -1);
    t.is(consumerReport.violationCount, 0, `consumer saw bad records:\n  ${firstFew(consumerReport.violations)}`);

    const failures: string[] = [];
    const tally = new Map<string, number>();
    for (let r = 0; r < ROUNDS; r++) {
      const ring = rings[r]!;
      const startPos = startPositions[r]!;
      const prodBytes = (ring.query(BPF_RB_PROD_POS) - startPos) >>> 0;
      const consBytes = (ring.query(BPF_RB_CONS_POS) - startPos) >>> 0;
      const outcome: Outcome = {
        dropped: producerReports.reduce((n, p) => n + p.dropped[r]!, 0),
        px: prodBytes / FOOTPRINT,
        cx: consBytes / FOOTPRINT,
      };
      const accepted = scenario.producers - outcome.dropped;
      const consumed = consumerReport.consumed[r]!;
      const problems: string[] = [];
      if (!Number.isInteger(outcome.px) || !Number.isInteger(outcome.cx))
        problems.push(`positions off the record grid (prod +${prodBytes}, cons +${consBytes})`);
      if (outcome.px !== accepted)
        problems.push(
          `px=${outcome.px} but ${accepted} reservation(s) accepted (dropped + accepted must equal attempts)`,
        );
      if (consumed > accepted) problems.push(`consumed ${consumed} > committed ${accepted}`);
      if (consumed !== outcome.cx) problems.push(`delivered ${consumed} but cx=${outcome.cx}`);
      // len_k = 1. Slots below cx were checked when delivered (exact length, every byte); their
      // space may since hold a later slot (capacity one). Every slot still unconsumed must end
      // committed, with the exact length and no flag bits.
      for (let k = outcome.cx; k < outcome.px; k++) {
        const header = ring.view.getUint32((startPos + k * FOOTPRINT) & ring.mask, true);
        if (header !== PAYLOAD)
          problems.push(`len${k + 1} header 0x${header.toString(16)}, expected committed length ${PAYLOAD}`);
      }
      if (!scenario.exists(outcome)) problems.push(`exists clause "${scenario.clause}" false`);
      const key = `dropped=${outcome.dropped} px=${outcome.px} cx=${outcome.cx}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      if (problems.length > 0) failures.push(`round ${r} (${key}): ${problems.join('; ')}`);
    }
    t.log(`outcomes over ${ROUNDS} rounds: ${[...tally].map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    t.is(failures.length, 0, `${failures.length} round(s) violate the litmus properties:\n  ${firstFew(failures)}`);
  });
}
