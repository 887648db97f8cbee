import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { range, records, seqsByTag, tmpFile } from './helpers.js';

const run = promisify(execFile);
const PROGRAM = fileURLToPath(new URL('./fixtures/main-exit.js', import.meta.url));

for (const [mode, code] of [
  ['end', 0],
  ['exit', 0],
  ['throw', 1],
] as const) {
  test.serial(
    `the main thread ending by ` +
      `${mode === 'end' ? 'running out of work' : mode === 'exit' ? 'process.exit()' : 'an uncaught exception'}: ` +
      `every line written before is in the file after the process is gone`,
    async (t) => {
      const file = tmpFile(`main-${mode}.log`);
      const count = 3000;
      const started = Date.now();
      const result = await run(process.execPath, [PROGRAM, file, mode, String(count)], { timeout: 30_000 }).then(
        () => ({ code: 0, stderr: '' }),
        (err: unknown) => {
          const { code, stderr } = err as { code?: number; stderr?: string };
          return { code, stderr: stderr ?? '' };
        },
      );
      t.log(`exited ${String(result.code)} after ${Date.now() - started} ms`);
      t.is(result.code, code, result.stderr);
      if (mode === 'throw') t.regex(result.stderr, /an uncaught exception/);
      const bySeq = seqsByTag(records(file));
      t.deepEqual(bySeq.get('main'), range(count));
      t.deepEqual(bySeq.get('worker'), range(count));
    },
  );
}
