import test from 'ava';
import { RingBufCorruptionError, RingBuffer, WakeGroup, layout } from '@ringbuf/core';
import { Consumer, ConsumerRuntime, RuntimeCorruptionError, RuntimeError, RuntimeHandlerError } from '../src/index.js';

const handler = new URL('./fixtures/runtime-handler.js', import.meta.url);
const payload = new Uint8Array(24);
const FOOTPRINT = layout.recordFootprint(24);

function fill(ring: RingBuffer, n: number): void {
  for (let i = 0; i < n; i++) if (!ring.output(payload, 0)) throw new Error('ring full');
}

test("a handler that throws under 'stop' rejects done and stop() with the record's ring and position", async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  fill(ring, 10);
  const rt = await ConsumerRuntime.start({
    rings: [ring],
    handler,
    handlerOptions: { throwAt: 4 },
    logLevel: 'silent',
  });
  const err = await t.throwsAsync(rt.done, { instanceOf: RuntimeHandlerError });
  t.is(err.code, 'ERR_RUNTIME_HANDLER');
  t.is(err.ring, 0);
  t.is(err.position, 3 * FOOTPRINT);
  t.is(err.size, 24);
  t.regex(err.message, /planted failure at record 4/);
  const report = err.report!;
  t.is(report.reason, 'handler-error');
  // The failing record was consumed (libbpf leaves consumer_pos past it) and counted as delivered.
  t.is(report.delivered, 4);
  t.is(report.leftBehindCommitted, 6);
  await t.throwsAsync(rt.stop(), { instanceOf: RuntimeHandlerError });
});

test("a handler that throws under 'count' is counted and the runtime goes on", async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  fill(ring, 10);
  const rt = await ConsumerRuntime.start({
    rings: [ring],
    handler,
    handlerOptions: { throwAt: 4 },
    onHandlerError: 'count',
  });
  const report = await rt.stop({ drain: true, timeoutMs: 1000 });
  t.is(report.delivered, 10);
  t.is(report.stats.handlerErrors, 1);
  t.is(report.firstHandlerError?.position, 3 * FOOTPRINT);
  t.is(report.firstHandlerError?.name, 'TypeError');
});

test('a negative handler result stops the runtime and resolves done', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  fill(ring, 10);
  const rt = await ConsumerRuntime.start({ rings: [ring], handler, handlerOptions: { stopAt: 3 }, logLevel: 'silent' });
  const report = await rt.done;
  t.is(report.reason, 'handler-stop');
  t.is(report.handlerResult, -42);
  t.is(report.delivered, 3);
  t.is(report.leftBehindCommitted, 7);
  t.is(rt.state, 'exited');
  t.is(await rt.stop(), report);
});

test('a worker that dies rejects done with a RuntimeError and frees the ring for another consumer', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  fill(ring, 5);
  const rt = await ConsumerRuntime.start({ rings: [ring], handler, handlerOptions: { exitAt: 2 }, logLevel: 'silent' });
  const err = await t.throwsAsync(rt.done, { instanceOf: RuntimeError });
  t.is(err.code, 'ERR_RUNTIME_WORKER_EXIT');
  t.regex(err.message, /code 7/);
  let seen = 0;
  const c = new Consumer(ring, () => {
    seen++;
  });
  // Record 2 was in the handler when the worker died: consumer_pos was not yet past it, so the next
  // consumer gets it again (records 2..5).
  t.is(c.consume(), 4);
  t.is(seen, 4);
  c.close();
});

test(
  'a handler that never returns: stop() terminates the worker after the grace period and counts from the main ' +
    'thread',
  async (t) => {
    const ring = RingBuffer.create({ size: 4096 });
    fill(ring, 6);
    const rt = await ConsumerRuntime.start({
      rings: [ring],
      handler,
      handlerOptions: { hangAt: 2 },
      logLevel: 'silent',
    });
    const report = await rt.stop({ drain: true, timeoutMs: 20, stopGraceMs: 100 });
    t.is(report.reason, 'terminated');
    // Record 2 was being handled when the worker was terminated: its consumer_pos was not stored.
    t.is(report.leftBehindCommitted, 5);
    t.is(rt.state, 'exited');
    const c = new Consumer(ring, () => undefined);
    t.is(c.consume(), 5);
    c.close();
  },
);

test('invalid options are refused with ERR_RUNTIME_OPTIONS before any thread starts', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const bad: unknown[] = [
    undefined,
    { rings: [] },
    { rings: [ring], wait: 'nap' },
    { rings: [ring], wait: { spin: -1 } },
    { rings: [ring], onHandlerError: 'ignore' },
    { rings: [ring], busyHeadWaitMs: -1 },
    { rings: [ring], batch: 0 },
    { rings: [ring], handler: 42 },
    { rings: [ring], latency: 'yes' },
    { rings: [ring], latency: true, latencyWarmupUs: -1 },
    { rings: [ring], latency: true, latencyWarmupUs: NaN },
    { rings: [ring], latency: true, latencyWarmupUs: Infinity },
    { rings: [ring], latency: true, latencyWarmupUs: '1000' },
    { rings: [ring], latency: true, latencyWarmupUs: 10n },
    // A warm-up of a latency that is not measured.
    { rings: [ring], latencyWarmupUs: 1000 },
    { rings: [ring], latency: false, latencyWarmupUs: 0 },
  ];
  for (const options of bad) {
    const err = await t.throwsAsync(ConsumerRuntime.start(options as never), { instanceOf: RuntimeError });
    t.is(
      err.code,
      'ERR_RUNTIME_OPTIONS',
      String(options && JSON.stringify(options, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))),
    );
  }
  // Nothing claimed the ring.
  const c = new Consumer(ring, () => undefined);
  c.close();
});

test('a handler module without a handler function is refused with ERR_RUNTIME_HANDLER_MODULE', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const err = await t.throwsAsync(
    ConsumerRuntime.start({
      rings: [ring],
      handler: new URL('./fixtures/runtime-handler-empty.js', import.meta.url),
      logLevel: 'silent',
    }),
    { instanceOf: RuntimeError },
  );
  t.is(err.code, 'ERR_RUNTIME_HANDLER_MODULE');
  const missing = await t.throwsAsync(
    ConsumerRuntime.start({ rings: [ring], handler: '/nonexistent/handler.js', logLevel: 'silent' }),
    { instanceOf: RuntimeError },
  );
  t.is(missing.code, 'ERR_RUNTIME_HANDLER_MODULE');
  // A relative path is resolved against the starting thread's working directory.
  const fromPath = await ConsumerRuntime.start({
    rings: [ring],
    handler: 'dist/test/fixtures/runtime-handler.js',
    handlerOptions: { stopAt: 1 },
  });
  ring.output(payload, 0);
  t.is((await fromPath.done).reason, 'handler-stop');
  // The failed starts released the ring.
  const c = new Consumer(ring, () => undefined);
  c.close();
});

test(
  'a ring that already has a consumer, and rings without a shared wake group, are refused with their ring ' + 'codes',
  async (t) => {
    const ring = RingBuffer.create({ size: 4096 });
    const live = new Consumer(ring, () => undefined);
    const err = await t.throwsAsync(ConsumerRuntime.start({ rings: [ring], logLevel: 'silent' }));
    t.is((err as { code?: string }).code, 'ERR_RINGBUF_CONSUMER_EXISTS');
    // The refused start did not free the live consumer's slot.
    t.throws(() => new Consumer(ring, () => undefined), { code: 'ERR_RINGBUF_CONSUMER_EXISTS' } as never);
    live.close();
    const other = RingBuffer.create({ size: 4096 });
    const err2 = await t.throwsAsync(ConsumerRuntime.start({ rings: [ring, other] }));
    t.is((err2 as { code?: string }).code, 'ERR_RINGBUF_WAKE_GROUP');
  },
);

test('several rings in one wake group are consumed by one worker', async (t) => {
  const group = WakeGroup.create();
  const a = RingBuffer.create({ size: 4096, wakeGroup: group });
  const b = RingBuffer.create({ size: 8192, wakeGroup: group });
  const rt = await ConsumerRuntime.start({ rings: [a.share(), b] });
  fill(a, 3);
  fill(b, 4);
  const report = await rt.stop({ drain: true, timeoutMs: 1000 });
  t.is(report.reason, 'drained');
  t.deepEqual(
    report.rings.map((r) => r.delivered),
    [3, 4],
  );
  t.is(report.delivered, 7);
  t.is(rt.rings.length, 2);
  t.throws(() => rt.stop({ timeoutMs: -5 }), { instanceOf: RuntimeError });
});

test(
  'a corrupt record header ends the worker and rejects done with ERR_RUNTIME_CORRUPT, its ring, position and ' +
    'report',
  async (t) => {
    const ring = RingBuffer.create({ size: 4096 });
    fill(ring, 2);
    // A committed header whose length runs past producer_pos: the walk refuses it.
    new Int32Array(ring.buffer)[layout.headerIndex(FOOTPRINT)] = 3000;
    const rt = await ConsumerRuntime.start({ rings: [ring], logLevel: 'silent' });
    const err = await t.throwsAsync(rt.done, { instanceOf: RuntimeCorruptionError });
    t.true(err instanceof RuntimeError);
    t.is(err.code, 'ERR_RUNTIME_CORRUPT');
    t.regex(err.message, /corrupt record header at position 32/);
    t.is(err.ring, 0);
    t.is(err.position, 32);
    t.true(err.cause instanceof RingBufCorruptionError);
    t.is(err.report?.reason, 'corrupt');
    // The first record was delivered; nothing from the bad spot on.
    t.is(err.report?.delivered, 1);
    t.true(err.report?.rings[0]?.leftBehind.corrupt);
    // The dead worker's consumer slot was released.
    new Consumer(ring, () => undefined).close();
  },
);

test('an invalid logLevel is refused', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const err = await t.throwsAsync(ConsumerRuntime.start({ rings: [ring], logLevel: 'loud' as never }), {
    instanceOf: RuntimeError,
  });
  t.is(err.code, 'ERR_RUNTIME_OPTIONS');
});
