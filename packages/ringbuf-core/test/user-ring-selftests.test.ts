/**
 * Ports of the kernel's tools/testing/selftests/bpf/prog_tests/user_ringbuf.c (progs
 * user_ringbuf_success.c) with their values: a 4096-byte ring, 32-byte samples (40 bytes with their
 * header, so at most c_max_entries = 102 in the ring). The BPF programs become functions doing what
 * the progs do: record_sample() counts `read`, and a "kick" (the getpgid / prctl syscall) drains.
 * blocking_reserve's kick thread is a real worker (fixtures/user-ring-drainer.ts).
 */
import test from 'ava';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { RESERVE_FAILED, RingBufCorruptionError, RingBuffer, UserRingBuffer, layout } from '../src/index.js';
import { KICK_READ, KICK_RESULT, createControl } from './fixtures/user-ring-log.js';

/** struct sample { int pid; int seq; long value; char comm[16]; } */
const SAMPLE_SIZE = 32;
const C_SAMPLE_SIZE = SAMPLE_SIZE + layout.BPF_RINGBUF_HDR_SZ;
const C_RINGBUF_SIZE = 4096;
const C_MAX_ENTRIES = Math.floor(C_RINGBUF_SIZE / C_SAMPLE_SIZE);
const PID = 4242;
const DRAINER = new URL('./fixtures/user-ring-drainer.js', import.meta.url);

/** The prog's globals (`read`, `err`). */
interface Skel {
  read: number;
  err: number | Error;
}

function setup(): { ring: UserRingBuffer; skel: Skel } {
  return { ring: UserRingBuffer.create({ size: C_RINGBUF_SIZE, id: 1 }), skel: { read: 0, err: 0 } };
}

/** progs/user_ringbuf_success.c test_user_ringbuf(): err = bpf_user_ringbuf_drain(record_sample). */
function drainCurrentSamples(ring: UserRingBuffer, skel: Skel): void {
  try {
    skel.err = ring.drain((data, offset, size) => {
      // record_sample(): copy the sample out (bpf_dynptr_read) and count it.
      const copy = data.slice(offset, offset + Math.min(size, SAMPLE_SIZE));
      if (copy.length !== Math.min(size, SAMPLE_SIZE)) skel.err = 1;
      skel.read++;
      return 0;
    }, 0);
  } catch (err) {
    skel.err = err as Error;
  }
}

/** prog_tests/user_ringbuf.c write_samples(): reserve/submit `n` samples, then drain (its `done:`). */
function writeSamples(ring: UserRingBuffer, skel: Skel, n: number): number {
  let err = 0;
  for (let i = 0; i < n; i++) {
    const at = ring.reserve(SAMPLE_SIZE);
    if (at === RESERVE_FAILED) {
      err = -28; // -ENOSPC
      break;
    }
    ring.view.setInt32(at, PID, true);
    ring.view.setInt32(at + 4, i, true);
    ring.view.setBigInt64(at + 8, BigInt(i) * BigInt(i), true);
    ring.data.set(new TextEncoder().encode('test_user_ringbuf'.slice(0, 15)), at + 16);
    ring.submit(at);
  }
  drainCurrentSamples(ring, skel);
  return err;
}

/** manually_write_test_invalid_sample(): a hand-written header and producer_pos, as through the mmap. */
function manuallyWriteInvalidSample(ring: UserRingBuffer, size: number, producerPos: number): void {
  const i32 = new Int32Array(ring.buffer);
  i32[layout.headerIndex(0)] = size;
  i32[layout.headerIndex(0) + 1] = 0;
  Atomics.store(i32, layout.USER_PROD_POS_INDEX, producerPos);
}

function expectCorrupt(t: import('ava').ExecutionContext, skel: Skel, pattern: RegExp): void {
  t.true(skel.err instanceof RingBufCorruptionError, `err is ${String(skel.err)}`);
  t.is((skel.err as RingBufCorruptionError).code, 'ERR_RINGBUF_CORRUPT');
  t.regex((skel.err as Error).message, pattern);
}

test(
  'user_ringbuf post_misaligned: a 39-byte sample with producer_pos 47 is refused ' +
    '(-EINVAL, prod % 8), nothing read',
  (t) => {
    const { ring, skel } = setup();
    manuallyWriteInvalidSample(ring, 39, 39 + 8);
    drainCurrentSamples(ring, skel);
    t.is(skel.read, 0);
    expectCorrupt(t, skel, /not 8-byte aligned/);
    t.is(ring.consumerPos(), 0);
    t.is(ring.drainer(), 0, 'the busy word is released after the error');
  },
);

test(
  'user_ringbuf post_producer_wrong_offset: a 32-byte sample with producer_pos 32 ' +
    'is refused (-EINVAL, 40 > 32 produced)',
  (t) => {
    const { ring, skel } = setup();
    manuallyWriteInvalidSample(ring, 32, 24 + 8);
    drainCurrentSamples(ring, skel);
    t.is(skel.read, 0);
    expectCorrupt(t, skel, /runs past producer_pos 32 \(32 bytes produced\)/);
    t.is(ring.consumerPos(), 0);
  },
);

test('user_ringbuf post_larger_than_ringbuf_sz: a 4096-byte sample with producer_pos 4104 is refused (-E2BIG)', (t) => {
  const { ring, skel } = setup();
  manuallyWriteInvalidSample(ring, C_RINGBUF_SIZE, C_RINGBUF_SIZE + 8);
  drainCurrentSamples(ring, skel);
  t.is(skel.read, 0);
  expectCorrupt(t, skel, /longer than the 4096-byte ring/);
});

test('user_ringbuf basic: two samples written and drained are read', (t) => {
  const { ring, skel } = setup();
  t.is(writeSamples(ring, skel, 2), 0);
  t.is(skel.read, 2);
  t.is(skel.err, 2, 'the drain returns the samples delivered');
  t.is(ring.consumerPos(), 2 * C_SAMPLE_SIZE);
});

test(
  'user_ringbuf sample_full_ring_buffer: a 4088-byte sample fills the ring exactly ' + 'and is read after the drain',
  (t) => {
    const { ring, skel } = setup();
    const at = ring.reserve(C_RINGBUF_SIZE - 8);
    t.is(at, 8);
    t.is(ring.producerPos(), C_RINGBUF_SIZE, 'the record fills the ring exactly');
    t.is(ring.reserve(0), RESERVE_FAILED, 'nothing else fits');
    ring.submit(at);
    t.is(skel.read, 0);
    drainCurrentSamples(ring, skel);
    t.is(skel.read, 1);
    t.is(skel.err, 1);
  },
);

test(
  'user_ringbuf post_alignment_autoadjust: a 33-byte sample is rounded up to 48 ' + 'bytes with its header and read',
  (t) => {
    const { ring, skel } = setup();
    const at = ring.reserve(SAMPLE_SIZE + 1);
    t.true(at >= 0);
    ring.submit(at);
    t.is(ring.producerPos(), 48);
    t.is(skel.read, 0);
    drainCurrentSamples(ring, skel);
    t.is(skel.read, 1);
  },
);

test('user_ringbuf overfill: 510 writes fail with ENOSPC at the 103rd, and 102 are read', (t) => {
  const { ring, skel } = setup();
  t.is(C_MAX_ENTRIES, 102);
  let written = 0;
  const err = (() => {
    for (let i = 0; i < C_MAX_ENTRIES * 5; i++) {
      const at = ring.reserve(SAMPLE_SIZE);
      if (at === RESERVE_FAILED) return -28;
      ring.submit(at);
      written++;
    }
    return 0;
  })();
  drainCurrentSamples(ring, skel);
  t.is(err, -28);
  t.is(written, 102, 'the 103rd reservation is the first to fail');
  t.is(skel.read, C_MAX_ENTRIES);
});

test(
  'user_ringbuf discards_properly_ignored: discarded tokens are not read, and ' + 'their space is free after the drain',
  (t) => {
    const { ring, skel } = setup();
    let discarded = 0;
    for (;;) {
      const token = ring.reserve(8);
      if (token === RESERVE_FAILED) break;
      ring.discard(token);
      discarded++;
    }
    t.is(discarded, C_RINGBUF_SIZE / 16);
    t.is(skel.read, 0);
    drainCurrentSamples(ring, skel);
    t.is(skel.read, 0);
    t.is(skel.err, 0, 'the drain delivered nothing (samples minus discarded)');
    t.is(ring.consumerPos(), C_RINGBUF_SIZE, 'consumer_pos moved past every discarded record');
    const token = ring.reserve(8);
    t.true(token >= 0, 'a new token fits after the drain');
    ring.discard(token);
  },
);

test('user_ringbuf loop: 8192 samples in batches of at most 102, each batch drained, are all read', (t) => {
  const { ring, skel } = setup();
  const total = 8192;
  let remaining = total;
  do {
    const n = Math.min(remaining, C_MAX_ENTRIES);
    const err = writeSamples(ring, skel, n);
    if (err !== 0) {
      t.fail(`write_samples returned ${err}`);
      return;
    }
    remaining -= n;
    if (skel.read !== total - remaining) t.fail(`read ${skel.read} after ${total - remaining}`);
  } while (remaining > 0);
  t.is(skel.read, total);
});

// ---- msg_protocol: user ring -> "kernel" -> kernel ring -> user ----

const TEST_MSG_OP_INC64 = 0;
const TEST_MSG_OP_INC32 = 1;
const TEST_MSG_OP_MUL64 = 2;
const TEST_MSG_OP_MUL32 = 3;
const TEST_MSG_OP_NUM_OPS = 4;
const TEST_OP_64 = 4n;
const TEST_OP_32 = 2;
/** struct test_msg { enum test_msg_op msg_op; union { __s64 operand_64; __s32 operand_32; }; } */
const MSG_SIZE = 16;
const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

interface ProtoSkel {
  kernMutated: bigint;
  userMutated: bigint;
  expectedUserMutated: bigint;
  err: number;
}

function applyOp(acc: bigint, view: DataView, at: number): bigint | null {
  switch (view.getInt32(at, true)) {
    case TEST_MSG_OP_INC64:
      return U64(acc + view.getBigInt64(at + 8, true));
    case TEST_MSG_OP_INC32:
      return U64(acc + BigInt(view.getInt32(at + 8, true)));
    case TEST_MSG_OP_MUL64:
      return U64(acc * view.getBigInt64(at + 8, true));
    case TEST_MSG_OP_MUL32:
      return U64(acc * BigInt(view.getInt32(at + 8, true)));
    default:
      return null;
  }
}

/** progs/user_ringbuf_success.c test_user_ringbuf_protocol(): drain, then publish 8 messages back. */
function protocolProg(user: UserRingBuffer, kern: RingBuffer, skel: ProtoSkel): void {
  let status: number;
  try {
    status = user.drain((_data, offset) => {
      const next = applyOp(skel.kernMutated, user.view, offset);
      if (next === null) skel.err = 2;
      else skel.kernMutated = next;
      return 0;
    }, 0);
  } catch {
    status = -1;
  }
  if (status < 0) {
    skel.err = 1;
    return;
  }
  if (skel.expectedUserMutated !== skel.userMutated) {
    skel.err = 3;
    return;
  }
  for (let index = 0; index < 8; index++) {
    const at = kern.reserve(MSG_SIZE);
    if (at < 0) {
      skel.err = 4;
      return;
    }
    const op = index % TEST_MSG_OP_NUM_OPS;
    kern.view.setInt32(at, op, true);
    if (op === TEST_MSG_OP_INC64 || op === TEST_MSG_OP_MUL64) kern.view.setBigInt64(at + 8, TEST_OP_64, true);
    else kern.view.setInt32(at + 8, TEST_OP_32, true);
    skel.expectedUserMutated = applyOp(skel.expectedUserMutated, kern.view, at)!;
    kern.submit(at, 0);
  }
}

/** ring_buffer__consume() on the kernel ring with handle_kernel_msg(): returns the records handled. */
function consumeKernelRing(kern: RingBuffer, skel: ProtoSkel): number {
  let cons = kern.consumerPos();
  const prod = kern.producerPos();
  let n = 0;
  while (cons !== prod) {
    const hdr = kern.headerAt(cons & kern.mask);
    if ((hdr & layout.BUSY_BIT_I32) !== 0) break;
    if ((hdr & layout.BPF_RINGBUF_DISCARD_BIT) === 0) {
      const next = applyOp(skel.userMutated, kern.view, (cons & kern.mask) + 8);
      if (next !== null) skel.userMutated = next;
      n++;
    }
    cons = (cons + layout.recordFootprint(hdr & layout.HDR_LEN_MASK)) | 0;
    kern.publishConsumerPos(cons);
  }
  return n;
}

test(
  'user_ringbuf msg_protocol: 64 messages INC64/INC32/MUL64/MUL32, every 8th a ' +
    'kick that drains and answers 8 messages on the kernel ring',
  (t) => {
    const user = UserRingBuffer.create({ size: C_RINGBUF_SIZE, id: 1 });
    const kern = RingBuffer.create({ size: C_RINGBUF_SIZE, producerId: 2 });
    const skel: ProtoSkel = { kernMutated: 0n, userMutated: 0n, expectedUserMutated: 0n, err: 0 };
    let expectedKern = 0n;
    let kicks = 0;
    for (let i = 0; i < 64; i++) {
      const op = i % TEST_MSG_OP_NUM_OPS;
      const at = user.reserve(MSG_SIZE);
      if (at < 0) {
        t.fail('reserve_msg');
        return;
      }
      user.view.setInt32(at, op, true);
      if (op === TEST_MSG_OP_INC64 || op === TEST_MSG_OP_MUL64) user.view.setBigInt64(at + 8, TEST_OP_64, true);
      else user.view.setInt32(at + 8, TEST_OP_32, true);
      user.submit(at);
      expectedKern = applyOp(expectedKern, user.view, at)!;
      if (i % 8 === 0) {
        protocolProg(user, kern, skel);
        kicks++;
        t.is(skel.kernMutated, expectedKern, `expected_kern at message ${i}`);
        t.is(skel.err, 0, 'bpf_prog_err');
        t.is(consumeKernelRing(kern, skel), 8, 'consume_kern_ringbuf');
      }
    }
    t.is(kicks, 8);
    t.true(expectedKern > 0n);
  },
);

test(
  'user_ringbuf blocking_reserve: reserveBlocking(8, 1000) times out on a full ' +
    'ring; with a drainer thread kicked, reserveBlocking(8, 10000) returns promptly',
  async (t) => {
    const { ring, skel } = setup();
    let written = 0;
    for (;;) {
      const token = ring.reserve(8);
      if (token === RESERVE_FAILED) break;
      ring.view.setBigUint64(token, 0xdeadbeefn, true);
      ring.submit(token);
      written++;
    }
    t.is(written, C_RINGBUF_SIZE / 16);
    t.is(skel.read, 0);
    const t0 = performance.now();
    t.is(ring.reserveBlocking(8, 1000), RESERVE_FAILED, 'pre_kick_timeout_token');
    const waited = performance.now() - t0;
    t.true(waited >= 999, `returned after ${waited.toFixed(1)} ms, before its 1000 ms timeout`);
    t.is(ring.sleepingProducers(), 0, 'the timed-out producer withdrew its announcement');
    t.is(ring.notifies().space, 0, 'no drain ran, no notify');

    const controlBuffer = createControl(0);
    const control = new Int32Array(controlBuffer);
    const worker = new Worker(DRAINER, {
      workerData: { buffer: ring.buffer, control: controlBuffer, id: 7, mode: 'kick' },
    });
    const exited = once(worker, 'exit');
    await once(worker, 'message');
    const t1 = performance.now();
    const token = ring.reserveBlocking(8, 10_000);
    const blocked = performance.now() - t1;
    t.true(token >= 0, 'block_token');
    t.true(blocked < 10_000, `reserveBlocking took ${blocked.toFixed(0)} ms`);
    t.log(`reserveBlocking returned after ${blocked.toFixed(1)} ms (the kick thread drains once a producer sleeps)`);
    await exited;
    const read = Atomics.load(control, KICK_READ);
    t.true(read > 0 && read <= written, `num_post_kick ${read}`);
    t.is(Atomics.load(control, KICK_RESULT), read, 'err_post_poll: the drain returned what it read');
    t.is(ring.notifies().space, 1, 'one notify: the drain consumed records and a producer slept');
    ring.discard(token);
  },
);
