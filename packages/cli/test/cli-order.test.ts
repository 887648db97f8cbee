/**
 * `ringbuf order` end to end: the causal chain through one shared ring shows no violation, through
 * per-producer rings drained in turn it shows some; JSON shape, table, bad options.
 */
import test from 'ava';
import { badOptionTests, runSeeded } from './cli-run.js';

interface Side {
  events: number;
  violations: number;
  lost: number;
  duplicates: number;
  examples: Array<{ kind: string; expected: number; got: number }>;
}
interface OrderJson {
  ring: Side;
  perProducerRings: Side;
  producers: number;
  seed: number;
  ok: boolean;
}

test.serial(
  'order --json: zero causal violations through the shared ring, some through per-producer rings',
  async (t) => {
    const { code, stdout, stderr, seed } = await runSeeded(t, ['order', '--events', '6000', '--json']);
    t.is(code, 0, stderr);
    const lines = stdout.trim().split('\n');
    t.is(lines.length, 1, 'exactly one JSON object on stdout');
    const r = JSON.parse(lines[0] ?? '') as OrderJson;
    t.is(r.seed, seed);
    t.is(r.producers, 3);
    t.is(r.ring.events, 6000);
    t.is(r.ring.violations, 0);
    t.is(r.ring.lost, 0);
    t.is(r.ring.duplicates, 0);
    t.is(r.perProducerRings.events, 6000);
    t.true(r.perProducerRings.violations > 0, `per-producer rings showed ${r.perProducerRings.violations} violations`);
    t.is(r.perProducerRings.lost, 0);
    t.is(r.perProducerRings.duplicates, 0);
    // Every example is an event delivered after a later one.
    t.true(r.perProducerRings.examples.length > 0);
    for (const v of r.perProducerRings.examples) {
      t.is(v.kind, 'causal');
      t.true(v.got < v.expected);
    }
    t.true(r.ok);
  },
);

test.serial('order prints both designs side by side with examples of reordered events', async (t) => {
  const { code, stdout, stderr } = await runSeeded(t, ['order', '--events', '3000', '--producers', '4']);
  t.is(code, 0, stderr);
  t.regex(stdout, /^one shared MPSC ring \(BPF ringbuf\)\s+3000\s+0\s+0 \/ 0/m);
  t.regex(stdout, /^per-producer rings, drained in turn \(perf buffer\)\s+3000\s+[1-9]\d*\s+0 \/ 0/m);
  t.regex(
    stdout,
    new RegExp(
      '^ {2}#\\d+: (fork|exec|exit) of task \\d+ on cpu \\d \\(token \\d+\\)' +
        ' delivered from ring \\d at position \\d+ after (fork|exec|exit) of task \\d+ on cpu \\d \\(token \\d+\\)$',
      'm',
    ),
  );
  t.regex(stdout, /OK: the shared ring delivered every event in causal order\./);
});

const bad: Array<[string[], RegExp]> = [
  [['order', '--producers', '1'], /--producers: '1' is not an integer from 2 to 64/],
  [['order', '--events', 'many'], /--events: 'many' is not an integer/],
  [['order', '--wakeup', 'x'], /--wakeup: 'x' is not one of self, none, force, sampled:N/],
  [['order', '--ring-size', '1000'], /--ring-size: '1000' is not a power of two/],
  [['order', '--examples', '99'], /--examples: '99' is not an integer from 0 to 16/],
];
badOptionTests(test, bad);
