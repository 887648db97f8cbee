/** Shapes shared by the bench's main thread, its workers and the reports. */
import type { LatencySummary } from '@ringbuf/consumer';

/** How long a threaded run measures. */
export interface Timing {
  warmupMs: number;
  windows: number;
  windowMs: number;
}

/** A scenario as the harness sees it. */
export interface ThreadedScenario {
  name: string;
  group: string;
  description: string;
  params: ScenarioParams;
}

/** What each bench worker posts to main when its loop has ended. */
export interface WorkerReport {
  type: 'report';
  role: string;
  /** GC events seen by this thread: [start on the process-wide clock in µs, duration in ms]. */
  gc: Array<[number, number]>;
  /** `used_heap_size` when the thread first saw the measure phase, and when its loop ended. */
  heapAtMeasure: number;
  heapAtEnd: number;
  /** Wakeup notifications the consumer received (consumer only). */
  wakeups?: number;
  sleeps?: number;
  /** Latency percentiles in µs (latency scenario's consumer only). */
  latency?: LatencySummary;
}

/** Mean and standard deviation over the measurement windows, in records per second. */
export interface RateStats {
  mean: number;
  stddev: number;
}

/** One measurement window. */
export interface WindowSample {
  ms: number;
  hits: number;
  drops: number;
}

/** Which implementation a threaded scenario runs. */
export type Impl = 'ringbuf' | 'spsc-rings' | 'postMessage' | 'ringbuf.js' | 'user-ring';

/** A threaded scenario's parameters (the kernel bench's command-line flags). */
export interface ScenarioParams {
  impl: Impl;
  /** 'parallel': producers run free; 'b2b': the consumer triggers each batch; 'paced': fixed rate. */
  mode: 'parallel' | 'b2b' | 'paced';
  producers: number;
  batchCnt: number;
  /** null: plain flags (self-paced wakeups); else the kernel's `--rb-sampled --rb-sample-rate N`. */
  sampleRate: number | null;
  /** reserve+submit, output, or the batched claim/publish (reserveBatch + submitBatch). */
  api: 'reserve' | 'output' | 'batch';
  /** api 'batch': records per reserveBatch/submitBatch. */
  claim?: number;
  /**
   * How a reserve or batch producer copies the staged payload into its reservation: with one
   * `Uint8Array.prototype.set` call (the default), or as 32-bit words through an Int32Array view of
   * the data area, the way a producer writes a record's fields in place (the kernel bench's BPF
   * program stores its sample, `*sample = 0`, it calls no memcpy). Payloads a multiple of 4 bytes.
   */
  fill?: 'set' | 'words';
  /** The producer holds the ring exclusively (RingBuffer.claimExclusive): no lock per reservation. */
  exclusive?: boolean;
  /**
   * When the consumer publishes consumer_pos (ConsumerOptions.publish): after every record (libbpf,
   * the default) or once per pass (the kernel bench's rb-custom consumer).
   */
  consumerPublish?: 'record' | 'pass';
  /** How the consumer waits for records: sleep in poll(-1) (default), or busy-poll with poll(0). */
  consumerWait?: 'sleep' | 'busy';
  payload: number;
  ringSize: number;
  /** Peers: records per push/postMessage. */
  peerBatch?: number;
  /**
   * postMessage: records kept in flight at most (the producer waits for the consumer's count), or
   * null for none (fire and forget, the backlog growing in memory). @default 4096
   */
  peerWindow?: number | null;
  /** Paced mode: µs between records. */
  intervalUs?: number;
  /**
   * Who produces: worker threads (the default), or the main thread itself (the user-ring group: the
   * main thread feeding one draining worker; postMessage and ringbuf.js likewise from main).
   */
  producer?: 'worker' | 'main';
  /** user-ring: reserve with reserveBlocking (sleeping on the drainer's progress) instead of reserve. */
  blocking?: boolean;
  /** user-ring: instead of throughput, the wake latency of the main thread blocked on a full ring. */
  measure?: 'throughput' | 'blocked-wake';
}

/** The result of one threaded scenario. */
export interface ScenarioResult {
  name: string;
  group: string;
  description: string;
  params: ScenarioParams;
  /** Records consumed per second. */
  hits: RateStats;
  /** Failed reservations (full ring) per second. */
  drops: RateStats;
  /** Payload bytes consumed per second (hits × payload). */
  bytesPerSec: number;
  windows: WindowSample[];
  gc: { events: number; durationMs: number; byRole: Record<string, number> };
  /** Sum over threads of the growth of `used_heap_size` during measurement (meaningful when no GC ran). */
  heapGrowthBytes: number;
  wakeups: number | null;
  latency: LatencySummary | null;
  /** The machine's 1-minute load average when the run ended (other work skews the numbers). */
  loadAvg1m: number;
  /**
   * user-ring's blocked-wake run: the main thread asleep in reserveBlocking on a full ring, woken by
   * a worker's drain, beside the raw Atomics wait/notify floor between the same two threads,
   * sample by sample alternately (so both see the same machine state).
   */
  blockedWake?: BlockedWake;
  error?: string;
}

/** The user-ring group's blocked-producer wake measurement (see ScenarioResult.blockedWake). */
export interface BlockedWake {
  /** Samples of each kind. */
  samples: number;
  /** The waker's spin after the sleeper announced itself, before it stamps and wakes (µs). */
  settleUs: number;
  /** From just before the worker's drain to the main thread's return from reserveBlocking. */
  blocked: LatencySummary;
  /** From just before the worker's notify to the main thread's return from Atomics.wait. */
  floor: LatencySummary;
  /** blocked p50 / floor p50, and the same at p99. */
  ratioP50: number;
  ratioP99: number;
}

export interface MemcpyResult {
  size: number;
  bytesPerSec: number;
}

export interface MicroResult {
  name: string;
  nsPerOp: number;
  rmePercent: number;
  opsPerTask: number;
}
