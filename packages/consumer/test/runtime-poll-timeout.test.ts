import test from 'ava';
import { RingBuffer, BPF_RB_NO_WAKEUP } from '@ringbuf/core';
import { ConsumerRuntime, RuntimeError } from '../src/index.js';
import { until } from './fixtures/runtime-helpers.js';

const payload = new Uint8Array(16);

test('pollTimeoutMs: NO_WAKEUP commits to a sleeping worker are delivered within the poll timeout', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const rt = await ConsumerRuntime.start({ rings: [ring], pollTimeoutMs: 5 });
  await until(() => rt.stats().sleeps >= 1);
  for (let i = 0; i < 5; i++) t.true(ring.output(payload, BPF_RB_NO_WAKEUP));
  // Without the option nothing wakes the worker before stop() (runtime-wake.test.ts).
  await until(() => rt.stats().records === 5, 5000);
  t.true(rt.stats().wakeups >= 1);
  const report = await rt.stop();
  t.is(report.delivered, 5);
});

test('pollTimeoutMs must be a finite number of ms from 0', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  for (const pollTimeoutMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
    await t.throwsAsync(ConsumerRuntime.start({ rings: [ring], pollTimeoutMs }), {
      instanceOf: RuntimeError,
      code: 'ERR_RUNTIME_OPTIONS',
    });
  }
});
