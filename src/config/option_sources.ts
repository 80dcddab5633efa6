// Where each serve option comes from: flags > environment > config file > defaults. Built on the
// command's own option table (node:util parseArgs's), so a flag added as a row there is settable
// from the environment and from a file with no other change: a file or environment value is turned
// into the same string (or boolean) the flag would give and goes through the same parser.
import type { ParseArgsConfig } from 'node:util';
import { HerdError, UsageError } from '../errors.ts';
import { parseCommandLine } from '../cli/arguments.ts';
import { findConfigFile, readConfigFile } from './config_file.ts';

export type OptionTable = NonNullable<ParseArgsConfig['options']>;

/** Where one option's value came from; absent from the map: its default. */
export type OptionOrigin =
  | { from: 'flag' }
  | { from: 'env'; name: string }
  | { from: 'file'; file: string };

export interface OptionSources {
  env?: NodeJS.ProcessEnv;
  /** Where herd.config.json / herd.config.js are looked for. */
  cwd?: string;
}

/** Options that only make sense on the command line. */
const FLAG_ONLY = new Set(['help', 'config']);

/** The names every Node host already sets; the rest are HERD_ and the flag's name. */
const CONVENTIONAL_ENV: Record<string, string> = { port: 'PORT', host: 'HOST', workers: 'WEB_CONCURRENCY' };

/** The positional APP, settable as "app" in a file or HERD_APP. */
export const APP_KEY = 'app';

/** The variables that set an option, the first set one winning: HERD_<NAME>, then PORT, HOST or WEB_CONCURRENCY. */
export function environmentNames(key: string): string[] {
  const own = `HERD_${key.toUpperCase().replaceAll('-', '_')}`;
  return CONVENTIONAL_ENV[key] ? [own, CONVENTIONAL_ENV[key]] : [own];
}

/** The keys a file or the environment may set: every table row but help and config, and app. */
export function layeredKeys(table: OptionTable): string[] {
  return [APP_KEY, ...Object.keys(table).filter((k) => !FLAG_ONLY.has(k))];
}

/**
 * parseArgs on argv, then every option the flags left unset filled from the environment, then from
 * the config file (--config FILE, HERD_CONFIG, or herd.config.json / herd.config.js in cwd).
 * The values keep parseArgs's types; `origins` says where each set value came from.
 */
/**
 * `optionalValues`: flags whose value may be left out, with the value they then take (bare
 * `--watch` is `--watch=.`); a value is then only given as --flag=VALUE, so that `--watch app.js`
 * stays a flag and an APP. In a file, true means the same.
 */
export function resolveOptions<T extends OptionTable>(command: string, argv: string[], table: T, sources: OptionSources = {}, optionalValues: Record<string, string> = {}) {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const expanded = argv.map((a) => (a.startsWith('--') && optionalValues[a.slice(2)] !== undefined ? `${a}=${optionalValues[a.slice(2)]}` : a));
  const parsed = parseCommandLine(command, expanded, table);
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const positionals = [...parsed.positionals];
  const origins = new Map<string, OptionOrigin>();
  for (const key of Object.keys(values)) origins.set(key, { from: 'flag' });
  if (positionals.length > 0) origins.set(APP_KEY, { from: 'flag' });
  let file: string | null = null;
  if (values.help) return { values: parsed.values, positionals, origins, file, env };

  const given = typeof values.config === 'string' ? values.config : env.HERD_CONFIG || undefined;
  file = given !== undefined ? given : findConfigFile(cwd);
  const fromFile: { values?: Record<string, unknown> } = file === null ? {} : readConfigFile(file, cwd);
  if (file !== null) file = (fromFile as { path: string }).path;
  const known = new Set(layeredKeys(table));
  for (const key of Object.keys(fromFile.values ?? {})) {
    if (!known.has(key)) throw new UsageError(`${file}: unknown key "${key}"; the keys are herd serve's flag names without the dashes (herd serve --help lists them)`);
  }

  for (const key of layeredKeys(table)) {
    if (origins.has(key)) continue;
    const type = key === APP_KEY ? 'string' : table[key].type;
    const name = environmentNames(key).find((n) => env[n] !== undefined && env[n] !== '');
    const fromEnv = name === undefined ? undefined : env[name];
    let value: string | boolean | undefined;
    if (name !== undefined && fromEnv !== undefined) {
      value = type === 'boolean' ? envBoolean(fromEnv, name) : fromEnv;
      origins.set(key, { from: 'env', name });
    } else if (fromFile.values && key in fromFile.values) {
      const raw = fromFile.values[key];
      value = raw === true && optionalValues[key] !== undefined ? optionalValues[key] : fileValue(raw, type, `${file}: "${key}"`);
      if (value === undefined) continue;
      origins.set(key, { from: 'file', file: file! });
    } else continue;
    if (key === APP_KEY) positionals.push(value as string);
    else values[key] = value;
  }
  return { values: parsed.values, positionals, origins, file, env };
}

/** Where a value came from, for error lines and `herd config`. */
export function describeOrigin(key: string, origin: OptionOrigin | undefined): string {
  if (origin === undefined) return 'default';
  switch (origin.from) {
    case 'flag':
      return key === APP_KEY ? 'argument' : `flag --${key}`;
    case 'env':
      return `environment ${origin.name}`;
    case 'file':
      return origin.file;
  }
}

/**
 * A parser's error names the flag (`--grace must be ...`); for a value from the environment or a
 * file it names that instead (`HERD_GRACE must be ...`, `/etc/herd.json: "grace" must be ...`).
 */
export function renameSource(err: unknown, origins: Map<string, OptionOrigin>): unknown {
  // APP's own checks (not found, a directory) say `APP x ...`: name where x was set.
  const app = origins.get(APP_KEY);
  if (err instanceof HerdError && err.message.startsWith('APP ') && app && app.from !== 'flag') {
    return new HerdError(`${app.from === 'env' ? app.name : `${app.file}: "app"`}: ${err.message}`, err.code, err.exitCode);
  }
  if (!(err instanceof UsageError)) return err;
  const m = /^--([a-z0-9-]+)/.exec(err.message);
  const origin = m ? origins.get(m[1]) : undefined;
  if (!m || !origin || origin.from === 'flag') return err;
  const label = origin.from === 'env' ? origin.name : `${origin.file}: "${m[1]}"`;
  return new UsageError(label + err.message.slice(m[0].length));
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

function envBoolean(value: string, name: string): boolean {
  const v = value.toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new UsageError(`${name} must be 1, true, yes or on (or 0, false, no, off), not '${value}'`);
}

/** A JSON/JS value as the flag's string or boolean; null means unset (the default). */
function fileValue(value: unknown, type: 'string' | 'boolean', label: string): string | boolean | undefined {
  if (value === null) return undefined;
  if (type === 'boolean') {
    if (typeof value === 'boolean') return value;
    throw new UsageError(`${label} must be true or false, not ${JSON.stringify(value)}`);
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  // A list option (--watch a,b) may be written as a list.
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',');
  throw new UsageError(`${label} must be a string${typeof value === 'boolean' ? '' : ' or a number'}, not ${JSON.stringify(value)}`);
}
