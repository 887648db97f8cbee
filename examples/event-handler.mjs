// A handler module for `ringbuf load --handler`: the consumer worker calls handle() for every record,
// zero-copy, with the whole record: the instrumented header (INSTRUMENTED_HEADER_BYTES, 32 bytes:
// producer id, sequence number, send time, ...) first, then the producer's bytes. This one parses the
// JSON events of examples/event-producer.mjs, counts them by kind, and checks that every event
// arrived intact (its JSON names the producer and sequence number of its header) and in order
// (each producer's sequence numbers go up by one). close() returns the counts: `ringbuf load`
// puts them in its report (handler.close).
// Run on its own, it load-tests itself with the event producer through the ringbuf CLI:
//   node examples/event-handler.mjs
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { INSTRUMENTED_HEADER_BYTES, RECORD_PRODUCER_ID, RECORD_SEQ } from '@ringbuf/instrument';

const decoder = new TextDecoder();
const byKind = {};
const nextSeq = new Map();
let events = 0;
let bad = 0;
let outOfOrder = 0;
let amount = 0;
let failAfter = Infinity;
let lastData;
let view;

/** Awaited before the consumer starts; gets --handler-options. */
export function init(options) {
  if (typeof options?.failAfter === 'number') failAfter = options.failAfter;
}

/** Called for every record; data[offset, offset + size) is the record, valid only during the call. */
export function handle(data, offset, size) {
  if (++events > failAfter) throw new Error(`failing on purpose after ${failAfter} events`);
  if (data !== lastData) {
    // One DataView per distinct array (the ring's data), made once and reused.
    lastData = data;
    view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  const producer = view.getUint32(offset + RECORD_PRODUCER_ID, true);
  const seq = view.getUint32(offset + RECORD_SEQ, true);
  let event;
  try {
    event = JSON.parse(decoder.decode(data.subarray(offset + INSTRUMENTED_HEADER_BYTES, offset + size)));
  } catch {
    bad++;
    return;
  }
  if (event.producer !== producer || event.seq !== seq) bad++;
  if (seq !== (nextSeq.get(producer) ?? 0)) outOfOrder++;
  nextSeq.set(producer, seq + 1);
  byKind[event.kind] = (byKind[event.kind] ?? 0) + 1;
  amount += event.amount;
}

/** Awaited when the consumer stops; the (cloneable) result is the report's handler.close. */
export function close() {
  return { events, byKind, bad, outOfOrder, producers: nextSeq.size, amount };
}

if (isMainThread && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const cli = fileURLToPath(new URL('../packages/cli/dist/src/cli.js', import.meta.url));
  const producer = fileURLToPath(new URL('./event-producer.mjs', import.meta.url));
  const args = [
    cli,
    'load',
    '--producer',
    producer,
    '--handler',
    fileURLToPath(import.meta.url),
    '--size',
    '128',
    '--stages',
    '0.5s:2000,1s:2000',
    '--threshold',
    'errors==0',
    '--threshold',
    'lost==0',
    '--json',
    '--quiet',
  ];
  execFile(process.execPath, args, { timeout: 60_000 }, (err, stdout, stderr) => {
    if (err && typeof err.code !== 'number') throw err;
    const r = JSON.parse(stdout);
    const c = r.handler.close;
    const kinds = Object.entries(c.byKind)
      .sort()
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    console.log(
      `handler counted ${c.events} events from ${c.producers} producers (${kinds}), ${c.bad} bad, ${c.outOfOrder} ` +
        `out of order`,
    );
    console.log(
      `ringbuf load: ${r.ok ? 'OK' : `FAILED: ${r.failures.join('; ')}`}; thresholds ` +
        `${r.thresholds.map((t) => `${t.expr} ${t.ok ? 'pass' : 'FAIL'}`).join(', ')}`,
    );
    if (stderr.trim() !== '') process.stderr.write(stderr);
    process.exitCode = r.ok ? 0 : 1;
  });
}
