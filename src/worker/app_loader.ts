// Loads the user's APP module in a worker and finds its request listener, or says plainly why not.
// An APP that starts its own server needs no listener: see listen_takeover.ts.
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

export function shownAppPath(appPath: string): string {
  return path.relative(process.cwd(), appPath) || appPath;
}

/** Imports APP (running its top level, which may call listen()); resolves with its default export. */
export async function importApp(appPath: string): Promise<unknown> {
  try {
    const mod = (await import(pathToFileURL(appPath).href)) as { default?: unknown };
    return mod.default;
  } catch (err) {
    throw new HerdError(`APP ${shownAppPath(appPath)} threw while loading: ${oneLine(err)}`, 'APP_LOAD_FAILED');
  }
}

/** The request listener in a default export (a function, an Express app, a Koa app). */
export function listenerOf(appPath: string, exported: unknown): Listener {
  const shown = shownAppPath(appPath);
  if (typeof exported === 'function') return exported as Listener;
  // A Koa app instance: its request listener is app.callback().
  if (typeof exported === 'object' && exported !== null && typeof (exported as { callback?: unknown }).callback === 'function') {
    return (exported as { callback(): Listener }).callback();
  }
  throw new HerdError(`APP ${shown} default export is ${describe(exported)}, not a request listener; export default a (req, res) function, an Express app or koa.callback()`, 'APP_BAD_EXPORT');
}

/** An Express app: a listener that needs node:http's req/res (req.app, res.send...), not the fast engine's. */
export function isExpressApp(listener: Listener): boolean {
  const app = listener as unknown as { handle?: unknown; set?: unknown; listen?: unknown };
  return typeof app.handle === 'function' && typeof app.set === 'function' && typeof app.listen === 'function';
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
