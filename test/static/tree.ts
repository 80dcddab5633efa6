// The tree every static test serves: nested folders, index files, dotfiles, symlinks inside and
// outside the root, a file too large to be cached, and a secret next to the root that no
// request may ever reveal.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { createFastEngine } from '../../src/http/engine.ts';
import { withStatic } from '../../src/http/static/index.ts';
import type { StaticOptions, StaticTuning } from '../../src/http/static/index.ts';
import { DEFAULT_TUNING } from '../../src/http/static/index.ts';
import type { Handler } from '../../src/http/types.ts';
import { createNodeEngine } from '../../src/worker/node_engine.ts';
import { exchange, listen, parseResponses, TEST_OPTIONS } from '../http/wire.ts';
import type { WireResponse } from '../http/wire.ts';

export interface Tree {
  base: string;
  root: string;
  /** Content of ../outside/secret.txt: must never appear in a response. */
  secret: string;
  /** Larger than the cache limit, so it is streamed. */
  big: Buffer;
}

/** Builds the tree in a fresh temp dir, removed when the test (or suite) ends. */
export function buildTree(t: { after(fn: () => void): void }): Tree {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-static-'));
  t.after(() => fs.rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'public');
  const secret = `TOP-SECRET-${crypto.randomUUID()}`;
  const big = crypto.randomBytes(3 * 1024 * 1024 + 17);
  const files: Record<string, string | Buffer> = {
    'index.html': '<h1>home</h1>\n',
    'hello.txt': 'hello world\n',
    'style.css': 'body { color: red }\n',
    'app.js': 'console.log(1);\n',
    'data.json': '{"a":1}\n',
    'logo.png': crypto.randomBytes(300),
    noext: 'no extension\n',
    'space name.txt': 'spaced\n',
    'café.txt': 'unicode name\n',
    'empty.txt': '',
    'big.bin': big,
    'nested/index.html': '<p>nested</p>\n',
    'nested/deep/leaf.txt': 'leaf\n',
    'docs/a.txt': 'doc a\n',
    'docs/sub/b.txt': 'doc b\n',
    'docs/.hidden': 'hidden\n',
    '.env': `SECRET=${secret}\n`,
    '.git/config': `[core] ${secret}\n`,
  };
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  fs.mkdirSync(path.join(base, 'outside'));
  fs.writeFileSync(path.join(base, 'outside', 'secret.txt'), secret);
  fs.symlinkSync('../outside/secret.txt', path.join(root, 'link-out.txt'));
  fs.symlinkSync('../outside', path.join(root, 'dir-out'));
  fs.symlinkSync('hello.txt', path.join(root, 'link-in.txt'));
  return { base, root, secret, big };
}

export function staticOptions(tree: Tree, extra: Partial<StaticOptions> = {}): StaticOptions {
  return { root: tree.root, prefix: null, autoindex: false, followSymlinks: false, cacheControl: null, ...extra };
}

/** withStatic on the fast engine, on a free loopback port. */
export function serveFast(t: TestContext, options: StaticOptions, app: Handler | null = null, tuning: StaticTuning = DEFAULT_TUNING): Promise<number> {
  return listen(t, createFastEngine(withStatic(options, app, tuning), TEST_OPTIONS));
}

/** The same handler on node:http (the node engine). */
export function serveNode(t: TestContext, options: StaticOptions, app: Handler | null = null): Promise<number> {
  const handler = withStatic(options, app) as unknown as Parameters<typeof createNodeEngine>[0];
  return listen(t, createNodeEngine(handler, TEST_OPTIONS));
}

/**
 * One request on its own connection, sent as raw bytes: the target reaches the server unchanged.
 * No half-close: node:http drops the answer to a client that sent FIN while a handler was busy.
 */
export async function request(port: number, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<WireResponse> {
  let head = `${method} ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  // A generous bound: CI machines are busy; it only turns a hang into a failure.
  const responses = parseResponses(await exchange(port, head + '\r\n', { halfClose: false, timeoutMs: 15_000 }), [method]);
  if (responses.length !== 1) throw new Error(`expected one response to ${method} ${target}, got ${responses.length}`);
  return responses[0];
}
