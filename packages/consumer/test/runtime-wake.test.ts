import test from 'ava';
import { RingBuffer, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, wakeNotifies } from '@ringbuf/core';
import { ConsumerRuntime } from '../src/index.js';
import { until } from './fixtures/runtime-helpers.js';

const payload = new Uint8Array(16);
/** Long enough for a spinning worker to make thousands of passes; a sleeping one makes none. */
const IDLE_WINDOW_MS = 40;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function sleepingRuntime(ring: RingBuffer): Promise<ConsumerRuntime> {
  const rt = await ConsumerRuntime.start({ rings: [ring] });
  await until(() => rt.stats().sleeps >= 1);
  return rt;
}

test('a self-paced worker sleeps while idle (no passes) and a flags-0 commit at its position wakes it', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const rt = await sleepingRuntime(ring);
  const idle = rt.stats();
  await pause(IDLE_WINDOW_MS);
  const after = rt.stats();
  t.is(after.polls, idle.polls, 'a sleeping worker makes no passes');
  t.is(after.sleeps, idle.sleeps);
  const notifies = wakeNotifies(ring.wake);
  t.true(ring.output(payload, 0));
  await until(() => rt.stats().records === 1);
  t.is(wakeNotifies(ring.wake), notifies + 1);
  t.is(rt.stats().wakeups, idle.wakeups + 1);
  const report = await rt.stop();
  t.is(report.delivered, 1);
});

test('NO_WAKEUP commits leave the worker asleep until a FORCE_WAKEUP commit', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const rt = await sleepingRuntime(ring);
  const before = rt.stats();
  for (let i = 0; i < 5; i++) t.true(ring.output(payload, BPF_RB_NO_WAKEUP));
  await pause(IDLE_WINDOW_MS);
  t.is(rt.stats().records, 0, 'kernel rule: NO_WAKEUP sends no notification');
  t.is(rt.stats().wakeups, before.wakeups);
  t.true(ring.output(payload, BPF_RB_FORCE_WAKEUP));
  await until(() => rt.stats().records === 6);
  t.is((await rt.stop()).delivered, 6);
});

test('NO_WAKEUP-only traffic is picked up by stop({ drain: true })', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const rt = await sleepingRuntime(ring);
  for (let i = 0; i < 7; i++) t.true(ring.output(payload, BPF_RB_NO_WAKEUP));
  const report = await rt.stop({ drain: true, timeoutMs: 1000 });
  t.is(report.reason, 'drained');
  t.is(report.delivered, 7);
  t.is(report.leftBehind, 0);
});

test(
  'a commit behind a BUSY head does not wake the worker; the head commit does (consumer_pos == its ' + 'offset)',
  async (t) => {
    const ring = RingBuffer.create({ size: 4096 });
    const rt = await sleepingRuntime(ring);
    const head = ring.reserve(16);
    t.true(ring.output(payload, 0));
    await pause(IDLE_WINDOW_MS);
    t.is(rt.stats().records, 0);
    ring.submit(head, 0);
    await until(() => rt.stats().records === 2);
    t.is((await rt.stop()).delivered, 2);
  },
);

test('a NO_WAKEUP commit of a BUSY head the worker waits at is picked up by the bounded wait', async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const head = ring.reserve(16);
  t.true(ring.output(payload, 0));
  const rt = await ConsumerRuntime.start({ rings: [ring], busyHeadWaitMs: 2 });
  await until(() => rt.stats().busyStalls >= 1 && rt.stats().sleeps >= 1);
  ring.submit(head, BPF_RB_NO_WAKEUP);
  await until(() => rt.stats().records === 2);
  t.is((await rt.stop()).delivered, 2);
});

test("'busy' never sleeps and '{ spin }' spins before it sleeps", async (t) => {
  const ring = RingBuffer.create({ size: 4096 });
  const busy = await ConsumerRuntime.start({ rings: [ring], wait: 'busy' });
  await until(() => busy.stats().polls > 1000);
  t.true(ring.output(payload, BPF_RB_NO_WAKEUP));
  await until(() => busy.stats().records === 1);
  const b = await busy.stop();
  t.is(b.stats.sleeps, 0);
  t.is(b.delivered, 1);

  const spin = await ConsumerRuntime.start({ rings: [ring], wait: { spin: 500 } });
  await until(() => spin.stats().sleeps >= 1);
  const s = spin.stats();
  t.true(s.polls >= 500, `${s.polls} passes before the first sleep`);
  const notifies = wakeNotifies(ring.wake);
  t.true(ring.output(payload, 0));
  await until(() => spin.stats().records === 1);
  t.is(wakeNotifies(ring.wake), notifies + 1);
  await spin.stop();
});
