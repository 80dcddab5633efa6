// `herd serve --static DIR`: the files of DIR in front of an app (or alone), as one Handler that
// uses only the portable request/response API, so it runs on both engines.
//
// Without a prefix, files come first and the app gets everything the files cannot answer
// (another method, a path that is not a file); without an app that is a 404 (405 for methods).
// With a prefix, requests under it are files only; the others go to the app.
import fs from 'node:fs';
import path from 'node:path';
import { HerdError } from '../../errors.ts';
import type { Handler, Request, Response } from '../types.ts';
import type { TableLimits } from './file_table.ts';
import { sendText } from './plain_reply.ts';
import { SERVED, StaticFiles } from './static_files.ts';
import type { StaticOutcome } from './static_files.ts';

export interface StaticOptions {
  root: string;
  prefix: string | null;
  autoindex: boolean;
  followSymlinks: boolean;
  cacheControl: string | null;
}

/** Memory and freshness bounds of the file cache; tests shorten revalidateMs. */
export interface StaticTuning extends TableLimits {
  /** Files up to this size are kept in memory; larger ones are streamed. */
  readonly maxCachedFileBytes: number;
}

export const DEFAULT_TUNING: StaticTuning = {
  revalidateMs: 1000,
  // Most assets a site serves (scripts, styles, icons, small images) fit; above it the copy into
  // memory buys little over streaming and would crowd the budget.
  maxCachedFileBytes: 256 * 1024,
  budgetBytes: 64 * 1024 * 1024,
  maxEntries: 10_000,
};

const ALLOWED = { Allow: 'GET, HEAD' };

export function withStatic(options: StaticOptions, app: Handler | null, tuning: StaticTuning = DEFAULT_TUNING): Handler {
  const root = checkedRoot(options.root);
  const mount = mountOf(options.prefix);
  const files = new StaticFiles(
    {
      root,
      realRoot: fs.realpathSync(root),
      autoindex: options.autoindex,
      followSymlinks: options.followSymlinks,
      cacheControl: options.cacheControl,
      maxCachedFileBytes: tuning.maxCachedFileBytes,
    },
    tuning,
    mount,
  );
  // Everything the files do not answer goes to the app only when the app owns the rest of the URL space.
  const fallback = mount === '' ? app : null;

  const finish = (req: Request, res: Response, outcome: StaticOutcome): void | Promise<void> => {
    if (outcome === SERVED) return;
    if (fallback !== null) return fallback(req, res);
    sendText(res, outcome, req.method === 'HEAD');
  };

  return (req, res) => {
    const url = req.url;
    let target = url;
    if (mount !== '') {
      if (!isUnder(url, mount)) return app !== null ? app(req, res) : sendText(res, 404, req.method === 'HEAD');
      target = url.slice(mount.length);
    }
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') {
      if (fallback !== null) return fallback(req, res);
      sendText(res, 405, false, ALLOWED);
      return;
    }
    const outcome = files.serve(req, res, target);
    if (typeof outcome === 'number') return finish(req, res, outcome);
    return outcome.then((settled) => finish(req, res, settled));
  };
}

/** The root as an absolute path without a trailing slash, or a one-line error. */
function checkedRoot(root: string): string {
  const absolute = path.resolve(root);
  let stats: fs.Stats;
  try {
    stats = fs.statSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new HerdError(`static root ${root} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`, 'HERD_STATIC_ROOT');
  }
  if (!stats.isDirectory()) throw new HerdError(`static root ${root} is not a directory`, 'HERD_STATIC_ROOT');
  return absolute === '/' ? '' : absolute;
}

/** '/assets/' and '/assets' mount at '/assets'; no prefix or '/' mounts at the top (''). */
function mountOf(prefix: string | null): string {
  if (prefix === null) return '';
  if (!prefix.startsWith('/')) throw new HerdError(`static prefix must start with '/', not '${prefix}'`, 'HERD_STATIC_PREFIX');
  return prefix.replace(/\/+$/, '');
}

/** `/assets`, `/assets/...` and `/assets?...` are under /assets; `/assetsfoo` is not. */
function isUnder(url: string, mount: string): boolean {
  if (!url.startsWith(mount)) return false;
  const next = url.charCodeAt(mount.length);
  return Number.isNaN(next) || next === 0x2f || next === 0x3f;
}
