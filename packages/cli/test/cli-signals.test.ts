/**
 * Ctrl-C and SIGTERM from the first moment: the entry installs its handlers before it loads any
 * command, so a signal during start-up, option parsing or the start of a run never kills the process
 * by the signal. Before a run has started it exits 130 with one line; once a run has started it
 * drains and reports. The built CLI is spawned and signalled right after its handlers are in (its
 * debug log line says when), and again at several moments of the start-up.
 */
import test from 'ava';
import { setTimeout as delay } from 'node:timers/promises';
import { startCli, testSeed, type CliResult } from './cli-run.js';

const READY = /signal handlers installed/;

/** Either outcome the convention allows: 130 with one line before the run, a drained report after. */
function handled(
  t: {
    true(v: boolean, m?: string): void;
    is(a: unknown, b: unknown, m?: string): void;
    regex(s: string, r: RegExp, m?: string): void;
  },
  r: CliResult,
  what: string,
): 'before' | 'drained' {
  if (r.code === 130) {
    t.regex(r.stderr, /^ringbuf: SIG(INT|TERM) before a run started: exiting \(nothing to drain\)$/m, what);
    t.is(r.stdout, '', `${what}: no report before a run`);
    return 'before';
  }
  t.is(r.code, 0, `${what}: exit ${r.code}, stderr:\n${r.stderr}`);
  const report = JSON.parse(r.stdout.trim()) as { interrupted: boolean; lost: number; drain: { reason: string } };
  t.true(report.interrupted, what);
  t.is(report.lost, 0, what);
  t.is(report.drain.reason, 'drained', what);
  return 'drained';
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test.serial(
    `${signal} right after the handlers are in, before the command is loaded: one line, exit 130`,
    async (t) => {
      const cli = startCli(['load', '--duration', '30', '--json'], {
        RINGBUF_LOG_LEVEL: 'debug',
        RINGBUF_LOG_PRETTY: '0',
      });
      t.teardown(() => cli.child.kill('SIGKILL'));
      await cli.waitForStderr(READY);
      cli.child.kill(signal);
      const r = await cli.done;
      t.is(r.code, 130, r.stderr);
      t.regex(r.stderr, new RegExp(`^ringbuf: ${signal} before a run started: exiting \\(nothing to drain\\)$`, 'm'));
      t.is(r.stdout, '');
    },
  );
}

test.serial('a signal at any moment of the start-up is handled: never a death by the signal', async (t) => {
  const seed = testSeed();
  t.log(`seed ${seed}`);
  const outcomes: string[] = [];
  for (const afterMs of [0, 20, 60, 150, 300, 600]) {
    const cli = startCli(['load', '--duration', '30', '--ring-size', '64K', '--seed', String(seed), '--json'], {
      RINGBUF_LOG_LEVEL: 'debug',
      RINGBUF_LOG_PRETTY: '0',
    });
    t.teardown(() => cli.child.kill('SIGKILL'));
    await cli.waitForStderr(READY);
    await delay(afterMs);
    cli.child.kill('SIGINT');
    const r = await cli.done;
    t.not(r.signal, 'SIGINT', `${afterMs} ms: killed by the signal`);
    outcomes.push(`${afterMs} ms: ${handled(t, r, `${afterMs} ms`)}`);
  }
  t.log(outcomes.join(', '));
});
