// Shared by the logd tests: writer processes (test/logd/fixtures/log_writer.ts) and log readers.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { ROOT } from '../support/herd_process.ts';

const WRITER = path.join(ROOT, 'test/logd/fixtures/log_writer.ts');

export interface WriterOptions {
  socketPath: string;
  id: number;
  count: number;
  bufferBytes?: number;
  format?: 'combined' | 'json';
  perTurn?: number;
  gate?: boolean;
}

export interface Writer {
  child: ChildProcess;
  /** Records handed to access() so far. */
  progress(): number;
  /** Resolves with the number after `word` on the first stdout line that starts with it. */
  waitFor(word: 'connected' | 'written' | 'done', timeoutMs?: number): Promise<number>;
  go(): void;
}

export function startWriter(t: TestContext, opts: WriterOptions): Writer {
  const full = { bufferBytes: 64 * 1024 * 1024, format: 'combined', perTurn: 100, gate: false, ...opts };
  const child = spawn(process.execPath, [WRITER, JSON.stringify(full)], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let progress = 0;
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
    const m = /progress (\d+)\n(?![\s\S]*progress)/.exec(out);
    if (m) progress = Number(m[1]);
  });
  return {
    child,
    progress: () => progress,
    go: () => child.stdin!.write('go\n'),
    waitFor: (word, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const re = new RegExp(`^${word}(?: (\\d+))?$`, 'm');
        const timer = setTimeout(() => reject(new Error(`writer ${opts.id}: no "${word}" within ${timeoutMs} ms; output tail: ${out.slice(-200)}`)), timeoutMs);
        const check = (): void => {
          const m = re.exec(out);
          if (!m) return;
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.off('close', onExit);
          resolve(Number(m[1] ?? 0));
        };
        const onExit = (code: number | null): void => {
          check();
          if (!re.test(out)) {
            clearTimeout(timer);
            reject(new Error(`writer ${opts.id} exited (${code}) before "${word}"`));
          }
        };
        child.stdout!.on('data', check);
        // 'close', not 'exit': 'exit' can come before the last of the writer's stdout is read.
        child.once('close', onExit);
        check();
      }),
  };
}

/** Resolves once `condition()` holds, polling; rejects after timeoutMs. */
export async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Every line of every file in `dir` whose name starts with `base`, each file checked to end with a newline. */
export function logLines(dir: string, base: string): string[] {
  const lines: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(base)) continue;
    const text = fs.readFileSync(path.join(dir, name), 'latin1');
    if (text === '') continue;
    assert.ok(text.endsWith('\n'), `${name} ends with a cut line`);
    lines.push(...text.slice(0, -1).split('\n'));
  }
  return lines;
}

const COMBINED = /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET \/w(\d+)\/(\d+) HTTP\/1\.1" (\d{3}) (\d+) "([^"]*)" "writer (\d+)"$/;

/** A writer's record as read back: which writer, which record, status and bytes. */
export interface ReadRecord {
  writer: number;
  index: number;
  status: number;
  bytes: number;
}

export function parseWriterLine(line: string): ReadRecord {
  if (line.startsWith('{')) {
    const o = JSON.parse(line) as { url: string; status: number; bytes: number; userAgent: string };
    const m = /^\/w(\d+)\/(\d+)$/.exec(o.url);
    assert.ok(m && o.userAgent === `writer ${m[1]}`, `not a writer record: ${line}`);
    return { writer: Number(m[1]), index: Number(m[2]), status: o.status, bytes: o.bytes };
  }
  const m = COMBINED.exec(line);
  assert.ok(m, `not a combined line: ${JSON.stringify(line)}`);
  assert.equal(m[6], m[1], 'user agent names the writer');
  const index = Number(m[2]);
  assert.equal(m[5], index % 2 === 0 ? '-' : 'http://example.test/\\x22quoted\\x22', 'referer');
  return { writer: Number(m[1]), index, status: Number(m[3]), bytes: Number(m[4]) };
}

/**
 * Checks the lines against what the writers wrote: every line parses, carries the status and bytes
 * of its record, and appears once; per writer, `written[w]` records, none missing.
 */
export function checkRecords(lines: string[], written: Map<number, number>): void {
  const seen = new Set<string>();
  const perWriter = new Map<number, number>();
  for (const line of lines) {
    const r = parseWriterLine(line);
    assert.equal(r.status, 200 + (r.index % 3), `status of ${line}`);
    assert.equal(r.bytes, r.index, `bytes of ${line}`);
    const key = `${r.writer}/${r.index}`;
    assert.ok(!seen.has(key), `record ${key} written twice`);
    seen.add(key);
    perWriter.set(r.writer, (perWriter.get(r.writer) ?? 0) + 1);
  }
  for (const [writer, count] of written) assert.equal(perWriter.get(writer) ?? 0, count, `lines of writer ${writer}`);
  assert.equal(lines.length, [...written.values()].reduce((a, b) => a + b, 0));
}
