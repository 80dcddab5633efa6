// node:util parseArgs, with its errors turned into one-line UsageErrors.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.ts';

export function parseCommandLine<T extends ParseArgsConfig['options']>(command: string, argv: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const detail = e.message.split('.')[0].replace(/^Option '/, "option '");
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`${detail.replace(/^Unknown option/, 'unknown option')}; see herd ${command} --help`);
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument; see herd ${command} --help`);
    throw new UsageError(`${detail}; see herd ${command} --help`);
  }
}
