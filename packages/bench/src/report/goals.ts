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
export interface PairedRatio {
  /** ours / peer of each round in which both ran. */
  rounds: number[];
  /** Ours and the peer in records per second, per round. */
  ours: number[];
  peer: number[];
  /** The median of `rounds` (the middle one of three), or null when no round has both. */
  value: number | null;
}

/** ours / peer round by round (`base`, `base-2`, ...), as the peers group runs them. */
export function pairedRatio(scenarios: readonly ScenarioResult[], oursBase: string, peerBase: string): PairedRatio {
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
  return `rounds ${p.rounds.map((v) => fmt(v)).join(' / ')}; median round ${oursName} ${fmt((p.ours[k] ?? 0) / 1e6)} M/s vs ${peerName} ${fmt((p.peer[k] ?? 0) / 1e6)} M/s`;
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
    for (const peer of ['ringbufjs-1', 'postmessage-1', 'postmessage-1-unbounded']) {
      out.push({ name: `${ours} / ${peer}`, ours, peer, value: pairedRatio(scenarios, ours, peer).value });
    }
  }
  const ref = hits(scenarios, 'rb-peer-ref') ?? hits(scenarios, 'rb-parallel');
  for (const peer of ['ringbufjs-64', 'postmessage-64']) {
    out.push({ name: `rb-peer-ref / ${peer}`, ours: 'rb-peer-ref', peer, value: ratio(ref, hits(scenarios, peer)) });
  }
  out.push({
    name: `${claimName} / ringbufjs-64`,
    ours: claimName,
    peer: 'ringbufjs-64',
    value: ratio(hits(scenarios, claimName), hits(scenarios, 'ringbufjs-64')),
  });
  out.push({
    name: 'rb-mpsc-p1 / spsc-rings-p1',
    ours: 'rb-mpsc-p1',
    peer: 'spsc-rings-p1',
    value: ratio(hits(scenarios, 'rb-mpsc-p1'), hits(scenarios, 'spsc-rings-p1')),
  });
  for (const other of ['rb-parallel-sampled', 'rb-b2b']) {
    for (const peer of ['ringbufjs-1', 'postmessage-1']) {
      out.push({
        name: `${other} / ${peer}`,
        ours: other,
        peer,
        value: ratio(hits(scenarios, other), hits(scenarios, peer)),
      });
    }
  }
  for (const n of [2, 4, 8]) {
    out.push({
      name: `rb-mpsc-p${n} / spsc-rings-p${n}`,
      ours: `rb-mpsc-p${n}`,
      peer: `spsc-rings-p${n}`,
      value: ratio(hits(scenarios, `rb-mpsc-p${n}`), hits(scenarios, `spsc-rings-p${n}`)),
    });
  }
  for (const ours of ['ur-main', 'ur-main-blocking', 'ur-main-excl']) {
    for (const peer of ['ur-postmessage-main', 'ur-ringbufjs-main']) {
      out.push({ name: `${ours} / ${peer}`, ours, peer, value: pairedRatio(scenarios, ours, peer).value });
    }
  }
  out.push({
    name: 'rb-b2b-output / rb-b2b (output vs reserve)',
    ours: 'rb-b2b-output',
    peer: 'rb-b2b',
    value: ratio(hits(scenarios, 'rb-b2b-output'), hits(scenarios, 'rb-b2b')),
  });
  return out;
}

const fmt = (v: number | null, digits = 2): string => (v === null ? 'n/a' : v.toFixed(digits));

/** The latency summary of a scenario, or null. */
function latencyOf(scenarios: readonly ScenarioResult[], name: string): ScenarioResult['latency'] {
  return scenarios.find((x) => x.name === name && !x.error)?.latency ?? null;
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
  const out: Goal[] = [];
  const peerGoal = (id: string, goal: string, target: number, oursBase: string, peerBase: string): void => {
    const p = pairedRatio(scenarios, oursBase, peerBase);
    out.push({
      id,
      goal,
      target,
      value: p.value,
      met: p.value !== null && p.value >= target,
      detail: pairedDetail(p, oursBase, peerBase),
    });
  };
  peerGoal(
    'vs-ringbufjs',
    '1 producer, 16 B, one record per reserve+copy+submit >= 1.0 x ringbuf.js one-item push/pop (median of the rounds)',
    1.0,
    'rb-peer-ref',
    'ringbufjs-1',
  );
  peerGoal(
    'vs-postmessage',
    '1 producer, 16 B, reserve+submit >= 15 x postMessage, one record per message, 4096 in flight at most (median of the rounds)',
    15,
    'rb-peer-ref',
    'postmessage-1',
  );
  peerGoal(
    'vs-postmessage-unbounded',
    '1 producer, 16 B, reserve+submit >= 15 x postMessage, one record per message, unbounded in flight (median of the rounds)',
    15,
    'rb-peer-ref',
    'postmessage-1-unbounded',
  );
  peerGoal(
    'vs-ringbufjs-words',
    '1 producer, 16 B, one record per reserve + copy as four 32-bit words + submit >= 1.0 x ringbuf.js one-item push/pop',
    1.0,
    'rb-peer-words',
    'ringbufjs-1',
  );
  peerGoal(
    'vs-ringbufjs-output',
    "1 producer, 16 B, one output() per record under the lock (the kernel's bpf_ringbuf_output, multi-producer safe) >= 1.0 x ringbuf.js one-item push/pop",
    1.0,
    'rb-peer-output',
    'ringbufjs-1',
  );
  peerGoal(
    'vs-ringbufjs-exclusive',
    '1 producer holding the ring exclusively (claimExclusive), 16 B, one output() per record >= 1.0 x ringbuf.js one-item push/pop',
    1.0,
    'rb-peer-excl-output',
    'ringbufjs-1',
  );
  peerGoal(
    'vs-postmessage-exclusive',
    '1 producer holding the ring exclusively, 16 B, one output() per record >= 15 x postMessage',
    15,
    'rb-peer-excl-output',
    'postmessage-1',
  );
  peerGoal(
    'batch-vs-ringbufjs',
    `reserveBatch(16, ${CLAIM}) + submitBatch, per record >= 2.0 x ringbuf.js one-item push/pop`,
    2.0,
    `rb-peer-claim${CLAIM}`,
    'ringbufjs-1',
  );
  peerGoal(
    'batch-pass-vs-ringbufjs',
    `reserveBatch(16, ${CLAIM}) + submitBatch, consumer_pos published once per pass (rb-custom), per record >= 2.0 x ringbuf.js one-item push/pop`,
    2.0,
    `rb-peer-claim${CLAIM}-pass`,
    'ringbufjs-1',
  );
  peerGoal(
    'batch-words-vs-ringbufjs',
    `reserveBatch(16, ${CLAIM}), payloads copied as 32-bit words, + submitBatch, per record >= 2.0 x ringbuf.js one-item push/pop`,
    2.0,
    `rb-peer-claim${CLAIM}-words`,
    'ringbufjs-1',
  );
  peerGoal(
    'batch-pass-words-vs-ringbufjs',
    `reserveBatch(16, ${CLAIM}), payloads copied as 32-bit words, + submitBatch, consumer_pos once per pass, per record >= 2.0 x ringbuf.js one-item push/pop`,
    2.0,
    `rb-peer-claim${CLAIM}-pass-words`,
    'ringbufjs-1',
  );
  for (const mode of ['b2b', 'parallel'] as const) {
    const rate1 = hits(scenarios, `rb-${mode}-rate-1`);
    const selfPaced = hits(scenarios, `rb-${mode}`);
    const r = ratio(rate1, selfPaced);
    out.push({
      id: `wakeup-${mode}`,
      goal: `${mode}: sample rate 1 (FORCE_WAKEUP on every record) >= 0.5 x self-paced (kernel: 1.106 / 20.9 = 0.05)`,
      target: 0.5,
      value: r,
      met: r !== null && r >= 0.5,
      detail: `${fmt(rate1 && rate1 / 1e6)} M/s vs ${fmt(selfPaced && selfPaced / 1e6)} M/s`,
    });
  }
  const s4k = scenarios.find((s) => s.name === 'rb-size-4096' && !s.error);
  const m4k = memcpy.find((m) => m.size === 4096);
  const r4k = s4k && m4k ? s4k.bytesPerSec / m4k.bytesPerSec : null;
  out.push({
    id: 'bandwidth-4k',
    goal: '4 KiB records >= 0.5 x single-thread memcpy bandwidth',
    target: 0.5,
    value: r4k,
    met: r4k !== null && r4k >= 0.5,
    detail: `${fmt(s4k ? s4k.bytesPerSec / 1e9 : null)} GB/s vs memcpy ${fmt(m4k ? m4k.bytesPerSec / 1e9 : null)} GB/s`,
  });
  const busy = latencyOf(scenarios, 'rb-latency-busy');
  out.push({
    id: 'latency-busy-p50',
    goal: 'busy-polling consumer, commit -> callback p50 <= 10 µs',
    target: 10,
    value: busy ? busy.p50Us : null,
    met: busy !== null && busy.p50Us <= 10,
    detail: busy ? `p50 ${fmt(busy.p50Us, 1)} µs, p99 ${fmt(busy.p99Us, 1)} µs` : 'not run',
  });
  const self = latencyOf(scenarios, 'rb-latency');
  const floor = wake?.floor ?? null;
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
    goal: "self-paced commit -> callback p99 <= 4 x the floor p99 corrected for coordinated omission (HdrHistogram's correction at the floor's own sample interval)",
    target: 4,
    value: coValue,
    met: coValue !== null && coValue <= 4,
    detail:
      self && corrected
        ? `p99 ${fmt(self.p99Us, 1)} µs vs corrected floor ${fmt(corrected.p99Us, 1)} µs (raw floor ${fmt(floor?.p99Us ?? null, 1)} µs)`
        : 'not run',
  });
  userRingGoals(scenarios, out, peerGoal);
  // Every run of ours counts, the latency runs included.
  const ourRuns = scenarios.filter((s) => (s.params.impl === 'ringbuf' || s.params.impl === 'spsc-rings') && !s.error);
  const gc = ourRuns.reduce((a, s) => a + s.gc.events, 0);
  const withGc = ourRuns.filter((s) => s.gc.events > 0).map((s) => `${s.name} (${s.gc.events})`);
  out.push({
    id: 'zero-gc',
    goal: 'zero GC events in the steady-state windows of every scenario of ours (2-8 producers and latency included)',
    target: 0,
    value: ourRuns.length > 0 ? gc : null,
    met: ourRuns.length > 0 && gc === 0,
    detail:
      ourRuns.length === 0
        ? 'no runs of ours'
        : withGc.length === 0
          ? `0 events over ${ourRuns.length} runs`
          : `in ${withGc.join(', ')}`,
  });
  return out;
}

/** ", the machine without a ring X µs" when the wake step measured its hiccups (older reports: ""). */
function machineNote(wake: WakeResult | null, key: 'p50Us' | 'p99Us'): string {
  const m = wake?.machine;
  return m ? `; the machine with no ring (threads keeping the schedule) ${fmt(m.lateness[key], 1)} µs` : '';
}

/**
 * The user ring's goals (BPF_MAP_TYPE_USER_RINGBUF, the main thread feeding one draining worker
 * 16-byte commands): >= 10 x postMessage and >= 1.0 x ringbuf.js from the main thread (median of the
 * interleaved rounds), 0 GC in the windows of its runs, and the main thread blocked on a full ring
 * woken within 2 x the raw wait/notify floor between the same two threads (p50).
 */
function userRingGoals(
  scenarios: readonly ScenarioResult[],
  out: Goal[],
  peerGoal: (id: string, goal: string, target: number, oursBase: string, peerBase: string) => void,
): void {
  peerGoal(
    'user-ring-vs-postmessage',
    'user ring, main thread -> worker, 16 B commands, reserve + submit >= 10 x postMessage main -> worker (4096 in flight)',
    10,
    'ur-main',
    'ur-postmessage-main',
  );
  peerGoal(
    'user-ring-vs-ringbufjs',
    'user ring, main thread -> worker, 16 B commands, reserve + submit >= 1.0 x ringbuf.js push from main',
    1.0,
    'ur-main',
    'ur-ringbufjs-main',
  );
  peerGoal(
    'user-ring-blocking-vs-postmessage',
    'user ring, main thread -> worker, reserveBlocking + submit >= 10 x postMessage main -> worker',
    10,
    'ur-main-blocking',
    'ur-postmessage-main',
  );
  peerGoal(
    'user-ring-excl-vs-ringbufjs',
    "user ring, main thread holding it exclusively (no lock round, as libbpf's producer), reserve + submit >= 1.0 x ringbuf.js push from main",
    1.0,
    'ur-main-excl',
    'ur-ringbufjs-main',
  );
  peerGoal(
    'user-ring-blocking-vs-ringbufjs',
    'user ring, main thread -> worker, reserveBlocking + submit >= 1.0 x ringbuf.js push from main',
    1.0,
    'ur-main-blocking',
    'ur-ringbufjs-main',
  );
  const runs = scenarios.filter(
    (s) => s.group === 'user-ring' && s.params.impl === 'user-ring' && s.params.measure !== 'blocked-wake' && !s.error,
  );
  const gc = runs.reduce((a, s) => a + s.gc.events, 0);
  const withGc = runs.filter((s) => s.gc.events > 0).map((s) => `${s.name} (${s.gc.events})`);
  out.push({
    id: 'user-ring-zero-gc',
    goal: 'zero GC events in the windows of the user ring runs (main thread and drainer)',
    target: 0,
    value: runs.length > 0 ? gc : null,
    met: runs.length > 0 && gc === 0,
    detail:
      runs.length === 0
        ? 'not run'
        : withGc.length === 0
          ? `0 events over ${runs.length} runs`
          : `in ${withGc.join(', ')}`,
  });
  const wake = scenarios.find((s) => s.name === 'ur-blocked-wake' && !s.error)?.blockedWake ?? null;
  out.push({
    id: 'user-ring-blocked-wake',
    goal: 'user ring: the main thread blocked in reserveBlocking on a full ring wakes within 2 x the wait/notify floor between the same threads (p50)',
    target: 2,
    value: wake ? wake.ratioP50 : null,
    met: wake !== null && wake.ratioP50 <= 2,
    detail: wake
      ? `p50 ${fmt(wake.blocked.p50Us, 1)} µs vs floor ${fmt(wake.floor.p50Us, 1)} µs; p99 ${fmt(wake.blocked.p99Us, 1)} µs vs ${fmt(wake.floor.p99Us, 1)} µs (${wake.samples} samples each)`
      : 'not run',
  });
}
