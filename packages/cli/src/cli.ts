#!/usr/bin/env node
/**
 * The `ringbuf` command-line entry: a small dispatcher over a table of commands. Each command is a
 * module in `commands/` exporting `run(argv): Promise<number>` (the exit code); adding a command is
 * one row below.
 *
 * The signal handlers are installed first, before any heavy module is loaded (the commands are
 * imported dynamically once their name is known), so Ctrl-C or SIGTERM at any moment is handled:
 * see run/signals.ts. Unknown command names (whatever the name, `constructor` and `__proto__`
 * included: the table is a Map) and bad options exit with status 2 and one line on stderr.
 */
import { interrupts } from './run/signals.js';
import { UsageError } from './cli-errors.js';

interrupts.install();

/** A command module: what `ringbuf <name>` runs. */
export interface Command {
  run(argv: string[]): Promise<number>;
}

interface CommandEntry {
  description: string;
  load(): Promise<Command>;
}

/** The command table: names, one-line descriptions, and the module each loads. */
export const COMMANDS: ReadonlyMap<string, CommandEntry> = new Map<string, CommandEntry>([
  [
    'bench',
    {
      description: "benchmarks modelled on the kernel's bench_ringbufs, with the JS peers side by side",
      load: () => import('./commands/bench.js'),
    },
  ],
  [
    'load',
    {
      description: 'N producer workers into one ring, one consumer, ordering verified; throughput, drops, latency',
      load: () => import('./commands/load.js'),
    },
  ],
  [
    'order',
    {
      description: 'a causal chain of events through one shared ring vs per-producer rings: causal violations of each',
      load: () => import('./commands/order.js'),
    },
  ],
  [
    'latency',
    {
      description: 'open-loop latency percentiles per wake policy side by side, with the raw Atomics wait/notify floor',
      load: () => import('./commands/latency.js'),
    },
  ],
]);

function usage(): string {
  const names = [...COMMANDS.keys()];
  const width = Math.max(...names.map((n) => n.length));
  return [
    'Usage: ringbuf <command> [options]',
    '',
    'Commands:',
    ...[...COMMANDS].map(([n, c]) => `  ${n.padEnd(width)}  ${c.description}`),
    '',
    'Run `ringbuf <command> --help` for its options.',
    '',
  ].join('\n');
}

/** Node's parseArgs errors carry codes starting with ERR_PARSE_ARGS. */
function isParseArgsError(e: unknown): e is Error & { code: string } {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** Runs the CLI with `argv` (without node and the script). Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS.get(name);
  if (entry === undefined) {
    process.stderr.write(`ringbuf: unknown command '${name}': accepted values: ${[...COMMANDS.keys()].join(', ')}\n`);
    return 2;
  }
  const { childLogger } = await import('@ringbuf/instrument/log');
  childLogger({ component: 'cli' }).debug(
    { command: name, signals: ['SIGINT', 'SIGTERM'] },
    'signal handlers installed; loading the command',
  );
  const command = await entry.load();
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError || isParseArgsError(e)) {
      const message = (e as Error).message.split('\n')[0];
      process.stderr.write(`ringbuf ${name}: ${message} (see ringbuf ${name} --help)\n`);
      return 2;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
