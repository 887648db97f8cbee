#!/usr/bin/env node
/**
 * The `ringbuf` command-line entry: a small dispatcher over a table of commands. Each command is a
 * module in `commands/` exporting `run(argv): Promise<number>` (the exit code) and a one-line
 * `description`; adding a command is one import and one row below.
 *
 * Bad options exit with status 2 and one line on stderr naming the option and what it accepts.
 */
import * as bench from './commands/bench.js';
import * as latency from './commands/latency.js';
import * as load from './commands/load.js';
import * as order from './commands/order.js';
import { UsageError } from './cli-errors.js';

/** A command: what `ringbuf <name>` runs. */
export interface Command {
  description: string;
  run(argv: string[]): Promise<number>;
}

/** The command table. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  bench,
  load,
  order,
  latency,
};

function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'Usage: ringbuf <command> [options]',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.description}`),
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
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`ringbuf: unknown command '${name}': accepted values: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
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
