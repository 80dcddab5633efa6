// Content-Type from the file name, by the mime-types database, with a charset for text.
import path from 'node:path';
import mime from 'mime-types';

const FALLBACK = 'application/octet-stream';
const byExtension = new Map<string, string>();

export function contentTypeOf(file: string): string {
  const ext = path.extname(file).toLowerCase();
  let type = byExtension.get(ext);
  if (type === undefined) {
    type = (ext !== '' && mime.contentType(ext)) || FALLBACK;
    byExtension.set(ext, type);
  }
  return type;
}
