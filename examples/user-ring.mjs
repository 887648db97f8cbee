// The kernel's other ring (BPF_MAP_TYPE_USER_RINGBUF): the main thread feeds a worker 16-byte
// commands, in order. The main thread reserves with reserveBlocking (libbpf's
// user_ring_buffer__reserve_blocking): when the small ring is full it sleeps until the worker's
// drain frees space, instead of spinning or dropping. The worker drains as bpf_user_ringbuf_drain
// does and sleeps in waitForData while the ring is empty.
// Run: node examples/user-ring.mjs
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { UserRingBuffer } from '@ringbuf/core';

const COMMANDS = 20_000;
const OP_ADD = 1;
const OP_STOP = 2;

if (isMainThread) {
  const ring = UserRingBuffer.create({ size: 4096, id: 1 }); // 170 commands of 24 bytes at most
  const worker = new Worker(new URL(import.meta.url), { workerData: { share: ring.share() } });
  const result = new Promise((resolve) => worker.once('message', resolve));
  const send = (op, seq, arg) => {
    const at = ring.reserveBlocking(16, 5000); // -1 only if the worker stopped draining for 5 s
    if (at < 0) throw new Error('the worker stopped draining');
    ring.view.setUint32(at, op, true);
    ring.view.setUint32(at + 4, seq, true);
    ring.view.setFloat64(at + 8, arg, true);
    ring.submit(at); // wakes the worker if it sleeps waiting for exactly this command
  };
  for (let seq = 0; seq < COMMANDS; seq++) send(OP_ADD, seq, seq);
  send(OP_STOP, COMMANDS, 0);
  const { applied, outOfOrder, total } = await result;
  console.log(
    `fed ${COMMANDS} commands in order through a 4096-byte user ring: the worker applied ${applied}, ` +
      `${outOfOrder} out of order, total ${total}; its drains woke the blocked main thread ${ring.notifies().space} ` +
      `times`,
  );
  await new Promise((resolve) => worker.once('exit', resolve));
  process.exitCode = applied === COMMANDS && outOfOrder === 0 && total === (COMMANDS * (COMMANDS - 1)) / 2 ? 0 : 1;
} else {
  const ring = UserRingBuffer.attach(workerData.share, { id: 2 });
  let applied = 0;
  let outOfOrder = 0;
  let total = 0;
  let stopped = false;
  // The callback gets the ring's own bytes, read-only by contract; 0 = go on, 1 = stop here.
  const onCommand = (_data, offset) => {
    const op = ring.view.getUint32(offset, true);
    const seq = ring.view.getUint32(offset + 4, true);
    if (seq !== applied) outOfOrder++;
    if (op === OP_STOP) {
      stopped = true;
      return 1;
    }
    total += ring.view.getFloat64(offset + 8, true);
    applied++;
    return 0;
  };
  while (!stopped) {
    if (ring.drain(onCommand) === 0) ring.waitForData(1000);
  }
  parentPort.postMessage({ applied, outOfOrder, total });
}
