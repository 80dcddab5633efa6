// Turns a request target into the one path under the root it may name, or refuses it.
// The rules are segment-wise, on the bytes the client sent: a segment is percent-decoded once and
// must then be a plain file name. Anything that could change which directory a segment lands in
// (an encoded slash or backslash, NUL, `.` or `..`, invalid or overlong UTF-8) is a 400; a
// segment that names a dotfile is a 404, as if it did not exist. Nothing is normalised away, so
// no spelling of a path can reach outside the root whatever the filesystem makes of it.

/** A path that is safe to append to the root, or the status that refuses it. */
export type PathVerdict =
  | {
      readonly ok: true;
      /**
       * '/' + decoded segments joined by '/', with a trailing '/' when the request had one: the
       * cache key. '' for the bare static prefix ('/assets' asked for '/assets/').
       */
      readonly key: string;
      /** The request ended with '/' (a directory was asked for). */
      readonly directory: boolean;
      /** The raw query, '?' included, or ''. */
      readonly query: string;
    }
  | { readonly ok: false; readonly status: 400 | 404 };

const BAD_REQUEST: PathVerdict = { ok: false, status: 400 };
const HIDDEN: PathVerdict = { ok: false, status: 404 };

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const BACKSLASH = 0x5c;
const HASH = 0x23;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `target` is the request target with any static prefix taken off: '' (the prefix itself),
 * or a path starting with '/', optionally followed by '?query'.
 */
export function parseRequestPath(target: string): PathVerdict {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q);
  if (path === '') return { ok: true, key: '', directory: false, query };
  // Absolute-form (http://host/...), authority-form and '*' never name a file here.
  if (path.charCodeAt(0) !== SLASH) return BAD_REQUEST;

  // Fast path: printable ASCII without '%', no empty segment and no segment starting with '.';
  // then the path is its own key. Everything else takes the careful path below.
  let simple = true;
  let previous = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === BACKSLASH || c === HASH) return BAD_REQUEST;
    if (c === PERCENT || c >= 0x80 || (previous === SLASH && (c === SLASH || c === DOT))) simple = false;
    previous = c;
  }
  const directory = previous === SLASH;
  if (simple) return { ok: true, key: path, directory, query };

  const segments: string[] = [];
  let hidden = false;
  for (const raw of path.split('/')) {
    if (raw === '') continue; // '//' is one separator, as in nginx's merge_slashes
    const bytes = percentDecode(raw);
    if (bytes === null) return BAD_REQUEST;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b < 0x20 || b === 0x7f || b === SLASH || b === BACKSLASH) return BAD_REQUEST;
    }
    let name: string;
    try {
      name = utf8.decode(bytes);
    } catch {
      return BAD_REQUEST; // invalid, overlong (%c0%ae) or surrogate UTF-8
    }
    if (name === '.' || name === '..') return BAD_REQUEST;
    if (name.charCodeAt(0) === DOT) hidden = true;
    segments.push(name);
  }
  if (hidden) return HIDDEN;
  const key = segments.length === 0 ? '/' : '/' + segments.join('/') + (directory ? '/' : '');
  return { ok: true, key, directory: directory || segments.length === 0, query };
}

/** The bytes of a raw segment (latin1 as the engines decode the target) with %XX decoded; null if malformed. */
function percentDecode(raw: string): Uint8Array | null {
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c > 0xff) return null; // not from a latin1-decoded target
    if (c !== PERCENT) {
      out[n++] = c;
      continue;
    }
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return null;
    out[n++] = (hi << 4) | lo;
    i += 2;
  }
  return out.subarray(0, n);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The key spelled as a URL path again (for Location), each segment percent-encoded. */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}
