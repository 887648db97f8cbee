/**
 * The scenarios, as descriptors in the manner of the kernel's `benchs/bench_ringbufs.c` and the
 * sections of `run_bench_ringbufs.sh`. Each group can be selected with `--scenario <group>`.
 */
import { BenchError, describe } from '../errors.js';
import type { ScenarioParams, ThreadedScenario } from './types.js';

/** The kernel bench's ring: 512 KiB. */
const RING_SIZE = 512 * 1024;
/** The kernel bench's default batch count. */
const BATCH_CNT = 500;
/** The kernel bench's default sample rate. */
const SAMPLE_RATE = 500;
/** `run_bench_ringbufs.sh`'s sample-rate sweep. */
const SAMPLE_RATES = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 3000];
/** Producer counts swept (the script goes to 52; this machine has 2 cores). */
const PRODUCER_COUNTS = [1, 2, 3, 4, 8];
/** Record sizes swept against memcpy. */
export const RECORD_SIZES = [16, 64, 1024, 4096, 65536];
/** Batch counts swept in back-to-back mode. */
const BATCH_COUNTS = [1, 10, 50, 500, 2000];
/** Records per reserveBatch/submitBatch in the batched scenarios (the batch 64). */
export const CLAIM = 64;
/** Records per producer trigger in the batched scenarios: a multiple of CLAIM near BATCH_CNT. */
const BATCH_CNT_CLAIM = 8 * CLAIM;
/** The latency scenarios' send interval (µs): one timestamped record every 20 µs. */
const PACED_INTERVAL_US = 20;

/**
 * The shortest warm-up of a paced (latency) scenario: its p99 is 1 % of about 50,000 records, and
 * the records of the JIT's first few hundred milliseconds were enough to set it (measured:
 * self-paced p99 1.0-1.3 ms after 300 ms of warm-up, 81 µs in one of two runs after 1 s).
 * Throughput scenarios keep the kernel bench's warm-up.
 */
export const PACED_WARMUP_MS = 1000;

/** The user-ring group's ring: 64 KiB, as a command queue would be (2730 records of 16 bytes). */
const USER_RING_SIZE = 64 * 1024;

/** Rounds of the peers group (ours and each one-record peer once per round). */
export const PEER_ROUNDS = 3;

/** The name suffix of peers round `r` (1-based): '' for the first, '-r' after. */
export function peerRoundSuffix(r: number): string {
  return r === 1 ? '' : `-${r}`;
}

/** Default payload: 16 bytes (the kernel's is 8, record 16; ours carries 16, record 24). */
const PAYLOAD = 16;

/** Every group name, in run order; `memcpy` and `micro` are single-thread measurements. */
export const GROUPS = [
  'parallel',
  'peers',
  'user-ring',
  'b2b',
  'sample-rate',
  'reserve-vs-output',
  'batch',
  'producers',
  'sizes',
  'latency',
  'memcpy',
  'micro',
] as const;
export type Group = (typeof GROUPS)[number];

/**
 * Ring for the size sweep: room for 1024 records at least (the kernel bench's 512 KiB holds 32768 of
 * its 16-byte records), so a consumer waking up (~10-60 µs) does not find the ring long full.
 */
function sizeSweepRing(payload: number): number {
  let size = RING_SIZE;
  while (size < payload * 1024) size *= 2;
  return size;
}

function params(over: Partial<ScenarioParams>): ScenarioParams {
  return {
    impl: 'ringbuf',
    mode: 'parallel',
    producers: 1,
    batchCnt: BATCH_CNT,
    sampleRate: null,
    api: 'reserve',
    payload: PAYLOAD,
    ringSize: RING_SIZE,
    ...over,
  };
}

/**
 * The groups of a run or a listing: a Set of known group names (`empty` says whether none at all
 * will do). Thread: any.
 * @throws BenchError `ERR_BENCH_SCENARIO` for anything else.
 */
export function checkGroups(groups: unknown, empty: boolean): ReadonlySet<Group> {
  if (!(groups instanceof Set))
    throw new BenchError('ERR_BENCH_SCENARIO', `groups must be a Set of group names, got ${describe(groups)}`);
  if (!empty && groups.size === 0)
    throw new BenchError('ERR_BENCH_SCENARIO', `groups is empty: nothing to run (groups: ${GROUPS.join(', ')})`);
  for (const g of groups) {
    if (!(GROUPS as readonly unknown[]).includes(g))
      throw new BenchError(
        'ERR_BENCH_SCENARIO',
        `unknown scenario group ${describe(g)} (groups: ${GROUPS.join(', ')})`,
      );
  }
  return groups as ReadonlySet<Group>;
}

/**
 * The threaded scenarios of the selected groups, in run order (none for an empty set, or for
 * memcpy and micro alone).
 * @throws BenchError `ERR_BENCH_SCENARIO` when `groups` is not a Set of known group names.
 */
export function threadedScenarios(groups: ReadonlySet<Group>): ThreadedScenario[] {
  checkGroups(groups, true);
  const out: ThreadedScenario[] = [];
  const add: Add = (group, name, description, p) => {
    if (groups.has(group)) out.push({ group, name, description, params: params(p) });
  };
  // In run order.
  parallelScenarios(add);
  peerScenarios(add);
  userRingScenarios(add);
  backToBackScenarios(add, groups);
  scalingScenarios(add);
  return out;
}

/** Adds a scenario of `group` when the group is selected. */
type Add = (group: Group, name: string, description: string, p: Partial<ScenarioParams>) => void;

/** The parallel group: one producer, the consumer in parallel. */
function parallelScenarios(add: Add): void {
  add('parallel', 'rb-parallel', '1 producer, parallel, reserve+submit, plain flags', {});
  add('parallel', 'rb-parallel-sampled', `1 producer, parallel, sampled (rate ${SAMPLE_RATE})`, {
    sampleRate: SAMPLE_RATE,
  });
  add(
    'parallel',
    'rb-custom-parallel',
    "1 producer, parallel, reserve+submit, the kernel bench's rb-custom consumer (consumer_pos stored once per pass)",
    {
      consumerPublish: 'pass',
    },
  );
  add(
    'parallel',
    `rb-parallel-claim${CLAIM}`,
    `1 producer, parallel, reserveBatch(16, ${CLAIM}) + submitBatch, plain flags`,
    { api: 'batch', claim: CLAIM, batchCnt: BATCH_CNT_CLAIM },
  );
}

/**
 * The peers group. The peers run in PEER_ROUNDS rounds, ours and each peer one after the other in every
 * round, so that each ratio is taken within a round (seconds apart) and the rounds show its spread: the
 * machine's speed drifts by 2x within a minute. Round r > 1 names carry the suffix -r.
 */
function peerScenarios(add: Add): void {
  for (let r = 1; r <= PEER_ROUNDS; r++) {
    const sfx = peerRoundSuffix(r);
    const again = r === 1 ? '' : ` (round ${r})`;
    oursAmongPeers(add, sfx, again);
    add('peers', `ringbufjs-1${sfx}`, `ringbuf.js 0.4.0, one 16-byte item per push/pop${again}`, {
      impl: 'ringbuf.js',
      peerBatch: 1,
    });
    oursBatchedAmongPeers(add, sfx, again);
    postMessagePeers(add, sfx, again);
  }
  add('peers', 'ringbufjs-64', 'ringbuf.js 0.4.0, 64 items per push, pop up to 64', {
    impl: 'ringbuf.js',
    peerBatch: 64,
  });
  add('peers', 'postmessage-64', 'postMessage, 64 records (1 KiB) per message', { impl: 'postMessage', peerBatch: 64 });
}

/** One peers round's runs of ours, one record per call (`sfx`: the round's name suffix, `again`: its description's). */
function oursAmongPeers(add: Add, sfx: string, again: string): void {
  add('peers', `rb-peer-ref${sfx}`, `ours, as rb-parallel (reserve + copy + submit), among the peers${again}`, {});
  add(
    'peers',
    `rb-peer-words${sfx}`,
    `ours, reserve + copy as four 32-bit words + submit (no Uint8Array.set call), among the peers${again}`,
    { fill: 'words' },
  );
  add(
    'peers',
    `rb-peer-output${sfx}`,
    `ours, output() per record under the lock (multi-producer safe): a copy in, as ringbuf.js push${again}`,
    { api: 'output' },
  );
  add(
    'peers',
    `rb-peer-excl-output${sfx}`,
    `ours, the one producer holding the ring exclusively (claimExclusive), ` +
      `output() per record: a copy in, as ringbuf.js push${again}`,
    {
      api: 'output',
      exclusive: true,
    },
  );
}

/** One peers round's runs of ours through reserveBatch + submitBatch. */
function oursBatchedAmongPeers(add: Add, sfx: string, again: string): void {
  add(
    'peers',
    `rb-peer-claim${CLAIM}${sfx}`,
    `ours, reserveBatch(16, ${CLAIM}) + submitBatch, among the peers${again}`,
    {
      api: 'batch',
      claim: CLAIM,
      batchCnt: BATCH_CNT_CLAIM,
    },
  );
  add(
    'peers',
    `rb-peer-claim${CLAIM}-pass${sfx}`,
    `ours, reserveBatch(16, ${CLAIM}) + submitBatch, the consumer publishing ` +
      `once per pass (batching on both sides, as the Disruptor)${again}`,
    {
      api: 'batch',
      claim: CLAIM,
      batchCnt: BATCH_CNT_CLAIM,
      consumerPublish: 'pass',
    },
  );
  add(
    'peers',
    `rb-peer-claim${CLAIM}-words${sfx}`,
    `ours, reserveBatch(16, ${CLAIM}), each payload copied as four 32-bit words, + submitBatch${again}`,
    {
      api: 'batch',
      claim: CLAIM,
      batchCnt: BATCH_CNT_CLAIM,
      fill: 'words',
    },
  );
  add(
    'peers',
    `rb-peer-claim${CLAIM}-pass-words${sfx}`,
    `ours, reserveBatch(16, ${CLAIM}), payloads copied as 32-bit ` +
      `words, + submitBatch, the consumer publishing once per pass${again}`,
    {
      api: 'batch',
      claim: CLAIM,
      batchCnt: BATCH_CNT_CLAIM,
      consumerPublish: 'pass',
      fill: 'words',
    },
  );
}

/** One peers round's postMessage runs. */
function postMessagePeers(add: Add, sfx: string, again: string): void {
  add('peers', `postmessage-1${sfx}`, `postMessage, one 16-byte record per message, 4096 in flight at most${again}`, {
    impl: 'postMessage',
    peerBatch: 1,
  });
  add(
    'peers',
    `postmessage-1-unbounded${sfx}`,
    `postMessage, one 16-byte record per message, unbounded in flight (fire and forget)${again}`,
    {
      impl: 'postMessage',
      peerBatch: 1,
      peerWindow: null,
    },
  );
}

/** The user-ring group's runs: the main thread produces into a USER_RING_SIZE ring. */
const FROM_MAIN = { producer: 'main', ringSize: USER_RING_SIZE } as const;

/**
 * The user ring (BPF_MAP_TYPE_USER_RINGBUF): the main thread feeds one draining worker 16-byte
 * commands, against postMessage and ringbuf.js from the main thread too, in PEER_ROUNDS
 * interleaved rounds as the peers; then the wake of the main thread blocked on a full ring.
 */
function userRingScenarios(add: Add): void {
  for (let r = 1; r <= PEER_ROUNDS; r++) {
    const sfx = peerRoundSuffix(r);
    userRingRound(add, sfx, r === 1 ? '' : ` (round ${r})`);
  }
  add(
    'user-ring',
    'ur-blocked-wake',
    'user ring: the main thread blocked in reserveBlocking on a full ' +
      "ring, woken by a worker's drain, beside the raw wait/notify floor",
    {
      ...FROM_MAIN,
      impl: 'user-ring',
      blocking: true,
      measure: 'blocked-wake',
      ringSize: 4096,
    },
  );
}

/** One user-ring round: ours, then postMessage and ringbuf.js from the main thread. */
function userRingRound(add: Add, sfx: string, again: string): void {
  add(
    'user-ring',
    `ur-main${sfx}`,
    `user ring: the main thread reserve + submit, each 16-byte command ` +
      `stored in place as four 32-bit words, one worker draining${again}`,
    {
      ...FROM_MAIN,
      impl: 'user-ring',
      fill: 'words',
    },
  );
  add(
    'user-ring',
    `ur-main-blocking${sfx}`,
    `user ring: the main thread reserveBlocking + submit (commands stored ` +
      `as words), sleeping on the drainer's progress when full${again}`,
    {
      ...FROM_MAIN,
      impl: 'user-ring',
      fill: 'words',
      blocking: true,
    },
  );
  add(
    'user-ring',
    `ur-main-excl${sfx}`,
    `user ring: the main thread holding the ring exclusively (claimExclusive: no lock ` +
      `round, as libbpf's producer), reserve + submit (commands stored as words)${again}`,
    {
      ...FROM_MAIN,
      impl: 'user-ring',
      fill: 'words',
      exclusive: true,
    },
  );
  add(
    'user-ring',
    `ur-postmessage-main${sfx}`,
    `postMessage from the main thread to a worker, one 16-byte command per message, 4096 in flight at most${again}`,
    {
      ...FROM_MAIN,
      impl: 'postMessage',
      peerBatch: 1,
    },
  );
  add(
    'user-ring',
    `ur-ringbufjs-main${sfx}`,
    `ringbuf.js 0.4.0 from the main thread, one 16-byte item per push, the worker busy-polling${again}`,
    {
      ...FROM_MAIN,
      impl: 'ringbuf.js',
      peerBatch: 1,
    },
  );
}

/** The back-to-back group, the sample-rate sweep, reserve against output and the batch-count sweep. */
function backToBackScenarios(add: Add, groups: ReadonlySet<Group>): void {
  add('b2b', 'rb-b2b', 'back-to-back, reserve+submit, plain flags (self-paced)', { mode: 'b2b' });
  add(
    'b2b',
    'rb-custom-b2b',
    "back-to-back, reserve+submit, the kernel bench's rb-custom consumer (consumer_pos stored once per pass)",
    { mode: 'b2b', consumerPublish: 'pass' },
  );
  add('b2b', 'rb-b2b-sampled', `back-to-back, sampled (rate ${SAMPLE_RATE})`, { mode: 'b2b', sampleRate: SAMPLE_RATE });
  add('b2b', `rb-b2b-claim${CLAIM}`, `back-to-back, reserveBatch(16, ${CLAIM}) + submitBatch, plain flags`, {
    mode: 'b2b',
    api: 'batch',
    claim: CLAIM,
    batchCnt: BATCH_CNT_CLAIM,
  });
  for (const rate of SAMPLE_RATES) {
    add('sample-rate', `rb-b2b-rate-${rate}`, `back-to-back, sampled, rate ${rate}`, { mode: 'b2b', sampleRate: rate });
  }
  for (const rate of SAMPLE_RATES) {
    add('sample-rate', `rb-parallel-rate-${rate}`, `parallel, sampled, rate ${rate}`, { sampleRate: rate });
  }
  add('reserve-vs-output', 'rb-b2b-output', 'back-to-back, output, plain flags', { mode: 'b2b', api: 'output' });
  add('reserve-vs-output', 'rb-b2b-sampled-output', `back-to-back, output, sampled (rate ${SAMPLE_RATE})`, {
    mode: 'b2b',
    api: 'output',
    sampleRate: SAMPLE_RATE,
  });
  if (!groups.has('b2b') && groups.has('reserve-vs-output')) {
    add('reserve-vs-output', 'rb-b2b', 'back-to-back, reserve+submit, plain flags', { mode: 'b2b' });
    add('reserve-vs-output', 'rb-b2b-sampled', `back-to-back, reserve+submit, sampled (rate ${SAMPLE_RATE})`, {
      mode: 'b2b',
      sampleRate: SAMPLE_RATE,
    });
  }
  for (const batchCnt of BATCH_COUNTS) {
    add('batch', `rb-b2b-batch-${batchCnt}`, `back-to-back, batch count ${batchCnt}`, { mode: 'b2b', batchCnt });
  }
}

/** The producer-count and record-size sweeps and the latency group. */
function scalingScenarios(add: Add): void {
  for (const producers of PRODUCER_COUNTS) {
    add('producers', `rb-mpsc-p${producers}`, `${producers} producer(s) into one ring, batch 50`, {
      producers,
      batchCnt: 50,
    });
    add(
      'producers',
      `spsc-rings-p${producers}`,
      `${producers} producer(s), one ring each, drained ring by ring, batch 50`,
      {
        impl: 'spsc-rings',
        producers,
        batchCnt: 50,
      },
    );
  }
  for (const payload of RECORD_SIZES) {
    add('sizes', `rb-size-${payload}`, `back-to-back, batch 500, ${payload}-byte payloads copied in`, {
      mode: 'b2b',
      payload,
      ringSize: sizeSweepRing(payload),
    });
  }
  add('latency', 'rb-latency', 'commit-to-callback latency, 1 record per 20 µs, plain flags (consumer sleeps)', {
    mode: 'paced',
    intervalUs: PACED_INTERVAL_US,
  });
  add(
    'latency',
    'rb-latency-busy',
    'commit-to-callback latency, 1 record per 20 µs, plain flags (consumer busy-polls)',
    {
      mode: 'paced',
      intervalUs: PACED_INTERVAL_US,
      consumerWait: 'busy',
    },
  );
}
