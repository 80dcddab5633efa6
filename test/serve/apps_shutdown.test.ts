// Shutdown: the APP's own SIGTERM handler runs once the worker's in-flight requests are done, so
// it can close its pool; its process.exit() cuts nothing. A signal to the whole process group
// (Ctrl-C) drains the workers the same way instead of killing them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fixture, startHerd, tempDir } from '../support/herd_process.ts';
import { request } from '../support/http_client.ts';

for (const [how, signal] of [['SIGTERM to the supervisor', 'SIGTERM'], ['SIGINT to the process group (Ctrl-C)', 'SIGINT']] as const) {
  test(`${how}: the app's SIGTERM handler runs after its in-flight requests, and its effect is seen`, async (t) => {
    const marker = path.join(tempDir(t), 'marker');
    process.env.MARKER_FILE = marker;
    t.after(() => delete process.env.MARKER_FILE);
    const herd = await startHerd(t, [fixture('closes_pool.js'), '--workers', '2', '--grace', '10']);
    const slow = [request(herd.url, '/slow'), request(herd.url, '/slow'), request(herd.url, '/slow')];
    await new Promise((r) => setTimeout(r, 300)); // the requests are in flight
    if (signal === 'SIGINT') process.kill(-herd.child.pid!, 'SIGINT');
    else herd.child.kill('SIGTERM');
    for (const reply of await Promise.all(slow)) assert.equal(reply.body, 'done', 'process.exit() in the handler cut nothing');
    assert.equal(await herd.exited, 0, herd.output());
    const lines = fs.readFileSync(marker, 'utf8').trim().split('\n');
    assert.equal(lines.length, 2, `each worker closed its pool once: ${lines.join(' | ')}`);
    for (const line of lines) assert.match(line, /^pool closed by \d+ with 0 in flight, \d+ finished$/);
    const finished = lines.reduce((sum, l) => sum + Number(/(\d+) finished/.exec(l)![1]), 0);
    assert.equal(finished, 3);
    assert.doesNotMatch(herd.output(), /SIGKILL|crash|respawning/);
  });
}
