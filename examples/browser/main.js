// The demo's main thread: creates the ring, starts the producer workers, consumes with pollAsync,
// and shows records/s and latency once a second (also as window.demoStats, which the browser test
// reads). Options: ?producers=N&size=BYTES&ring=BYTES.
import { RingBuffer } from '@ringbuf/core';
import { Consumer, OrderingVerifier } from '@ringbuf/consumer';
import { INSTRUMENTED_HEADER_BYTES, RECORD_SEND_TIME, clockMicros } from '@ringbuf/instrument';

/**
 * A module worker that sees the page's import map. Chromium applies an import map to the document
 * only, so the worker starts as a tiny classic script that loads es-module-shims (the server maps
 * /es-module-shims/), hands it the page's import map with absolute addresses, and imports the
 * module through it. A bundler makes this unnecessary.
 */
function startWorker(moduleUrl) {
  const map = JSON.parse(document.querySelector('script[type="importmap"]').textContent);
  const imports = Object.fromEntries(
    Object.entries(map.imports).map(([name, at]) => [name, new URL(at, location.href).href]),
  );
  const shim = new URL('/es-module-shims/es-module-shims.wasm.js', location.href).href;
  const source = [
    `importScripts(${JSON.stringify(shim)});`,
    `importShim.addImportMap(${JSON.stringify({ imports })});`,
    `importShim(${JSON.stringify(moduleUrl.href)}).catch((e) => setTimeout(() => { throw e; }));`,
  ].join('\n');
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);
  return worker;
}

const params = new URLSearchParams(location.search);
const PRODUCERS = Number(params.get('producers') ?? 4);
// Every record carries the instrumented header, so no record is smaller than it.
const SIZE = Math.max(INSTRUMENTED_HEADER_BYTES, Number(params.get('size') ?? 64));
const RING_BYTES = Number(params.get('ring') ?? 1 << 20);
const $ = (id) => document.getElementById(id);

/** Latency histogram of one second: buckets of 1/8 of a power of two, in microseconds. */
const BUCKETS = new Float64Array(8 * 40);
function bucketOf(us) {
  if (us < 1) return 0;
  const exp = Math.floor(Math.log2(us));
  const frac = Math.floor((us / 2 ** exp - 1) * 8);
  return Math.min(BUCKETS.length - 1, exp * 8 + frac);
}
function percentile(p, count) {
  let seen = 0;
  const want = p * count;
  for (let b = 0; b < BUCKETS.length; b++) {
    seen += BUCKETS[b];
    if (seen >= want) return 2 ** Math.floor(b / 8) * (1 + ((b % 8) + 1) / 8);
  }
  return NaN;
}
const fmtUs = (us) =>
  Number.isFinite(us) ? (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} us`) : '-';

window.demoStats = {
  state: 'loading',
  seconds: 0,
  recordsPerSecond: 0,
  total: 0,
  p50Us: NaN,
  p99Us: NaN,
  violations: 0,
  lost: null,
};

let run;

function start() {
  if (run !== undefined) return;
  if (!crossOriginIsolated) {
    $('state').textContent = 'not cross-origin isolated: serve with COOP/COEP (see README.md)';
    return;
  }
  const ring = RingBuffer.create({ size: RING_BYTES });
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const full = new Int32Array(new SharedArrayBuffer(4));
  const handle = RingBuffer.attach(ring.share());
  const view = handle.view;
  const verifier = new OrderingVerifier();
  let windowCount = 0;
  const consumer = new Consumer(handle, (_data, offset, size) => {
    const latency = clockMicros() - view.getFloat64(offset + RECORD_SEND_TIME, true);
    BUCKETS[bucketOf(latency)]++;
    windowCount++;
    verifier.check(view, offset, size);
  });
  const workers = [];
  const finished = [];
  for (let i = 0; i < PRODUCERS; i++) {
    const worker = startWorker(new URL('./producer-worker.js', import.meta.url));
    const job = { share: ring.share(), producerId: i + 1, size: SIZE, stop, full };
    finished.push(
      new Promise((resolve) => {
        // The first message says the module loaded (it imports through es-module-shims); the second is its count.
        worker.onmessage = (e) => (e.data.ready === true ? worker.postMessage(job) : resolve(e.data));
      }),
    );
    workers.push(worker);
  }
  run = { consumer, workers, stop, stopping: false };
  $('state').textContent = 'running';
  window.demoStats.state = 'running';

  const startedAt = performance.now();
  let lastFull = 0;
  const timer = setInterval(() => {
    const stats = window.demoStats;
    const p50 = percentile(0.5, windowCount);
    const p99 = percentile(0.99, windowCount);
    const fullNow = Atomics.load(full, 0);
    stats.seconds = Math.round((performance.now() - startedAt) / 1000);
    stats.recordsPerSecond = windowCount;
    stats.total = consumer.ringCounters(0).records;
    stats.p50Us = p50;
    stats.p99Us = p99;
    stats.violations = verifier.violations;
    $('rate').textContent = windowCount.toLocaleString('en');
    $('total').textContent = stats.total.toLocaleString('en');
    $('p50').textContent = fmtUs(p50);
    $('p99').textContent = fmtUs(p99);
    $('full').textContent = (fullNow - lastFull).toLocaleString('en');
    $('violations').textContent = String(stats.violations);
    $('violations').className = stats.violations === 0 ? 'value' : 'value bad';
    lastFull = fullNow;
    windowCount = 0;
    BUCKETS.fill(0);
  }, 1000);

  (async () => {
    let sliceStart = performance.now();
    while (!run.stopping) {
      await consumer.pollAsync(100);
      // A pollAsync that keeps finding records resolves on microtasks, which would starve timers
      // and rendering: yield to the event loop every ~8 ms of work.
      if (performance.now() - sliceStart > 8) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        sliceStart = performance.now();
      }
    }
    // Stop: every producer posts its count after its last commit; then drain what is left.
    const counts = await Promise.all(finished);
    while (consumer.consume() > 0);
    clearInterval(timer);
    const committed = counts.reduce((n, c) => n + c.committed, 0);
    const delivered = consumer.ringCounters(0).records;
    const report = verifier.report(Object.fromEntries(counts.map((c) => [c.producerId, c.committed])));
    consumer.close();
    workers.forEach((w) => w.terminate());
    Object.assign(window.demoStats, {
      state: 'stopped',
      total: delivered,
      lost: committed - delivered,
      violations: report.violations,
    });
    $('total').textContent = delivered.toLocaleString('en');
    $('lost').textContent = String(committed - delivered);
    $('violations').textContent = String(report.violations);
    $('state').textContent =
      `stopped: ${committed.toLocaleString('en')} committed, ${delivered.toLocaleString('en')} delivered`;
    run = undefined;
  })();
}

function stopRun() {
  if (run === undefined || run.stopping) return;
  run.stopping = true;
  // Publishes "stop" to the producers' loads; the pending pollAsync ends within its 100 ms timeout.
  Atomics.store(run.stop, 0, 1);
  $('state').textContent = 'stopping';
}

$('producers-count').textContent = String(PRODUCERS);
$('isolation').textContent = `crossOriginIsolated: ${crossOriginIsolated}`;
$('start').addEventListener('click', start);
$('stop').addEventListener('click', stopRun);
start();
