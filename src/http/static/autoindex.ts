// The directory listing of --autoindex: nginx's layout (name, date, size), names escaped for HTML
// and percent-encoded in links.

export interface ListingEntry {
  readonly name: string;
  readonly directory: boolean;
  readonly size: number;
  readonly mtimeMs: number;
}

const NAME_COLUMN = 50;

export function renderListing(key: string, entries: readonly ListingEntry[]): string {
  const title = `Index of ${escapeHtml(key)}`;
  let rows = key === '/' ? '' : '<a href="../">../</a>\n';
  for (const e of entries) {
    const shown = e.directory ? e.name + '/' : e.name;
    const href = encodeURIComponent(e.name) + (e.directory ? '/' : '');
    const pad = ' '.repeat(Math.max(1, NAME_COLUMN - shown.length));
    const date = new Date(e.mtimeMs).toISOString().slice(0, 16).replace('T', ' ');
    rows += `<a href="${href}">${escapeHtml(shown)}</a>${pad}${date}  ${e.directory ? '-' : e.size}\n`;
  }
  return `<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"><title>${title}</title></head>\n<body>\n<h1>${title}</h1><hr><pre>\n${rows}</pre><hr>\n</body>\n</html>\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
