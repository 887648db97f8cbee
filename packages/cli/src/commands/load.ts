/**
 * `ringbuf load`: N producer workers into one ring, one consumer worker with the ordering verifier
 * and latency histograms on; a progress line a second on stderr, then a table (or one JSON object
 * with `--json`) on stdout. Exit 1 when anything was lost, duplicated or reordered.
 */
import type { Scenario } from '@ringbuf/producer-pool';
import { LOG_LEVELS, childLogger, threadLogger } from '@ringbuf/instrument/log';
import { UsageError, oneOf, parseOptions } from '../cli-errors.js';
import { checkFits, integer, logLevel, payloadSize, positiveNumber, ratio, ringSize, wakeup, wakeupName, COMMON_OPTIONS } from '../options.js';
import { EXIT_FAILED, EXIT_OK, loadJson, renderLoad, runPassed } from '../report/load-report.js';
import { runOnce, describeNotDrained } from '../run/engine.js';
import { ProgressLine } from '../run/progress.js';
import { interrupts } from '../run/signals.js';

export const usage = `Usage: ringbuf load [options]

N producer worker threads (standing in for CPUs) write instrumented records into one ring; one
consumer worker drains it, checking that every committed record arrives exactly once, in each
producer's order, and timing each one end to end. One progress line a second on stderr; a table
(or one JSON object) on stdout at the end.

Options:
  --producers <n>          producer workers (default 2)
  --duration <sec>         how long the producers run (default 5; not with --records alone)
  --records <n>            records each producer attempts, instead of a duration
                           (with --duration too: whichever ends first)
  --size <bytes|min-max>   payload size, fixed or uniform in a range, at least 24 (default 64)
  --ring-size <bytes>      ring data size: a power of two from 4096 to 1G, e.g. 65536, 1M (default 1M)
  --mode <reserve|output>  reserve + write in place + submit, or copy with bpf_ringbuf_output (default reserve)
  --discard-ratio <r>      fraction of reservations discarded instead of submitted, 0 to 1 (reserve mode)
  --wakeup <policy>        self (flags 0: the kernel's self-pacing), none (BPF_RB_NO_WAKEUP; the consumer
                           is then woken by a 1 ms poll timer), force (BPF_RB_FORCE_WAKEUP), sampled:N
                           (FORCE once N records are pending, else NO_WAKEUP) (default self)
  --rate <n>               open loop: records per second per producer on a fixed schedule (latency
                           measured from the intended send time); default closed loop (as fast as possible)
  --overwrite              overwrite mode (BPF_F_RB_OVERWRITE): producers never fail, the oldest
                           records are overwritten. Overwritten records are reported as 'overwritten'
                           and NOT counted as lost; lost still counts any committed record that was
                           neither delivered nor overwritten.
  --kill-producer-every <ms>  fault injection: kill a random producer this often (a replacement starts);
                           the ring is recovered (lock, reserved records) and nothing committed is lost
  --seed <n>               seed of every random choice (sizes, discards, kills); printed in the report
  --quiet                  no progress line
  --json                   print exactly one JSON object on stdout instead of the table
  --log-level <level>      ${LOG_LEVELS.join(', ')} (default: RINGBUF_LOG_LEVEL or warn); logs go to stderr
  -h, --help               this text

Ctrl-C (or SIGTERM) stops the producers, drains the consumer and prints the final report with the
loss count; a second Ctrl-C exits at once (status 130) and says what was not drained.
Exit status: 0 all delivered once and in order, 1 something lost, duplicated or reordered, 2 bad options.
`;

const MODES = ['reserve', 'output'] as const;

/**
 * Runs the command. Returns the exit code. Thread: main.
 * @throws UsageError for bad options (the dispatcher prints it and exits 2).
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    producers: { type: 'string' },
    duration: { type: 'string' },
    records: { type: 'string' },
    size: { type: 'string' },
    'ring-size': { type: 'string' },
    mode: { type: 'string' },
    'discard-ratio': { type: 'string' },
    wakeup: { type: 'string' },
    rate: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    'kill-producer-every': { type: 'string' },
    ...COMMON_OPTIONS,
  });
  if (values.help) {
    process.stdout.write(usage);
    return EXIT_OK;
  }
  const level = logLevel(values['log-level']);
  const producers = integer('--producers', values.producers, 2, 1, 256);
  const records = values.records === undefined ? undefined : integer('--records', values.records, 0, 1, Number.MAX_SAFE_INTEGER);
  const durationSec = values.duration === undefined && records !== undefined ? undefined : positiveNumber('--duration', values.duration, 5, 86_400);
  const size = payloadSize('--size', values.size, 64);
  const ring = ringSize('--ring-size', values['ring-size'], 1024 * 1024);
  checkFits(size, values.size, ring);
  const mode = values.mode === undefined ? 'reserve' : oneOf('--mode', values.mode, MODES);
  const discardRatio = ratio('--discard-ratio', values['discard-ratio'], 0);
  if (mode === 'output' && discardRatio > 0) {
    throw new UsageError(`--discard-ratio: bpf_ringbuf_output cannot discard; accepted with --mode reserve only`);
  }
  const wake = wakeup('--wakeup', values.wakeup, 'self');
  const ratePerProducer = values.rate === undefined ? undefined : positiveNumber('--rate', values.rate, 0, 1e9);
  const killEveryMs = values['kill-producer-every'] === undefined ? undefined : integer('--kill-producer-every', values['kill-producer-every'], 0, 1, 3_600_000);
  const seed = integer('--seed', values.seed, Date.now() & 0x7fffffff, 0, 0x7fffffff);
  threadLogger(level);
  const log = childLogger({ component: 'cli', command: 'load' });

  const scenario: Scenario = {
    payload: size,
    api: mode,
    discardRatio,
    wakeup: wake,
    ...(records === undefined ? {} : { records }),
    ...(durationSec === undefined ? {} : { durationMs: durationSec * 1000 }),
    ...(ratePerProducer === undefined ? {} : { ratePerProducer }),
  };
  const shown: Record<string, string> = {
    producers: String(producers),
    ...(durationSec === undefined ? {} : { duration: `${durationSec} s` }),
    ...(records === undefined ? {} : { records: `${records} per producer` }),
    size: typeof size === 'number' ? `${size} B` : 'min' in size ? `${size.min}-${size.max} B` : 'weighted',
    ring: `${ring} B`,
    mode,
    wakeup: wakeupName(wake),
    ...(ratePerProducer === undefined ? { loop: 'closed' } : { rate: `${ratePerProducer}/s per producer` }),
    ...(discardRatio > 0 ? { discard: String(discardRatio) } : {}),
    ...(values.overwrite ? { overwrite: 'on' } : {}),
    ...(killEveryMs === undefined ? {} : { 'kill every': `${killEveryMs} ms` }),
  };
  const progress = new ProgressLine(process.stderr, !values.quiet);
  const signal = interrupts.begin({ stopping: 'stopping the producers and draining the consumer', notDrained: describeNotDrained, say: (line) => progress.message(line) });
  log.info({ options: shown, seed }, 'load starting');
  try {
    const outcome = await runOnce({
      label: 'load',
      producers,
      scenario,
      ringSize: ring,
      overwrite: values.overwrite === true,
      pollTimerMs: wake === 'none' ? 1 : 0,
      ...(killEveryMs === undefined ? {} : { killEveryMs }),
      seed,
      logLevel: level,
      log,
      progress,
      signal,
    });
    const options = {
      producers,
      durationSec: durationSec ?? null,
      recordsPerProducer: records ?? null,
      size,
      ringSize: ring,
      mode,
      discardRatio,
      wakeup: wakeupName(wake),
      ratePerProducer: ratePerProducer ?? null,
      overwrite: values.overwrite === true,
      killProducerEveryMs: killEveryMs ?? null,
    };
    if (values.json) process.stdout.write(JSON.stringify(loadJson(outcome, options)) + '\n');
    else process.stdout.write(renderLoad(outcome, shown, values.overwrite === true));
    const passed = runPassed(outcome);
    if (!passed) log.error({ lost: outcome.lost, duplicates: outcome.duplicates, orderViolations: outcome.orderViolations }, 'load run failed its checks');
    return passed ? EXIT_OK : EXIT_FAILED;
  } catch (err) {
    progress.end();
    log.error({ err }, 'load run failed');
    process.stderr.write(`ringbuf load: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    interrupts.end();
  }
}
