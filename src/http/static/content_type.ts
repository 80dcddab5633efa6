// Content-Type from the file name, by the mime-types database, with a charset for text.
import { createRequire } from 'node:module';
import path from 'node:path';

const FALLBACK = 'application/octet-stream';
const byExtension = new Map<string, string>();
// The parsed mime database is ~7 MB of RSS; every worker imports this module (the static layer is
// part of the engine), so only one that actually serves a file loads it, on its first file.
let mime: typeof import('mime-types') | undefined;

export function contentTypeOf(file: string): string {
  const ext = path.extname(file).toLowerCase();
  let type = byExtension.get(ext);
  if (type === undefined) {
    mime ??= createRequire(import.meta.url)('mime-types') as typeof import('mime-types');
    type = (ext !== '' && mime.contentType(ext)) || FALLBACK;
    byExtension.set(ext, type);
  }
  return type;
}
