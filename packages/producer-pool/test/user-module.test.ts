/**
 * A scenario's producer module that misbehaves: one whose init() throws ends the run with a
 * ProducerModuleError; one whose write() always throws is replaced at most MAX_STARTUP_DEATHS times
 * per slot; one stuck in write() is ended by terminateProducer (its reservation discarded, counted
 * abandoned, reported with cause 'watchdog', not replaced).
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { ProducerModuleError, ProducerPool } from '../src/index.js';
import { MAX_STARTUP_DEATHS } from '../src/pool.js';
import { BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, recordFootprint } from '@ringbuf/core';
import { RingBuffer, testSeed } from './helpers.js';

const MODULE = fileURLToPath(new URL('./fixtures/user-modules.js', import.meta.url));

function pool(
  mode: string,
  scenario: { records?: number; durationMs?: number },
  producers = 2,
): { pool: ProducerPool; ring: RingBuffer } {
  const ring = RingBuffer.create({ size: 16384 });
  const seed = testSeed();
  return {
    ring,
    pool: new ProducerPool({
      ring: ring.share(),
      producers,
      scenario: { ...scenario, producerModule: MODULE, producerOptions: { mode } },
      seed,
      logLevel: 'silent',
    }),
  };
}

test(
  'a producer module whose init() throws: run() stops and rejects with a ProducerModuleError naming what failed; ' +
    'nothing reached the ring',
  async (t) => {
    const { pool: p, ring } = pool('init-throws', { durationMs: 5000 });
    const started = performance.now();
    const err = await t.throwsAsync(p.run(), { instanceOf: ProducerModuleError });
    t.true(performance.now() - started < 4000, 'not the 5 s duration');
    t.is(err?.code, 'ERR_POOL_PRODUCER_MODULE');
    t.is(err?.reason, 'init() threw TypeError: bad options');
    t.true(err?.module.endsWith('/fixtures/user-modules.js'));
    t.is(ring.producerPos(), 0);
  },
);

test(
  'a write() that always throws: each slot is refilled until MAX_STARTUP_DEATHS deaths in a row, ' + 'then given up',
  async (t) => {
    const { pool: p } = pool('throws', { durationMs: 5000 });
    const started = performance.now();
    const result = await p.run();
    t.true(performance.now() - started < 4000, 'the given-up slots end the run');
    t.is(result.deaths.length, 2 * MAX_STARTUP_DEATHS);
    for (const d of result.deaths) {
      t.is(d.cause, 'crashed');
      t.is(d.error, 'no encoding for 0');
      t.is(d.lastCommittedSeq, -1);
    }
    t.is(
      result.totals.attempted,
      result.totals.committed + result.totals.abandoned + result.totals.discarded + result.totals.dropped,
    );
  },
);

test(
  'terminateProducer ends a producer stuck in write(): its reservation discarded (abandoned), ' +
    'cause watchdog, not replaced',
  async (t) => {
    const { pool: p, ring } = pool('stuck', { records: 100 }, 1);
    const running = p.run();
    // Observed, never slept for: the producer has seq 5 in hand and makes no progress.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const r = p.stats()[0];
        if (r !== undefined && r.attempted === 6 && r.inFlight === 1) resolve();
        else setTimeout(check, 5);
      };
      check();
    });
    t.false(p.terminateProducer(999, 'no such producer'));
    const id = p.stats()[0]?.producerId ?? -1;
    t.deepEqual(
      p.liveStats().map((r) => [r.producerId, r.state, r.inFlight, r.lastCommittedSeq]),
      [[id, 'running', 1, 4]],
    );
    t.true(p.terminateProducer(id, 'stuck on record seq 5'));
    const result = await running;
    t.deepEqual(p.liveStats(), []);
    t.is(result.deaths.length, 1);
    const d = result.deaths[0];
    t.is(d?.cause, 'watchdog');
    t.is(d?.error, 'stuck on record seq 5');
    t.is(d?.recordsDiscarded, 1);
    t.is(d?.inHand, 'abandoned');
    t.is(d?.replacedBy, undefined);
    t.is(d?.lastCommittedSeq, 4);
    t.deepEqual(result.totals.committed, 5);
    t.deepEqual(result.totals.abandoned, 1);
    // The ring holds the five commits and the discarded sixth record; nothing is left BUSY.
    const headers: string[] = [];
    for (let pos = ring.consumerPos(); pos < ring.producerPos();) {
      const h = ring.headerAt(pos & (ring.size - 1));
      headers.push(h & BPF_RINGBUF_BUSY_BIT ? 'busy' : h & BPF_RINGBUF_DISCARD_BIT ? 'discarded' : 'committed');
      pos += recordFootprint(h & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT));
    }
    t.deepEqual(headers, ['committed', 'committed', 'committed', 'committed', 'committed', 'discarded']);
  },
);
