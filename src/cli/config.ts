// herd config [serve options]: the configuration `herd serve` would run with, and where each value
// came from (flag, environment, config file, default). Nothing is started.
import type { ServeConfig } from '../config.ts';
import { APP_KEY, describeOrigin, environmentNames, layeredKeys } from '../config/option_sources.ts';
import { explainServeArgs, SERVE_OPTIONS } from './serve.ts';

const HELP = `usage: herd config [--json] [serve options and APP]

Prints the configuration herd serve would run with, one option per line, and where each value came
from: a flag, the environment (HERD_<NAME>, PORT, HOST, WEB_CONCURRENCY), the config file
(--config FILE, or herd.config.json / herd.config.js in the working directory), or the default.
  --json   one JSON object: {"file": ..., "options": {name: {"value", "source", "env"}}}`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const json = argv.includes('--json');
  const { config, origins, file } = explainServeArgs(argv.filter((a) => a !== '--json'));
  if (config === 'help') return 0;
  const rows = layeredKeys(SERVE_OPTIONS).map((key) => ({
    key,
    value: shownValue(key, config),
    source: describeOrigin(key, origins.get(key)),
    env: environmentNames(key).join(' or '),
  }));
  if (json) {
    console.log(JSON.stringify({ file, options: Object.fromEntries(rows.map(({ key, ...rest }) => [key, rest])) }, null, 2));
    return 0;
  }
  console.log(`# herd serve configuration (flags > environment > ${file ?? 'no config file'} > defaults)`);
  const width = Math.max(...rows.map((r) => r.key.length));
  const valueWidth = Math.min(40, Math.max(...rows.map((r) => r.value.length)));
  for (const r of rows) console.log(`${r.key.padEnd(width)}  ${r.value.padEnd(valueWidth)}  ${r.source}`);
  return 0;
}

/**
 * The effective value of an option, in the flag's own terms (seconds, not ms), read from the
 * ServeConfig field its name leads to: port → port, grace → graceSeconds, control → controlPath,
 * static-prefix → static.prefix. Found by name, so a new row in serve's table shows with no change here.
 */
function shownValue(key: string, config: ServeConfig): string {
  const camel = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const fields = config as unknown as Record<string, unknown>;
  const nested = config.static as unknown as Record<string, unknown> | null;
  if (key === APP_KEY) return config.app ?? '(built-in hello app)';
  if (key === 'static') return nested ? String(nested.root) : '(off)';
  for (const suffix of ['', 'Ms', 'Seconds', 'Bytes', 'Path']) {
    const name = camel + suffix;
    if (name in fields) return show(fields[name], suffix === 'Ms');
  }
  const inStatic = camel.startsWith('static') ? camel[6].toLowerCase() + camel.slice(7) : camel;
  if (nested && inStatic in nested) return show(nested[inStatic], false);
  return '(off)';
}

function show(value: unknown, ms: boolean): string {
  if (value === null || value === undefined) return '(off)';
  if (ms && typeof value === 'number') return String(value / 1000);
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('host' in v && 'port' in v) return `${v.host}:${v.port}`;
    return JSON.stringify(value);
  }
  return String(value);
}
