/**
 * The CLI dispatcher: usage, unknown command names (whatever the name), and bad options exit 2 with
 * one line naming the option; the bin is an executable file with a shebang.
 */
import test from 'ava';
import { accessSync, constants, readFileSync } from 'node:fs';
import { UsageError, oneOf } from '../src/cli-errors.js';
import { integer } from '../src/options.js';
import { CLI, runCli } from './cli-run.js';

test('--help lists the commands with their descriptions', async (t) => {
  const { code, stdout } = await runCli(['--help']);
  t.is(code, 0);
  t.regex(stdout, /Usage: ringbuf <command>/);
  t.regex(stdout, /^\s+bench\s+\S/m);
});

test('bench --help prints the options and runs nothing', async (t) => {
  const { code, stdout } = await runCli(['bench', '--help']);
  t.is(code, 0);
  for (const opt of ['--quick', '--scenario', '--windows', '--window-ms', '--json', '--out', '--log-level'])
    t.true(stdout.includes(opt), opt);
});

const bad: Array<[string[], RegExp]> = [
  [['nope'], /unknown command 'nope'.*bench/],
  // Names an object literal lookup would find on Object.prototype.
  ...[
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'isPrototypeOf',
    '__defineGetter__',
    'prototype',
    '',
  ].map((name): [string[], RegExp] => [
    [name],
    new RegExp(`^ringbuf: unknown command '${name}': accepted values: bench, load, order, latency$`),
  ]),
  [['bench', '--bogus'], /unknown option '--bogus'.*--quick/],
  [['bench', '--windows', 'x'], /--windows: 'x' is not an integer from 1 to/],
  [['bench', '--windows', '0'], /--windows: '0' is not an integer from 1 to/],
  [['bench', '--window-ms', '1.5'], /--window-ms: '1.5'/],
  [['bench', '--scenario', 'warp'], /--scenario: 'warp' is not one of parallel, peers, user-ring, b2b, .*micro/],
  [['bench', '--log-level', 'loud'], /--log-level: 'loud' is not one of fatal, error, warn/],
  [['bench', '--windows'], /--windows/],
  [['bench', 'extra'], /unexpected argument 'extra'/],
];
for (const [args, pattern] of bad) {
  test(`\`ringbuf ${args.join(' ')}\` exits 2 with one line and no stack trace`, async (t) => {
    const { code, stdout, stderr } = await runCli(args, 30_000);
    t.is(code, 2);
    t.is(stdout, '');
    const lines = stderr.trimEnd().split('\n');
    t.is(lines.length, 1, stderr);
    t.regex(lines[0] ?? '', pattern);
    t.false(/\n\s+at /.test(stderr));
  });
}

test('no command prints the usage and exits 2', async (t) => {
  const { code, stdout } = await runCli([]);
  t.is(code, 2);
  t.regex(stdout, /Commands:/);
});

test('the bin is an executable node script', (t) => {
  t.true(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n'));
  t.notThrows(() => accessSync(CLI, constants.X_OK));
});

test('option parsers accept what they document and refuse the rest with a UsageError', (t) => {
  t.is(integer('--n', undefined, 7, 1, 10), 7);
  t.is(integer('--n', '10', 7, 1, 10), 10);
  t.throws(() => integer('--n', '11', 7, 1, 10), { instanceOf: UsageError, message: /--n: '11'/ });
  t.throws(() => integer('--n', '1e1', 7, 1, 20), { instanceOf: UsageError });
  t.throws(() => integer('--n', '-1', 7, -5, 20), { instanceOf: UsageError });
  t.is(oneOf('--x', 'b', ['a', 'b']), 'b');
  t.throws(() => oneOf('--x', 'c', ['a', 'b']), { instanceOf: UsageError, message: "--x: 'c' is not one of a, b" });
});
