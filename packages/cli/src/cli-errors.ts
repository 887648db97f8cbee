/** Option errors shared by the CLI's commands: one line, exit status 2, no stack trace. */
import { parseArgs } from 'node:util';
import { CodedError, type CodedErrorOptions } from '@ringbuf/core';

/** A bad command line. The dispatcher prints `ringbuf: <message>` and exits 2. */
export class UsageError extends CodedError<'ERR_RINGBUF_USAGE'> {
  override readonly name: string = 'UsageError';
  /**
   * @param message one line naming the option and the accepted values
   * @param options `cause`: the error that caused this one
   */
  constructor(message: string, options?: CodedErrorOptions) {
    super('ERR_RINGBUF_USAGE', message, options);
  }
}

/**
 * A user module given on the command line (`--handler`, `--producer`) that cannot be used: it fails to
 * import, exports no function to call, or its init() throws. The command prints the message as one
 * line and exits 2, before any report.
 */
export class UserModuleError extends CodedError<'ERR_RINGBUF_USER_MODULE'> {
  override readonly name: string = 'UserModuleError';
  /**
   * @param option the option that named the module, e.g. '--handler'
   * @param file the module's path as the user should recognise it
   * @param reason what failed, e.g. "init() threw Error: no config"
   */
  constructor(
    readonly option: string,
    readonly file: string,
    readonly reason: string,
  ) {
    super('ERR_RINGBUF_USER_MODULE', `${option} ${file}: ${reason}`);
  }
}

/**
 * Checks that `raw` is one of `accepted`.
 * @throws UsageError naming the option and the accepted values.
 */
export function oneOf<T extends string>(name: string, raw: string, accepted: readonly T[]): T {
  if (!(accepted as readonly string[]).includes(raw)) {
    throw new UsageError(`${name}: '${raw}' is not one of ${accepted.join(', ')}`);
  }
  return raw as T;
}

type ParseArgsOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

/**
 * `util.parseArgs` (strict, no positionals) whose errors become one-line UsageErrors naming the
 * option and listing the accepted ones.
 * @throws UsageError for an unknown option, a missing value, or a positional argument.
 */
export function parseOptions<O extends ParseArgsOptions>(
  argv: string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>> {
  const accepted = Object.entries(options)
    .map(([name, o]) => `--${name}${o.type === 'string' ? ' <value>' : ''}`)
    .join(', ');
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const first = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const option = /'([^']+)'/.exec(first)?.[1] ?? first;
      throw new UsageError(`unknown option '${option}': accepted options are ${accepted}`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const arg = /'([^']+)'/.exec(first)?.[1] ?? first;
      throw new UsageError(`unexpected argument '${arg}': accepted options are ${accepted}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(first);
    throw e;
  }
}
