/** The goals and the peer ratios, evaluated on one run's results. */
import type { WakeResult } from '../harness/wake-floor.js';
import { CLAIM, PEER_ROUNDS, peerRoundSuffix } from '../scenarios/descriptors.js';
import type { MemcpyResult, ScenarioResult } from '../scenarios/types.js';
import type { Goal, Ratio } from './types.js';

function hits(scenarios: readonly ScenarioResult[], name: string): number | null {
  const s = scenarios.find((x) => x.name === name && !x.error);
  return s ? s.hits.mean : null;
}

function ratio(a: number | null, b: number | null): number | null {
  return a !== null && b !== null && b > 0 ? a / b : null;
}

/** A ratio of ours to a peer taken round by round among the peers: each round's, and their median. */
interface PairedRatio {
  /** ours / peer of each round in which both ran. */
  rounds: number[];
  /** Ours and the peer in records per second, per round. */
  ours: number[];
  peer: number[];
  /** The median of `rounds` (the middle one of three), or null when no round has both. */
  value: number | null;
}

/** ours / peer round by round (`base`, `base-2`, ...), as the peers group runs them. */
function pairedRatio(scenarios: readonly ScenarioResult[], oursBase: string, peerBase: string): PairedRatio {
  const out: PairedRatio = { rounds: [], ours: [], peer: [], value: null };
  for (let r = 1; r <= PEER_ROUNDS; r++) {
    const a = hits(scenarios, oursBase + peerRoundSuffix(r));
    const b = hits(scenarios, peerBase + peerRoundSuffix(r));
    const q = ratio(a, b);
    if (a === null || b === null || q === null) continue;
    out.rounds.push(q);
    out.ours.push(a);
    out.peer.push(b);
  }
  if (out.rounds.length > 0) {
    const sorted = [...out.rounds].sort((x, y) => x - y);
    out.value = sorted[(sorted.length - 1) >> 1]!;
  }
  return out;
}

/** "1.05 (rounds 0.98 / 1.05 / 1.10; 7.1 vs 6.8 M/s in the median round)". */
function pairedDetail(p: PairedRatio, oursName: string, peerName: string): string {
  if (p.value === null) return 'not run';
  const k = p.rounds.indexOf(p.value);
  return (
    `rounds ${p.rounds.map((v) => fmt(v)).join(' / ')}; median round ${oursName} ` +
    `${fmt((p.ours[k] ?? 0) / 1e6)} M/s vs ${peerName} ${fmt((p.peer[k] ?? 0) / 1e6)} M/s`
  );
}

/** ours / peer of two runs by name (null when either did not run). */
function plainRatio(
  scenarios: readonly ScenarioResult[],
  ours: string,
  peer: string,
  name = `${ours} / ${peer}`,
): Ratio {
  return { name, ours, peer, value: ratio(hits(scenarios, ours), hits(scenarios, peer)) };
}

/** ours / peer round by round, the median of the rounds (see {@link pairedRatio}). */
function roundsRatio(scenarios: readonly ScenarioResult[], ours: string, peer: string): Ratio {
  return { name: `${ours} / ${peer}`, ours, peer, value: pairedRatio(scenarios, ours, peer).value };
}

/** Ours (1 producer, 16 B, reserve+submit, parallel) against each peer and the perf-buffer analogue. */
export function ratios(scenarios: readonly ScenarioResult[]): Ratio[] {
  const out: Ratio[] = [];
  const claimName = `rb-peer-claim${CLAIM}`;
  for (const ours of [
    'rb-peer-ref',
    'rb-peer-words',
    'rb-peer-output',
    'rb-peer-excl-output',
    claimName,
    `${claimName}-pass`,
    `${claimName}-words`,
    `${claimName}-pass-words`,
  ]) {
    for (const peer of ['ringbufjs-1', 'postmessage-1', 'postmessage-1-unbounded'])
      out.push(roundsRatio(scenarios, ours, peer));
  }
  const ref = hits(scenarios, 'rb-peer-ref') ?? hits(scenarios, 'rb-parallel');
  for (const peer of ['ringbufjs-64', 'postmessage-64']) {
    out.push({ name: `rb-peer-ref / ${peer}`, ours: 'rb-peer-ref', peer, value: ratio(ref, hits(scenarios, peer)) });
  }
  out.push(plainRatio(scenarios, claimName, 'ringbufjs-64'));
  out.push(plainRatio(scenarios, 'rb-mpsc-p1', 'spsc-rings-p1'));
  for (const other of ['rb-parallel-sampled', 'rb-b2b']) {
    for (const peer of ['ringbufjs-1', 'postmessage-1']) out.push(plainRatio(scenarios, other, peer));
  }
  for (const n of [2, 4, 8]) out.push(plainRatio(scenarios, `rb-mpsc-p${n}`, `spsc-rings-p${n}`));
  for (const ours of ['ur-main', 'ur-main-blocking', 'ur-main-excl']) {
    for (const peer of ['ur-postmessage-main', 'ur-ringbufjs-main']) out.push(roundsRatio(scenarios, ours, peer));
  }
  out.push(plainRatio(scenarios, 'rb-b2b-output', 'rb-b2b', 'rb-b2b-output / rb-b2b (output vs reserve)'));
  return out;
}

const fmt = (v: number | null, digits = 2): string => (v === null ? 'n/a' : v.toFixed(digits));

/** The latency summary of a scenario, or null. */
function latencyOf(scenarios: readonly ScenarioResult[], name: string): ScenarioResult['latency'] {
  return scenarios.find((x) => x.name === name && !x.error)?.latency ?? null;
}

/** A goal that ours reaches `target` x a peer, in the median of the interleaved rounds. */
interface PeerGoal {
  id: string;
  goal: string;
  target: number;
  /** The scenarios' base names (the rounds add `-2`, `-3`, ...). */
  ours: string;
  peer: string;
}

/** The peers group's goals, in the order the report lists them. */
const PEER_GOALS: readonly PeerGoal[] = [
  {
    id: 'vs-ringbufjs',
    goal:
      '1 producer, 16 B, one record per reserve+copy+submit >= ' +
      '1.0 x ringbuf.js one-item push/pop (median of the rounds)',
    target: 1.0,
    ours: 'rb-peer-ref',
    peer: 'ringbufjs-1',
  },
  {
    id: 'vs-postmessage',
    goal:
      '1 producer, 16 B, reserve+submit >= 15 x postMessage, one ' +
      'record per message, 4096 in flight at most (median of the rounds)',
    target: 15,
    ours: 'rb-peer-ref',
    peer: 'postmessage-1',
  },
  {
    id: 'vs-postmessage-unbounded',
    goal:
      '1 producer, 16 B, reserve+submit >= 15 x postMessage, one ' +
      'record per message, unbounded in flight (median of the rounds)',
    target: 15,
    ours: 'rb-peer-ref',
    peer: 'postmessage-1-unbounded',
  },
  {
    id: 'vs-ringbufjs-words',
    goal:
      '1 producer, 16 B, one record per reserve + copy as four ' +
      '32-bit words + submit >= 1.0 x ringbuf.js one-item push/pop',
    target: 1.0,
    ours: 'rb-peer-words',
    peer: 'ringbufjs-1',
  },
  {
    id: 'vs-ringbufjs-output',
    goal:
      "1 producer, 16 B, one output() per record under the lock (the kernel's " +
      'bpf_ringbuf_output, multi-producer safe) >= 1.0 x ringbuf.js one-item push/pop',
    target: 1.0,
    ours: 'rb-peer-output',
    peer: 'ringbufjs-1',
  },
  {
    id: 'vs-ringbufjs-exclusive',
    goal:
      '1 producer holding the ring exclusively (claimExclusive), 16 ' +
      'B, one output() per record >= 1.0 x ringbuf.js one-item push/pop',
    target: 1.0,
    ours: 'rb-peer-excl-output',
    peer: 'ringbufjs-1',
  },
  {
    id: 'vs-postmessage-exclusive',
    goal: '1 producer holding the ring exclusively, 16 B, one output() per record >= 15 x postMessage',
    target: 15,
    ours: 'rb-peer-excl-output',
    peer: 'postmessage-1',
  },
  {
    id: 'batch-vs-ringbufjs',
    goal: `reserveBatch(16, ${CLAIM}) + submitBatch, per record >= 2.0 x ringbuf.js one-item push/pop`,
    target: 2.0,
    ours: `rb-peer-claim${CLAIM}`,
    peer: 'ringbufjs-1',
  },
  {
    id: 'batch-pass-vs-ringbufjs',
    goal:
      `reserveBatch(16, ${CLAIM}) + submitBatch, consumer_pos published once ` +
      `per pass (rb-custom), per record >= 2.0 x ringbuf.js one-item push/pop`,
    target: 2.0,
    ours: `rb-peer-claim${CLAIM}-pass`,
    peer: 'ringbufjs-1',
  },
  {
    id: 'batch-words-vs-ringbufjs',
    goal:
      `reserveBatch(16, ${CLAIM}), payloads copied as 32-bit words, ` +
      `+ submitBatch, per record >= 2.0 x ringbuf.js one-item push/pop`,
    target: 2.0,
    ours: `rb-peer-claim${CLAIM}-words`,
    peer: 'ringbufjs-1',
  },
  {
    id: 'batch-pass-words-vs-ringbufjs',
    goal:
      `reserveBatch(16, ${CLAIM}), payloads copied as 32-bit words, + submitBatch, ` +
      `consumer_pos once per pass, per record >= 2.0 x ringbuf.js one-item push/pop`,
    target: 2.0,
    ours: `rb-peer-claim${CLAIM}-pass-words`,
    peer: 'ringbufjs-1',
  },
];

/**
 * The user ring's peer goals (BPF_MAP_TYPE_USER_RINGBUF, the main thread feeding one draining worker
 * 16-byte commands): >= 10 x postMessage and >= 1.0 x ringbuf.js from the main thread (median of the
 * interleaved rounds).
 */
const USER_RING_PEER_GOALS: readonly PeerGoal[] = [
  {
    id: 'user-ring-vs-postmessage',
    goal:
      'user ring, main thread -> worker, 16 B commands, reserve + ' +
      'submit >= 10 x postMessage main -> worker (4096 in flight)',
    target: 10,
    ours: 'ur-main',
    peer: 'ur-postmessage-main',
  },
  {
    id: 'user-ring-vs-ringbufjs',
    goal: 'user ring, main thread -> worker, 16 B commands, reserve + submit >= 1.0 x ringbuf.js push from main',
    target: 1.0,
    ours: 'ur-main',
    peer: 'ur-ringbufjs-main',
  },
  {
    id: 'user-ring-blocking-vs-postmessage',
    goal: 'user ring, main thread -> worker, reserveBlocking + submit >= 10 x postMessage main -> worker',
    target: 10,
    ours: 'ur-main-blocking',
    peer: 'ur-postmessage-main',
  },
  {
    id: 'user-ring-excl-vs-ringbufjs',
    goal:
      'user ring, main thread holding it exclusively (no lock round, as ' +
      "libbpf's producer), reserve + submit >= 1.0 x ringbuf.js push from main",
    target: 1.0,
    ours: 'ur-main-excl',
    peer: 'ur-ringbufjs-main',
  },
  {
    id: 'user-ring-blocking-vs-ringbufjs',
    goal: 'user ring, main thread -> worker, reserveBlocking + submit >= 1.0 x ringbuf.js push from main',
    target: 1.0,
    ours: 'ur-main-blocking',
    peer: 'ur-ringbufjs-main',
  },
];

/** Peer goal `g` on this run: the median of its rounds against the target. */
function peerGoal(scenarios: readonly ScenarioResult[], g: PeerGoal): Goal {
  const p = pairedRatio(scenarios, g.ours, g.peer);
  return {
    id: g.id,
    goal: g.goal,
    target: g.target,
    value: p.value,
    met: p.value !== null && p.value >= g.target,
    detail: pairedDetail(p, g.ours, g.peer),
  };
}

/**
 * The targets of the performance issue, each evaluated on this one run (ratios are side by side:
 * ours and the peer measured minutes apart at most, ours again among the peers).
 */
export function goals(
  scenarios: readonly ScenarioResult[],
  memcpy: readonly MemcpyResult[],
  wake: WakeResult | null = null,
): Goal[] {
  // Every run of ours counts, the latency runs included.
  const ourRuns = scenarios.filter((s) => (s.params.impl === 'ringbuf' || s.params.impl === 'spsc-rings') && !s.error);
  return [
    ...PEER_GOALS.map((g) => peerGoal(scenarios, g)),
    ...wakeupGoals(scenarios),
    bandwidthGoal(scenarios, memcpy),
    busyLatencyGoal(scenarios),
    ...selfLatencyGoals(scenarios, wake),
    ...userRingGoals(scenarios),
    zeroGcGoal(
      'zero-gc',
      'zero GC events in the steady-state windows of every scenario of ours (2-8 producers and latency included)',
      ourRuns,
      'no runs of ours',
    ),
  ];
}

/** Sample rate 1 (a forced wakeup on every record) against self-paced, back-to-back and parallel. */
function wakeupGoals(scenarios: readonly ScenarioResult[]): Goal[] {
  return (['b2b', 'parallel'] as const).map((mode) => {
    const rate1 = hits(scenarios, `rb-${mode}-rate-1`);
    const selfPaced = hits(scenarios, `rb-${mode}`);
    const r = ratio(rate1, selfPaced);
    return {
      id: `wakeup-${mode}`,
      goal: `${mode}: sample rate 1 (FORCE_WAKEUP on every record) >= 0.5 x self-paced (kernel: 1.106 / 20.9 = 0.05)`,
      target: 0.5,
      value: r,
      met: r !== null && r >= 0.5,
      detail: `${fmt(rate1 && rate1 / 1e6)} M/s vs ${fmt(selfPaced && selfPaced / 1e6)} M/s`,
    };
  });
}

/** 4 KiB records against single-thread memcpy bandwidth. */
function bandwidthGoal(scenarios: readonly ScenarioResult[], memcpy: readonly MemcpyResult[]): Goal {
  const s4k = scenarios.find((s) => s.name === 'rb-size-4096' && !s.error);
  const m4k = memcpy.find((m) => m.size === 4096);
  const r4k = s4k && m4k ? s4k.bytesPerSec / m4k.bytesPerSec : null;
  return {
    id: 'bandwidth-4k',
    goal: '4 KiB records >= 0.5 x single-thread memcpy bandwidth',
    target: 0.5,
    value: r4k,
    met: r4k !== null && r4k >= 0.5,
    detail: `${fmt(s4k ? s4k.bytesPerSec / 1e9 : null)} GB/s vs memcpy ${fmt(m4k ? m4k.bytesPerSec / 1e9 : null)} GB/s`,
  };
}

/** The busy-polling consumer's commit -> callback p50. */
function busyLatencyGoal(scenarios: readonly ScenarioResult[]): Goal {
  const busy = latencyOf(scenarios, 'rb-latency-busy');
  return {
    id: 'latency-busy-p50',
    goal: 'busy-polling consumer, commit -> callback p50 <= 10 µs',
    target: 10,
    value: busy ? busy.p50Us : null,
    met: busy !== null && busy.p50Us <= 10,
    detail: busy ? `p50 ${fmt(busy.p50Us, 1)} µs, p99 ${fmt(busy.p99Us, 1)} µs` : 'not run',
  };
}

/**
 * The sleeping consumer's commit -> callback p50 and p99 against the wait/notify floor's, and the p99
 * against the floor corrected for coordinated omission.
 */
function selfLatencyGoals(scenarios: readonly ScenarioResult[], wake: WakeResult | null): Goal[] {
  const self = latencyOf(scenarios, 'rb-latency');
  const floor = wake?.floor ?? null;
  const out: Goal[] = [];
  for (const [id, pct, target] of [
    ['latency-self-p50', 'p50', 1.5],
    ['latency-self-p99', 'p99', 4],
  ] as const) {
    const key = pct === 'p50' ? 'p50Us' : 'p99Us';
    const value = self && floor && floor[key] > 0 ? self[key] / floor[key] : null;
    out.push({
      id,
      goal: `self-paced (sleeping consumer), commit -> callback ${pct} <= ${target} x the wait/notify floor ${pct}`,
      target,
      value,
      met: value !== null && value <= target,
      detail:
        self && floor
          ? `${pct} ${fmt(self[key], 1)} µs vs floor ${fmt(floor[key], 1)} µs${machineNote(wake, key)}`
          : 'not run',
    });
  }
  // The same p99 against the floor corrected for coordinated omission at the paced send interval:
  // the floor is closed-loop (one notify at a time), the latency scenario open-loop.
  const corrected = (wake as { floorCorrected?: WakeResult['floor'] } | null)?.floorCorrected ?? null;
  const coValue = self && corrected && corrected.p99Us > 0 ? self.p99Us / corrected.p99Us : null;
  out.push({
    id: 'latency-self-p99-co',
    goal:
      'self-paced commit -> callback p99 <= 4 x the floor p99 corrected for coordinated ' +
      "omission (HdrHistogram's correction at the floor's own sample interval)",
    target: 4,
    value: coValue,
    met: coValue !== null && coValue <= 4,
    detail:
      self && corrected
        ? `p99 ${fmt(self.p99Us, 1)} µs vs corrected floor ${fmt(corrected.p99Us, 1)} ` +
          `µs (raw floor ${fmt(floor?.p99Us ?? null, 1)} µs)`
        : 'not run',
  });
  return out;
}

/** Zero GC events in the windows of `runs`; `none` is the detail when there are no runs. */
function zeroGcGoal(id: string, goal: string, runs: readonly ScenarioResult[], none: string): Goal {
  const gc = runs.reduce((a, s) => a + s.gc.events, 0);
  const withGc = runs.filter((s) => s.gc.events > 0).map((s) => `${s.name} (${s.gc.events})`);
  return {
    id,
    goal,
    target: 0,
    value: runs.length > 0 ? gc : null,
    met: runs.length > 0 && gc === 0,
    detail:
      runs.length === 0 ? none : withGc.length === 0 ? `0 events over ${runs.length} runs` : `in ${withGc.join(', ')}`,
  };
}

/** ", the machine without a ring X µs" when the wake step measured its hiccups (older reports: ""). */
function machineNote(wake: WakeResult | null, key: 'p50Us' | 'p99Us'): string {
  const m = wake?.machine;
  return m ? `; the machine with no ring (threads keeping the schedule) ${fmt(m.lateness[key], 1)} µs` : '';
}

/**
 * The user ring's goals: its peer goals (USER_RING_PEER_GOALS), 0 GC in the windows of its runs, and
 * the main thread blocked on a full ring woken within 2 x the raw wait/notify floor between the same
 * two threads (p50).
 */
function userRingGoals(scenarios: readonly ScenarioResult[]): Goal[] {
  const runs = scenarios.filter(
    (s) => s.group === 'user-ring' && s.params.impl === 'user-ring' && s.params.measure !== 'blocked-wake' && !s.error,
  );
  const wake = scenarios.find((s) => s.name === 'ur-blocked-wake' && !s.error)?.blockedWake ?? null;
  return [
    ...USER_RING_PEER_GOALS.map((g) => peerGoal(scenarios, g)),
    zeroGcGoal(
      'user-ring-zero-gc',
      'zero GC events in the windows of the user ring runs (main thread and drainer)',
      runs,
      'not run',
    ),
    {
      id: 'user-ring-blocked-wake',
      goal:
        'user ring: the main thread blocked in reserveBlocking on a full ring ' +
        'wakes within 2 x the wait/notify floor between the same threads (p50)',
      target: 2,
      value: wake ? wake.ratioP50 : null,
      met: wake !== null && wake.ratioP50 <= 2,
      detail: wake
        ? `p50 ${fmt(wake.blocked.p50Us, 1)} µs vs floor ${fmt(wake.floor.p50Us, 1)} µs; p99 ` +
          `${fmt(wake.blocked.p99Us, 1)} µs vs ${fmt(wake.floor.p99Us, 1)} µs (${wake.samples} samples each)`
        : 'not run',
    },
  ];
}
