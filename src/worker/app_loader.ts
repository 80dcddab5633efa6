// Loads the user's APP module in a worker and finds its request listener, or says plainly why not.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HerdError } from '../errors.ts';

export type Listener = (req: never, res: never) => unknown;

/** Checks, before any process starts, that APP names a file. */
export function resolveAppPath(app: string): string {
  const full = path.resolve(app);
  if (!fs.existsSync(full)) throw new HerdError(`APP ${app} not found (looked for ${full})`, 'APP_NOT_FOUND');
  if (fs.statSync(full).isDirectory()) throw new HerdError(`APP ${app} is a directory; give the module file, e.g. ${path.join(app, 'index.js')}`, 'APP_NOT_FOUND');
  return full;
}

export async function loadApp(appPath: string): Promise<Listener> {
  const shown = path.relative(process.cwd(), appPath) || appPath;
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(appPath).href)) as { default?: unknown };
  } catch (err) {
    throw new HerdError(`APP ${shown} threw while loading: ${oneLine(err)}`, 'APP_LOAD_FAILED');
  }
  const exported = mod.default;
  if (exported === undefined) {
    throw new HerdError(`APP ${shown} has no default export; export default a request listener (req, res) => { ... }`, 'APP_NO_DEFAULT');
  }
  if (typeof exported === 'function') return exported as Listener;
  // A Koa app instance: its request listener is app.callback().
  if (typeof exported === 'object' && exported !== null && typeof (exported as { callback?: unknown }).callback === 'function') {
    return (exported as { callback(): Listener }).callback();
  }
  throw new HerdError(`APP ${shown} default export is ${describe(exported)}, not a request listener; export default a (req, res) function, an Express app or koa.callback()`, 'APP_BAD_EXPORT');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function oneLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.split('\n')[0];
}
