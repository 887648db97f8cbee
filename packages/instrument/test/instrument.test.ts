import test from 'ava';
import { Worker } from 'node:worker_threads';
import {
  EventKind,
  INSTRUMENTED_HEADER_BYTES,
  RECORD_COMMIT_TIME,
  RECORD_KIND,
  causalKind,
  stampCommit,
  clockMicros,
  readInstrumented,
  writeInstrumented,
} from '../src/index.js';
import { LOG_LEVELS, childLogger, defaultLogLevel, threadLogger } from '../src/log.js';

test('an instrumented header written at an offset reads back field for field', (t) => {
  const view = new DataView(new ArrayBuffer(64));
  writeInstrumented(view, 8, 7, 0xfffffffe, 123456.75, 42, EventKind.Exec);
  t.deepEqual(readInstrumented(view, 8), {
    producerId: 7,
    seq: 0xfffffffe,
    sendTimeUs: 123456.75,
    token: 42,
    kind: EventKind.Exec,
    commitTimeUs: 0,
  });
  t.is(view.getUint32(8 + RECORD_KIND, true), EventKind.Exec);
  stampCommit(view, 8, 123460.5);
  t.is(readInstrumented(view, 8).commitTimeUs, 123460.5);
  t.is(view.getFloat64(8 + RECORD_COMMIT_TIME, true), 123460.5);
  t.is(INSTRUMENTED_HEADER_BYTES, 32);
  t.is(view.getUint32(8 + INSTRUMENTED_HEADER_BYTES, true), 0, 'nothing written past the header');
  t.is(view.getUint32(0, true), 0, 'bytes before the offset are untouched');
});

test('the causal rule maps tokens 1, 2, 3, 4 to fork, exec, exit, fork', (t) => {
  t.deepEqual([1, 2, 3, 4, 299].map(causalKind), [
    EventKind.Fork,
    EventKind.Exec,
    EventKind.Exit,
    EventKind.Fork,
    EventKind.Exec,
  ]);
});

test('clockMicros is monotonic and comparable across worker threads within a few hundred microseconds', async (t) => {
  const a = clockMicros();
  const b = clockMicros();
  t.true(b >= a);
  const url = new URL('../src/clock.js', import.meta.url).href;
  const worker = new Worker(
    `import(${JSON.stringify(url)}).then((m) => ` +
      "require('node:worker_threads').parentPort.postMessage(m.clockMicros()));",
    { eval: true },
  );
  const before = clockMicros();
  const theirs = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const after = clockMicros();
  await worker.terminate();
  t.true(theirs >= before - 500 && theirs <= after + 500, `worker ${theirs} outside [${before}, ${after}]`);
});

test('the thread logger refuses an unknown level with a RangeError and keeps valid ones', (t) => {
  t.throws(() => threadLogger('loud' as never), { instanceOf: RangeError });
  t.throws(() => childLogger({ component: 'x' }, 'loud' as never), { instanceOf: RangeError });
  t.true((LOG_LEVELS as readonly string[]).includes(defaultLogLevel()));
  t.is(childLogger({ component: 'x' }, 'error').level, 'error');
});
