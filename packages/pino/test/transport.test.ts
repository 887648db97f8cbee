import test from 'ava';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import pino from 'pino';
import { transport, destination } from '../src/index.js';
import {
  SLOW_MACHINE_MS,
  ABSTRACT_TARGET,
  GATED_TARGET,
  PISCINA_TASK,
  UPPER_TRANSFORM,
  endAndClose,
  lines,
  prng,
  range,
  records,
  seqsByTag,
  startWriter,
  testSeed,
  tmpFile,
  until,
} from './helpers.js';

test.serial(
  'pino/file: the main thread and three workers, every line once, each thread in its own order',
  async (t) => {
    const seed = testSeed();
    t.log(`seed ${seed}`);
    const rand = prng(seed);
    const file = tmpFile('file.log');
    const tr = transport({ target: 'pino/file', options: { destination: file }, blockMs: SLOW_MACHINE_MS });
    const log = pino(tr);
    const counts = [1, 2, 3].map(() => 500 + Math.floor(rand() * 2000));
    const writers = counts.map((count, i) => startWriter({ share: tr.share, tag: `w${i}`, count }));
    for (let seq = 0; seq < 300; seq++) log.info({ tag: 'main', seq });
    t.deepEqual(await Promise.all(writers.map((w) => w.exited)), [0, 0, 0]);
    await endAndClose(tr);
    const bySeq = seqsByTag(records(file));
    t.deepEqual(bySeq.get('main'), range(300));
    counts.forEach((count, i) => t.deepEqual(bySeq.get(`w${i}`), range(count), `w${i}`));
    const stats = tr.stats();
    t.is(stats.all.dropped, 0);
    t.is(stats.all.linesOut, 300 + counts.reduce((a, b) => a + b, 0));
    t.is(stats.all.writers, 4);
    t.is(stats.all.state, 'closed');
  },
);

test.serial(
  "causal order across threads: a line written after another thread's line was observed comes after it in the file",
  async (t) => {
    const file = tmpFile('causal.log');
    const tr = transport({
      target: 'pino/file',
      options: { destination: file },
      ringSize: 1 << 16,
      blockMs: SLOW_MACHINE_MS,
    });
    const progress = new SharedArrayBuffer(8);
    const a = startWriter({ share: tr.share, tag: 'a', count: 3000, progress, index: 0 });
    const b = startWriter({ share: tr.share, tag: 'b', count: 3000, progress, index: 1, watch: 0 });
    await Promise.all([a.exited, b.exited]);
    await endAndClose(tr);
    const recs = records(file);
    const positionOfA = new Map<number, number>();
    recs.forEach((r, i) => {
      if (r.tag === 'a') positionOfA.set(r.seq as number, i);
    });
    let checked = 0;
    let violations = 0;
    recs.forEach((r, i) => {
      if (r.tag !== 'b' || (r.saw as number) < 0) return;
      checked++;
      if (!(positionOfA.get(r.saw as number)! < i)) violations++;
    });
    t.log(`${checked} b lines saw an a line`);
    t.true(checked > 0, 'the writers overlapped');
    t.is(violations, 0);
    t.is(recs.length, 6000);
  },
);

test.serial('pino-pretty as the target: pretty lines reach its destination', async (t) => {
  const file = tmpFile('pretty.log');
  const tr = transport({ target: 'pino-pretty', options: { destination: file, colorize: false } });
  const log = pino(tr);
  const w = startWriter({ share: tr.share, tag: 'pw', count: 20 });
  log.info('pretty from main');
  await w.exited;
  await endAndClose(tr);
  const text = readFileSync(file, 'utf8');
  t.regex(text, /INFO.*: pretty from main/);
  t.is(text.match(/tag: "pw"/g)?.length, 20);
});

test.serial(
  'targets with two levels: a custom pino-abstract-transport target takes warn and above, pino/file info and above',
  async (t) => {
    const custom = tmpFile('custom.log');
    const all = tmpFile('all.log');
    const tr = transport({
      targets: [
        { target: fileURLToPath(ABSTRACT_TARGET), level: 'warn', options: { destination: custom } },
        { target: 'pino/file', level: 'info', options: { destination: all } },
      ],
    });
    const log = pino({ level: 'debug' }, tr);
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    const wlog = pino(destination(tr.share));
    wlog.warn('from this thread again');
    await endAndClose(tr);
    t.deepEqual(lines(custom), ['40 w', '50 e', '40 from this thread again']);
    t.deepEqual(
      records(all).map((r) => r.msg),
      ['i', 'w', 'e', 'from this thread again'],
    );
  },
);

test.serial('pipeline: a transform step then pino/file, as pino.transport({ pipeline })', async (t) => {
  const file = tmpFile('pipeline.log');
  const tr = transport({
    pipeline: [{ target: fileURLToPath(UPPER_TRANSFORM) }, { target: 'pino/file', options: { destination: file } }],
  });
  const log = pino(tr);
  log.info('one');
  pino(destination(tr.share)).info('two');
  await endAndClose(tr);
  t.deepEqual(
    records(file).map((r) => r.msg),
    ['ONE', 'TWO'],
  );
});

test.serial(
  "pino's configuration reaches a target that asks for it (expectPinoConfig), as through pino.transport()",
  async (t) => {
    const file = tmpFile('config.log');
    const tr = transport({
      target: fileURLToPath(ABSTRACT_TARGET),
      options: { destination: file, expectConfig: true },
    });
    const log = pino({ messageKey: 'message' }, tr);
    log.info('configured');
    await endAndClose(tr);
    t.deepEqual(lines(file), ['30 configured']);
  },
);

test.serial(
  'a worker terminated mid-log: the file holds a gap-free prefix of its lines, and later lines still arrive',
  async (t) => {
    const file = tmpFile('terminated.log');
    const tr = transport({
      target: 'pino/file',
      options: { destination: file },
      ringSize: 1 << 14,
      blockMs: SLOW_MACHINE_MS,
    });
    const progress = new SharedArrayBuffer(8);
    const w = startWriter({ share: tr.share, tag: 't', count: -1, progress, index: 0, pad: 50 });
    const p = new Int32Array(progress);
    t.true(await until(() => Atomics.load(p, 0) > 2000), 'the worker logged');
    await w.worker.terminate();
    const log = pino(tr);
    log.info({ tag: 'after', seq: 0 });
    await endAndClose(tr);
    const bySeq = seqsByTag(records(file));
    const got = bySeq.get('t')!;
    t.log(
      `${got.length} lines of the terminated worker reached the file (it had written ${Atomics.load(p, 0)}); ` +
        `recovered ${tr.stats().all.recovered}`,
    );
    t.true(got.length >= 2000);
    t.deepEqual(got, range(got.length));
    t.deepEqual(bySeq.get('after'), [0]);
  },
);

test.serial(
  'a half-written record of a dead worker is discarded by recovery, never written, and the lines after it pass',
  async (t) => {
    const file = tmpFile('half.log');
    const tr = transport({ target: 'pino/file', options: { destination: file }, blockMs: SLOW_MACHINE_MS });
    const progress = new SharedArrayBuffer(8);
    const w = startWriter({ share: tr.share, tag: 'h', count: 10, end: 'hang', progress, index: 0 });
    const p = new Int32Array(progress);
    t.true(await until(() => Atomics.load(p, 1) === 1), 'the half-written record is in place');
    const log = pino(tr);
    log.info({ tag: 'main', seq: 0 });
    await w.worker.terminate();
    log.info({ tag: 'main', seq: 1 });
    await endAndClose(tr);
    const bySeq = seqsByTag(records(file));
    t.deepEqual(bySeq.get('h'), range(10));
    t.deepEqual(bySeq.get('main'), [0, 1]);
    t.is(tr.stats().all.recovered, 1);
  },
);

test.serial('process.exit() in a worker right after its last line: every line reaches the file', async (t) => {
  const file = tmpFile('worker-exit.log');
  const tr = transport({ target: 'pino/file', options: { destination: file }, blockMs: SLOW_MACHINE_MS });
  const w = startWriter({ share: tr.share, tag: 'x', count: 777, end: 'exit' });
  t.is(await w.exited, 0);
  await endAndClose(tr);
  t.deepEqual(seqsByTag(records(file)).get('x'), range(777));
});

test.serial('a line longer than a record reaches the target whole, between the others in order', async (t) => {
  const file = tmpFile('long.log');
  const tr = transport({
    target: 'pino/file',
    options: { destination: file },
    ringSize: 1 << 16,
    blockMs: SLOW_MACHINE_MS,
  });
  const log = pino(tr);
  const w = startWriter({ share: tr.share, tag: 'o', count: 2000 });
  const long = 'é'.repeat(150_000) + '🙂'.repeat(10_000); // 340 KB of UTF-8, five times the ring
  log.info({ tag: 'main', seq: 0 });
  log.info({ tag: 'main', seq: 1, long });
  log.info({ tag: 'main', seq: 2 });
  await w.exited;
  await endAndClose(tr);
  const recs = records(file);
  t.deepEqual(seqsByTag(recs).get('main'), [0, 1, 2]);
  t.deepEqual(seqsByTag(recs).get('o'), range(2000));
  t.is(recs.find((r) => r.seq === 1 && r.tag === 'main')!.long, long);
  t.is(tr.stats().thread.split, 1);
});

test.serial(
  "onFull 'drop': a full ring drops lines at once, counts them, and reports them at the target when space returns",
  async (t) => {
    const file = tmpFile('drop.log');
    const gate = new SharedArrayBuffer(4);
    const tr = transport({
      target: fileURLToPath(GATED_TARGET),
      options: { destination: file, gate },
      ringSize: 4096,
      onFull: 'drop',
    });
    await once(tr, 'ready');
    const log = pino(tr);
    const started = Date.now();
    for (let seq = 0; seq < 500; seq++) log.info({ tag: 'd', seq });
    const elapsed = Date.now() - started;
    const dropped = tr.stats().thread.dropped;
    t.true(dropped > 0, `dropped ${dropped}`);
    t.true(elapsed < 500, `no write waited (${elapsed} ms for 500)`);
    Atomics.store(new Int32Array(gate), 0, 1);
    tr.flushSync(); // the target drains the ring; the drops are reported
    log.info({ tag: 'd', seq: 500 });
    await endAndClose(tr);
    const recs = records(file);
    const report = recs.filter((r) => typeof r.ringbufDropped === 'number');
    t.log(`${dropped} lines dropped, in ${report.length} reports`);
    t.true(report.length >= 1);
    t.is(
      report.reduce((sum, r) => sum + (r.ringbufDropped as number), 0),
      dropped,
    );
    t.true(report.every((r) => r.level === 40 && r.threadId === 0));
    const got = seqsByTag(recs).get('d')!;
    t.is(got.length + dropped, 501);
    t.deepEqual(
      got,
      [...got].sort((a, b) => a - b),
      'the lines that passed are in order',
    );
    t.is(got.at(-1), 500);
    t.is(recs.at(-1)!.seq, 500, 'the line written after the drops comes last, after every report');
  },
);

test.serial(
  "onFull 'block': a write waits for space while the target catches up, and drops only after blockMs",
  async (t) => {
    const file = tmpFile('block.log');
    const gate = new SharedArrayBuffer(4);
    const tr = transport({
      target: fileURLToPath(GATED_TARGET),
      options: { destination: file, gate },
      ringSize: 4096,
      blockMs: 300,
    });
    await once(tr, 'ready');
    const log = pino(tr);
    let seq = 0;
    let waitedMs = 0;
    while (tr.stats().thread.dropped === 0 && seq < 10_000) {
      const started = Date.now();
      log.info({ tag: 'b', seq: seq++ });
      waitedMs = Date.now() - started;
    }
    t.true(tr.stats().thread.waited >= 1, 'a write found the ring full and waited');
    t.is(tr.stats().thread.dropped, 1, 'the gate stayed shut: a waiting line was dropped after blockMs');
    t.true(waitedMs >= 250 && waitedMs < 3000, `the dropping write waited ${waitedMs} ms (blockMs 300)`);
    const waitsBefore = tr.stats().thread.waited;
    // Another thread opens the gate while this one is blocked in a write.
    const opener = new Worker(
      'const { workerData } = require("node:worker_threads"); setTimeout(() => Atomics.store(new ' +
        'Int32Array(workerData), 0, 1), 100);',
      { eval: true, workerData: gate },
    );
    const started = Date.now();
    for (let i = 0; i < 200; i++) log.info({ tag: 'b', seq: seq++ });
    t.log(`200 lines written in ${Date.now() - started} ms, ${tr.stats().thread.waited} waits`);
    t.true(tr.stats().thread.waited > waitsBefore, 'the next write waited too');
    t.is(tr.stats().thread.dropped, 1, 'and got its space: no more drops');
    await once(opener, 'exit');
    await endAndClose(tr);
    const recs = records(file);
    t.is(seqsByTag(recs).get('b')!.length, seq - 1);
    t.is(recs.filter((r) => r.ringbufDropped === 1).length, 1);
  },
);

test.serial(
  "a target that throws: an error on the main thread's transport, and no writer blocks past its bound",
  async (t) => {
    const file = tmpFile('throws.log');
    const tr = transport({
      target: fileURLToPath(GATED_TARGET),
      options: { destination: file, throwOn: 'boom' },
      ringSize: 4096,
      blockMs: 200,
    });
    let err: Error | undefined;
    tr.on('error', (e: Error) => (err = e));
    const log = pino(tr);
    log.info('fine');
    log.info('boom');
    // Polls with a timer: the consumer thread is unref'd and holds nothing alive.
    t.true(await until(() => err !== undefined), 'an error event');
    t.regex(err!.message, /refused a line with boom/);
    t.is(tr.stats().all.state, 'dead');
    const started = Date.now();
    const w = startWriter({ share: tr.share, tag: 'late', count: 5000 });
    t.is(await w.exited, 0);
    for (let seq = 0; seq < 5000; seq++) log.info({ tag: 'late-main', seq });
    const elapsed = Date.now() - started;
    t.true(elapsed < 3000, `10000 lines into a dead transport took ${elapsed} ms`);
    t.is(tr.stats().thread.dropped, 5000);
    t.false(
      lines(file).some((l) => l.includes('boom')),
      'the refused line is not in the file',
    );
  },
);

test.serial('flushSync() in a worker returns once its lines are handed to the target', async (t) => {
  const file = tmpFile('flush.log');
  // The gated target (no gate) appends each chunk synchronously in its write().
  const tr = transport({ target: fileURLToPath(GATED_TARGET), options: { destination: file } });
  const counts = [0, 1].map((i) => startWriter({ share: tr.share, tag: `f${i}`, count: 3000, countIn: file }));
  const seen = await Promise.all(counts.map(({ worker }) => once(worker, 'message') as Promise<[number]>));
  t.deepEqual(
    seen.map(([n]) => n),
    [3000, 3000],
  );
  await Promise.all(counts.map((w) => w.exited));
  await endAndClose(tr);
});

test.serial(
  'a consumer thread stuck in a target: writers stop waiting once its heartbeat is stale, long before blockMs',
  async (t) => {
    const file = tmpFile('stuck.log');
    const tr = transport({
      target: fileURLToPath(GATED_TARGET),
      options: { destination: file, hangOn: 'stuck' },
      ringSize: 4096,
      blockMs: 20_000,
      deadAfterMs: 500,
      flushMs: 500,
    });
    await once(tr, 'ready');
    const log = pino(tr);
    log.info('stuck');
    const started = Date.now();
    for (let seq = 0; seq < 200; seq++) log.info({ tag: 's', seq });
    const elapsed = Date.now() - started;
    t.log(`200 lines in ${elapsed} ms, ${tr.stats().thread.dropped} dropped, ${tr.stats().thread.waited} waits`);
    t.true(tr.stats().thread.dropped > 0, 'the ring filled and lines were dropped');
    t.true(elapsed < 5000, `no write waited for blockMs (20 s): ${elapsed} ms`);
    const errors: Error[] = [];
    tr.on('error', (err: Error) => errors.push(err));
    await tr.worker.terminate();
    t.regex(errors[0]?.message ?? '', /consumer thread exited before the transport ended/);
    t.is(tr.stats().all.state, 'dead');
  },
);

test.serial('a piscina pool: every task logs through the one transport thread, each task in order', async (t) => {
  const { Piscina } = await import('piscina');
  const file = tmpFile('piscina.log');
  const tr = transport({ target: 'pino/file', options: { destination: file }, blockMs: SLOW_MACHINE_MS });
  const pool = new Piscina({
    filename: fileURLToPath(PISCINA_TASK),
    minThreads: 3,
    maxThreads: 3,
    workerData: { log: tr.share },
  });
  const done = await Promise.all(range(30).map((task) => pool.run({ task, lines: 200 }) as Promise<number>));
  await pool.destroy();
  await endAndClose(tr);
  t.is(
    done.reduce((a, b) => a + b, 0),
    6000,
  );
  const bySeq = seqsByTag(records(file));
  for (const task of range(30)) t.deepEqual(bySeq.get(`task${task}`), range(200), `task ${task}`);
  t.is(tr.stats().all.dropped, 0);
});

test.serial('write() of an empty string writes nothing; a Uint8Array chunk goes in as its bytes', async (t) => {
  const file = tmpFile('raw.log');
  const tr = transport({ target: 'pino/file', options: { destination: file }, blockMs: SLOW_MACHINE_MS });
  tr.write('');
  tr.write(new TextEncoder().encode('{"raw":"bytes é"}\n'));
  t.throws(() => tr.write(42 as never), { code: 'ERR_RINGBUF_ARGUMENT' });
  await endAndClose(tr);
  t.deepEqual(lines(file), ['{"raw":"bytes é"}']);
  t.is(tr.stats().all.linesOut, 1);
});

test.serial('bad input gets typed errors', (t) => {
  for (const bad of [undefined, null, 1, {}, { ring: {}, control: new SharedArrayBuffer(8) }]) {
    t.throws(() => destination(bad as never), { code: 'ERR_RINGBUF_ARGUMENT' }, inspect(bad));
  }
  t.throws(() => transport({ target: 'pino/file', ringSize: 1000 }), { code: 'ERR_RINGBUF_SIZE' });
  t.throws(() => transport({ target: 'pino/file', onFull: 'wait' as never }), { code: 'ERR_RINGBUF_ARGUMENT' });
  t.throws(() => transport({}), { code: 'ERR_RINGBUF_ARGUMENT' });
  t.throws(() => transport({ target: 'no-such-transport-module' }), {
    code: 'ERR_RINGBUF_ARGUMENT',
    message: /unable to determine transport target/,
  });
});
