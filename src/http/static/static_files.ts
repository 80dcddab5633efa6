// Answers GET and HEAD for the files under a root: 200 from memory or streamed, 206/416 for a
// Range, 304/412 for conditional requests, 301 for a directory without its slash, a listing with
// autoindex. What it cannot serve it does not answer: it returns the status it would have given,
// so the caller can hand the request to an app instead.
//
// A cached file is answered synchronously (no promise, no syscall); only lookups and streamed
// files go async.
import type { FileHandle } from 'node:fs/promises';
import { HerdError } from '../../errors.ts';
import type { Request, Response } from '../types.ts';
import { renderListing } from './autoindex.ts';
import { parseRange } from './byte_range.ts';
import type { ByteRange } from './byte_range.ts';
import { evaluatePreconditions, ifRangeHolds } from './conditional.ts';
import { FileTable } from './file_table.ts';
import type { TableLimits } from './file_table.ts';
import { fileReply, identityOf, openInsideRoot } from './lookup.ts';
import type { FileReply, LookupSettings, Resolution } from './lookup.ts';
import { sendText } from './plain_reply.ts';
import { encodeKey, parseRequestPath } from './request_path.ts';
import type { PathVerdict } from './request_path.ts';
import { CloseWatch } from './close_watch.ts';

/** The request was answered. */
export const SERVED = 0;
/** SERVED, or the status a request the files cannot answer would get (nothing was written). */
export type StaticOutcome = typeof SERVED | 400 | 403 | 404;

/** Bytes read per step when streaming; a fresh buffer each time, since node:http keeps a written chunk until it is flushed. */
const STREAM_CHUNK = 64 * 1024;
/** A query worth carrying into a redirect: printable ASCII only. */
const CARRIED_QUERY = /^\?[\x21-\x7e]*$/;

type OkPath = Extract<PathVerdict, { ok: true }>;

export class StaticFiles {
  private readonly settings: LookupSettings;
  private readonly table: FileTable;
  /** URL path the files are mounted at ('' at the top), for redirects and listings. */
  private readonly mount: string;

  constructor(settings: LookupSettings, limits: TableLimits, mount: string) {
    this.settings = settings;
    this.table = new FileTable(settings, limits);
    this.mount = mount;
  }

  /** `target` is req.url with the mount taken off. */
  serve(req: Request, res: Response, target: string): StaticOutcome | Promise<StaticOutcome> {
    const verdict = parseRequestPath(target);
    if (!verdict.ok) return verdict.status;
    const found = this.table.get(verdict.key, Date.now());
    if (found instanceof Promise) {
      const watch = new CloseWatch(res); // before the first await, so a client gone meanwhile is noticed
      return found.then((resolution) => this.reply(req, res, verdict, resolution, watch));
    }
    return this.reply(req, res, verdict, found, null);
  }

  private reply(req: Request, res: Response, verdict: OkPath, found: Resolution, watch: CloseWatch | null): StaticOutcome | Promise<StaticOutcome> {
    const isHead = req.method === 'HEAD';
    switch (found.kind) {
      case 'absent':
        return found.status;
      case 'redirect': {
        const query = CARRIED_QUERY.test(verdict.query) ? verdict.query : '';
        sendText(res, 301, isHead, { Location: this.mount + encodeKey(verdict.key) + '/' + query });
        return SERVED;
      }
      case 'listing':
        sendText(res, 200, isHead, {}, renderListing(this.mount + verdict.key, found.entries), 'text/html; charset=utf-8');
        return SERVED;
      case 'file':
        if (found.body !== null) return this.sendFile(req, res, found, null, watch);
        return this.sendLargeFile(req, res, verdict.key, found, watch ?? new CloseWatch(res));
    }
  }

  /** A file too large to keep: opened per request, its headers from this open's fstat. */
  private async sendLargeFile(req: Request, res: Response, key: string, looked: FileReply, watch: CloseWatch): Promise<StaticOutcome> {
    const opened = await openInsideRoot(looked.path, this.settings);
    if (!opened.ok) {
      this.table.forget(key);
      return opened.status;
    }
    try {
      if (!opened.stats.isFile()) {
        this.table.forget(key);
        return 404;
      }
      if (identityOf(opened.stats) !== looked.identity) this.table.forget(key); // changed: the next request looks again
      const file = await fileReply(opened.handle, looked.path, opened.stats, this.settings, looked);
      return await this.sendFile(req, res, file, opened.handle, watch);
    } finally {
      await opened.handle.close();
    }
  }

  /** Preconditions, Range, then the bytes: from memory when `file.body` is held, else from `handle`. */
  private sendFile(req: Request, res: Response, file: FileReply, handle: FileHandle | null, watch: CloseWatch | null): StaticOutcome | Promise<StaticOutcome> {
    const isHead = req.method === 'HEAD';
    const headers = req.headers;
    const precondition = evaluatePreconditions(headers, file.validators);
    if (precondition === 304) {
      res.writeHead(304, file.validatorHeaders);
      res.end();
      return SERVED;
    }
    if (precondition === 412) {
      sendText(res, 412, isHead, file.validatorHeaders);
      return SERVED;
    }
    let range: ByteRange | null = null;
    const rangeHeader = headers.range;
    // Range is defined for GET only (RFC 9110 14.2); HEAD gets the 200 headers.
    if (!isHead && typeof rangeHeader === 'string' && ifRangeHolds(headers, file.validators)) {
      const verdict = parseRange(rangeHeader, file.size);
      if (verdict === 'unsatisfiable') {
        sendText(res, 416, false, { ...file.validatorHeaders, 'Content-Range': `bytes */${file.size}` });
        return SERVED;
      }
      if (verdict !== 'ignore') range = verdict;
    }
    if (range === null) {
      res.writeHead(200, file.fullHeaders);
      if (isHead) res.end();
      else if (file.body !== null) res.end(file.body);
      else return this.stream(res, file, handle!, 0, file.size - 1, watch!);
      return SERVED;
    }
    res.writeHead(206, {
      'Content-Type': file.fullHeaders['Content-Type'],
      'Content-Length': String(range.end - range.start + 1),
      'Content-Range': `bytes ${range.start}-${range.end}/${file.size}`,
      ...file.validatorHeaders,
    });
    if (file.body !== null) {
      res.end(file.body.subarray(range.start, range.end + 1));
      return SERVED;
    }
    return this.stream(res, file, handle!, range.start, range.end, watch!);
  }

  /**
   * Bytes start..end (inclusive) of an open file, one chunk in flight: the next is read only when
   * the response accepted the last one without backpressure or has drained. A file that ends
   * early throws after the headers went out, which makes the engine cut the connection rather
   * than let a short body pass for a whole one.
   */
  private async stream(res: Response, file: FileReply, handle: FileHandle, start: number, end: number, watch: CloseWatch): Promise<StaticOutcome> {
    let position = start;
    const stop = end + 1;
    while (position < stop) {
      if (watch.closed) return SERVED;
      const length = Math.min(STREAM_CHUNK, stop - position);
      const chunk = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(chunk, 0, length, position);
      if (bytesRead === 0) throw new HerdError(`${file.path} got shorter while it was being sent (${position} of ${file.size} bytes)`, 'HERD_STATIC_TRUNCATED');
      if (watch.closed) return SERVED;
      position += bytesRead;
      if (!res.write(bytesRead === length ? chunk : chunk.subarray(0, bytesRead))) await watch.writable();
    }
    if (!watch.closed) res.end();
    return SERVED;
  }
}
