// What a path under the root is, asked of the filesystem: a file (with its headers prepared and,
// when small, its bytes), a directory to redirect, a listing, or nothing.
//
// Every check is made on an open descriptor, not on the name: the file is opened once, fstat'ed,
// and its real path read back from /proc/self/fd, so a symlink swapped between a check and the
// open cannot smuggle in a file outside the root.
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { ListingEntry } from './autoindex.ts';
import { contentTypeOf } from './content_type.ts';
import type { Validators } from './conditional.ts';

export interface LookupSettings {
  /** The root as given, absolute, without a trailing '/'. */
  readonly root: string;
  /** The root with every symlink resolved. */
  readonly realRoot: string;
  readonly autoindex: boolean;
  readonly followSymlinks: boolean;
  readonly cacheControl: string | null;
  /** Files up to this size are read into memory; larger ones are streamed per request. */
  readonly maxCachedFileBytes: number;
}

export interface FileReply {
  readonly kind: 'file';
  /** Absolute path, opened again per request when the body is streamed. */
  readonly path: string;
  readonly size: number;
  /** dev, inode, size, mtime, ctime: any change of the file on disk changes it. */
  readonly identity: string;
  readonly validators: Validators;
  /** Headers of a 200 (Content-Length included). */
  readonly fullHeaders: Readonly<Record<string, string>>;
  /** Headers of a 304, a 206 or a 416, which add their own. */
  readonly validatorHeaders: Readonly<Record<string, string>>;
  /** The whole file when it is small enough to keep, else null. */
  readonly body: Buffer | null;
}

export type Resolution =
  | FileReply
  /** A directory asked for without its trailing slash. */
  | { readonly kind: 'redirect' }
  | { readonly kind: 'listing'; readonly entries: readonly ListingEntry[] }
  | { readonly kind: 'absent'; readonly status: 403 | 404 };

const NOT_FOUND: Resolution = { kind: 'absent', status: 404 };
const FORBIDDEN: Resolution = { kind: 'absent', status: 403 };
const REDIRECT: Resolution = { kind: 'redirect' };

// O_NONBLOCK: opening a FIFO someone left in the tree must not hang the worker.
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;

/** The filesystem's answer for `key` (see request_path.ts); `previous` lends its bytes if the file is unchanged. */
export async function lookUp(key: string, settings: LookupSettings, previous: Resolution | undefined): Promise<Resolution> {
  const full = settings.root + key;
  const opened = await openInsideRoot(full, settings);
  if (!opened.ok) return opened.status === 403 ? FORBIDDEN : NOT_FOUND;
  const { handle, stats } = opened;
  try {
    if (stats.isDirectory()) {
      if (!key.endsWith('/')) return REDIRECT;
      return await directoryReply(full, settings, previous);
    }
    if (!stats.isFile()) return NOT_FOUND;
    return await fileReply(handle, full, stats, settings, previous);
  } finally {
    await handle.close();
  }
}

/** Opens a file or directory, fstat's it, checks it is inside the root; closes it again when refused. */
export async function openInsideRoot(
  full: string,
  settings: LookupSettings,
): Promise<{ ok: true; handle: FileHandle; stats: fs.Stats } | { ok: false; status: 403 | 404 }> {
  let handle: FileHandle;
  try {
    handle = await fs.promises.open(full, OPEN_FLAGS);
  } catch (error) {
    return { ok: false, status: refusalFor(error) };
  }
  try {
    const stats = await handle.stat();
    if (!settings.followSymlinks && !isInside(settings.realRoot, await realPathOf(handle, full))) {
      await handle.close();
      return { ok: false, status: 404 };
    }
    return { ok: true, handle, stats };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function refusalFor(error: unknown): 403 | 404 {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
    case 'ELOOP':
    case 'ENXIO': // a socket or a FIFO without a writer
      return 404;
    case 'EACCES':
    case 'EPERM':
      return 403; // as nginx answers a file it may not open
    default:
      throw error;
  }
}

/** Where the descriptor really points; /proc/self/fd on Linux, realpath(3) elsewhere. */
async function realPathOf(handle: FileHandle, full: string): Promise<string> {
  try {
    return await fs.promises.readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    return fs.promises.realpath(full);
  }
}

function isInside(realRoot: string, real: string): boolean {
  if (real === realRoot) return true;
  const base = realRoot.endsWith('/') ? realRoot : realRoot + '/';
  return real.startsWith(base);
}

async function directoryReply(full: string, settings: LookupSettings, previous: Resolution | undefined): Promise<Resolution> {
  const index = await openInsideRoot(full + 'index.html', settings);
  if (index.ok) {
    try {
      if (index.stats.isFile()) return await fileReply(index.handle, full + 'index.html', index.stats, settings, previous);
    } finally {
      await index.handle.close();
    }
  } else if (index.status === 403) {
    return FORBIDDEN;
  }
  if (!settings.autoindex) return NOT_FOUND;
  return { kind: 'listing', entries: await listDirectory(full, settings) };
}

async function listDirectory(full: string, settings: LookupSettings): Promise<ListingEntry[]> {
  const entries: ListingEntry[] = [];
  for (const dirent of await fs.promises.readdir(full, { withFileTypes: true })) {
    if (dirent.name.startsWith('.')) continue; // hidden, as they are when asked for
    try {
      // A link leading outside is not listed: its size and date are not ours to show.
      if (dirent.isSymbolicLink() && !settings.followSymlinks && !isInside(settings.realRoot, await fs.promises.realpath(full + dirent.name))) continue;
      const stats = await fs.promises.stat(full + dirent.name);
      entries.push({ name: dirent.name, directory: stats.isDirectory(), size: stats.size, mtimeMs: stats.mtimeMs });
    } catch {
      // vanished or a dangling symlink: not listed
    }
  }
  return entries.sort((a, b) => (a.directory === b.directory ? (a.name < b.name ? -1 : 1) : a.directory ? -1 : 1));
}

export async function fileReply(handle: FileHandle, full: string, stats: fs.Stats, settings: LookupSettings, previous: Resolution | undefined): Promise<FileReply> {
  const identity = identityOf(stats);
  if (previous !== undefined && previous.kind === 'file' && previous.identity === identity && previous.path === full) return previous;
  let size = stats.size;
  let body: Buffer | null = null;
  if (size <= settings.maxCachedFileBytes) {
    body = await readWhole(handle, size);
    size = body.length; // a file being rewritten may have shrunk since fstat
  }
  // Microsecond mtime and size, as nginx's "mtime-size" but finer: a same-size edit within a second still changes it.
  const etag = `"${Math.round(stats.mtimeMs * 1000).toString(16)}-${size.toString(16)}"`;
  const mtimeSeconds = Math.floor(stats.mtimeMs / 1000);
  const validatorHeaders: Record<string, string> = {
    'Last-Modified': new Date(mtimeSeconds * 1000).toUTCString(),
    ETag: etag,
    'Accept-Ranges': 'bytes',
  };
  if (settings.cacheControl !== null) validatorHeaders['Cache-Control'] = settings.cacheControl;
  const fullHeaders = { 'Content-Type': contentTypeOf(full), 'Content-Length': String(size), ...validatorHeaders };
  return { kind: 'file', path: full, size, identity, validators: { etag, mtimeSeconds }, fullHeaders, validatorHeaders, body };
}

/** Changes whenever the file on disk does (rewritten, replaced, touched). */
export function identityOf(stats: fs.Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

async function readWhole(handle: FileHandle, size: number): Promise<Buffer> {
  const body = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await handle.read(body, filled, size - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === size ? body : body.subarray(0, filled);
}
