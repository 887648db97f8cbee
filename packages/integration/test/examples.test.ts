import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './lib/repo.js';

const run = promisify(execFile);
const EXAMPLES = join(ROOT, 'examples');

/** Every example and a line it must print (what it shows, with the numbers that prove it). */
const expected: Record<string, RegExp> = {
  'library.mjs': /^consumed 1000 reserved records and 1000 output records$/m,
  'producer-workers.mjs': /^3 producers, 60000 records received, 0 out of order, 0 lost; the ring was full \d+ times$/m,
  'consumer-runtime.mjs':
    /^committed (\d+), delivered \1, left behind 0, order violations 0, handler saw \d+ bytes \(largest 128\)/m,
  'iterate-records.mjs': /^iterated 10000 records \(sum of their numbers 49995000\); the event loop ran meanwhile$/m,
  'poll-async.mjs': /^received 5000 records in \d+ pollAsync calls; the timer ticked [1-9]\d* times meanwhile$/m,
  'wake-group.mjs':
    /^one consumer, two rings: 10000 records from ring 0, 10000 from ring 1, \d+ sleeps on the shared wake word$/m,
  'overwrite.mjs': /^delivered 63 records \(seq 137 to 199\), lost 137 to overwriting: 63 \+ 137 = 200$/m,
  'backoff.mjs': /^back-off {5}: 100000 records delivered, \d+ retries \(\d+\.\d per 1000 records\), 0 given up/m,
  'event-producer.mjs': /^wrote 3 events into a 72-byte payload, padded with spaces$/m,
  'event-handler.mjs': new RegExp(
    /^handler counted [1-9]\d* events from 2 producers \(buy \d+, click \d+, view \d+\), /.source +
      /0 bad, 0 out of order\nringbuf load: OK; thresholds errors==0 pass, lost==0 pass$/.source,
    'm',
  ),
  'pino-workers.mjs':
    /^3 workers and the main thread logged 15002 lines through 1 log thread: 0 out of order, 0 missing, 0 dropped$/m,
  'crash-recovery.mjs': new RegExp(
    /^recoverProducer\(1\): lock recovered false, records discarded 1; /.source +
      /the consumer now has 8 records: 100, 101, 102, 200, 201, 202, 203, 204$/.source,
    'm',
  ),
  'user-ring.mjs': new RegExp(
    /^fed 20000 commands in order through a 4096-byte user ring: the worker applied 20000, 0 out of order, /.source +
      /total 199990000; its drains woke the blocked main thread \d+ times$/.source,
    'm',
  ),
};

const files = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.mjs'))
  .sort();

test('every example in examples/ has an expected line here, and the README links each one', (t) => {
  t.deepEqual(files, Object.keys(expected).sort());
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const unlinked = files.filter((f) => !readme.includes(`(examples/${f})`));
  t.deepEqual(unlinked, [], 'README.md links every example');
});

for (const file of files) {
  // Serial: the examples run worker threads, and one at a time keeps the machine's cores for them.
  test.serial(`examples/${file} exits 0 on its own and prints what it shows`, async (t) => {
    const started = Date.now();
    const { stdout, stderr } = await run(process.execPath, [join(EXAMPLES, file)], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, RINGBUF_LOG_LEVEL: 'warn' },
    }).catch((thrown: unknown) => {
      const err = thrown as { code?: unknown; signal?: unknown; stdout?: string; stderr?: string };
      t.fail(
        `examples/${file} failed (exit ${String(err.code)}, signal ` +
          `${String(err.signal)})\nstdout:\n${err.stdout}\nstderr:\n${err.stderr}`,
      );
      return { stdout: '', stderr: '' };
    });
    if (stdout === '' && stderr === '') return;
    t.log(`${file} (${Date.now() - started} ms): ${stdout.trim().split('\n').join(' | ')}`);
    t.regex(stdout, expected[file]!, `stdout of examples/${file}:\n${stdout}\nstderr:\n${stderr}`);
  });
}

/**
 * The `js` code blocks of the library packages' READMEs, run as they are (`ts` blocks are sketches
 * and are not run). They are written under examples/node_modules so that the workspace packages
 * resolve from them as from examples/.
 */
const SNIPPET_PACKAGES = ['ringbuf-core', 'instrument', 'consumer', 'producer-pool'];
const snippetDir = join(EXAMPLES, 'node_modules', '.readme-snippets');

function jsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

test.after.always(() => rmSync(snippetDir, { recursive: true, force: true }));

for (const pkg of SNIPPET_PACKAGES) {
  test.serial(`the js example of packages/${pkg}/README.md runs and exits 0`, async (t) => {
    const blocks = jsBlocks(readFileSync(join(ROOT, 'packages', pkg, 'README.md'), 'utf8'));
    t.true(blocks.length >= 1, `packages/${pkg}/README.md has a js example`);
    mkdirSync(snippetDir, { recursive: true });
    for (const [i, code] of blocks.entries()) {
      const file = join(snippetDir, `${pkg}-${i}.mjs`);
      writeFileSync(file, code);
      const { stdout } = await run(process.execPath, [file], { cwd: ROOT, timeout: 60_000 }).catch(
        (thrown: unknown) => {
          const err = thrown as { code?: unknown; stdout?: string; stderr?: string };
          t.fail(
            `packages/${pkg}/README.md js block ${i + 1} failed (exit ` +
              `${String(err.code)})\n${code}\nstdout:\n${err.stdout}\nstderr:\n${err.stderr}`,
          );
          return { stdout: '' };
        },
      );
      t.log(`${pkg} block ${i + 1}: ${stdout.trim().split('\n').join(' | ')}`);
      t.not(stdout.trim(), '', `packages/${pkg}/README.md js block ${i + 1} prints what it shows`);
    }
  });
}
