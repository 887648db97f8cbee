/** Spawning the built CLI for the cli-*.test.ts files. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext, TestFn } from 'ava';

export const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The signal that ended the process, if one did (startCli only). */
  signal?: NodeJS.Signals | null;
}

/** Runs `ringbuf ...args` to the end (bounded by `timeoutMs`). */
export function runCli(args: string[], timeoutMs = 60_000, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, RINGBUF_LOG_LEVEL: 'warn', ...env } },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
      },
    );
  });
}

/** A running CLI whose stderr lines can be awaited. */
export interface LiveCli {
  child: ChildProcess;
  /** Resolves with the first stderr line matching `re` (rejects after `timeoutMs`). */
  waitForStderr(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process exits. */
  done: Promise<CliResult>;
}

/** Starts `ringbuf ...args` and lets the test watch its stderr. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): LiveCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, RINGBUF_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of [...waiters]) {
      const line = stderr.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal === null ? -1 : 128), stdout, stderr, signal }),
    );
  });
  return {
    child,
    done,
    waitForStderr(re, timeoutMs = 30_000) {
      const line = stderr.split('\n').find((l) => re.test(l));
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no stderr line matching ${re} within ${timeoutMs} ms; stderr so far:\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

/** A seed for a test run: RINGBUF_TEST_SEED if set (to replay a failure), else from the clock. */
export function testSeed(): number {
  const env = process.env['RINGBUF_TEST_SEED'];
  return env !== undefined && /^\d+$/.test(env) ? Number(env) : Date.now() & 0x7fffffff;
}

/**
 * One test per row: `ringbuf <args>` must exit 2 with exactly one line on stderr that starts with
 * `ringbuf <command>: ` and matches `pattern`, nothing on stdout and no stack trace.
 */
export function badOptionTests(test: TestFn, rows: ReadonlyArray<readonly [string[], RegExp]>): void {
  for (const [args, pattern] of rows) {
    test(`\`ringbuf ${args.join(' ')}\` exits 2 with one line naming the option`, async (t) => {
      const { code, stdout, stderr } = await runCli(args, 20_000);
      t.is(code, 2);
      t.is(stdout, '');
      const lines = stderr.trimEnd().split('\n');
      t.is(lines.length, 1, stderr);
      t.regex(lines[0] ?? '', new RegExp(`^ringbuf ${args[0] ?? ''}: `));
      t.regex(lines[0] ?? '', pattern);
      t.notRegex(stderr, /\n\s+at /);
    });
  }
}

/** `ringbuf <args> --seed <testSeed()>`, the seed logged first (replay with RINGBUF_TEST_SEED). */
export async function runSeeded(
  t: ExecutionContext,
  args: string[],
  timeoutMs?: number,
  env?: NodeJS.ProcessEnv,
): Promise<CliResult & { seed: number }> {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  return { ...(await runCli([...args, '--seed', String(seed)], timeoutMs, env)), seed };
}

/** The one JSON object a `--json` run printed: stdout must be exactly one line. */
export function parseOneJson(stdout: string): unknown {
  const lines = stdout.trim().split('\n');
  if (lines.length !== 1) throw new Error(`stdout must be exactly one JSON line, got ${lines.length}:\n${stdout}`);
  return JSON.parse(lines[0] ?? '');
}

/** `load --handler <module> --rate <rate> --duration <sec>`: the head of a handler test's command line. */
export function handlerLoad(handler: string, rate: string, durationSec: string): string[] {
  return ['load', '--handler', handler, '--rate', rate, '--duration', durationSec];
}
