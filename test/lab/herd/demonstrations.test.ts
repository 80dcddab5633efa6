// The seed's two demonstrations, compiled with cc and run: blocking accept() wakes one process;
// one shared epoll instance with a sleep before accept() wakes every one of them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileDemo, parseDemoOutput, runDemonstrations } from '../../../src/lab/herd/demonstrations.ts';

function hasCc(): boolean {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('the children\'s reports are counted', () => {
  const out = 'woke 1\nwoke 2\naccepted 2\neagain 1\nswitched 1 2\nswitched 2 1\nswitched 3 0\ndone\n';
  assert.deepEqual(parseDemoOutput('shared-epoll-sleep', 3, out), { mode: 'shared-epoll-sleep', processes: 3, woke: 2, roused: 2, accepted: 1, failedAccepts: 1 });
});

test('blocking accept wakes one of 3; a shared epoll instance with the seed\'s sleep wakes all 3', { skip: hasCc() ? false : 'no C compiler (cc) on PATH', timeout: 60_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-lab-demo-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { demonstrations, notes } = await runDemonstrations(3, dir);
  assert.deepEqual(notes, []);
  const get = (mode: string) => demonstrations.find((d) => d.mode === mode)!;
  assert.equal(get('blocking-accept').woke, 1);
  assert.equal(get('blocking-accept').accepted, 1);
  assert.equal(get('shared-epoll-sleep').woke, 3);
  assert.equal(get('shared-epoll-sleep').accepted, 1);
  assert.equal(get('shared-epoll-sleep').failedAccepts, 2);
  for (const d of demonstrations) assert.equal(d.accepted, 1, `${d.mode}: the one connection was accepted once`);
});

test('no compiler: a reason, not a crash', { skip: hasCc() ? false : 'no C compiler (cc) on PATH' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-lab-demo-'));
  const saved = process.env.PATH;
  try {
    process.env.PATH = dir;
    const result = compileDemo(dir);
    assert.ok('skipped' in result && /no C compiler/.test(result.skipped));
  } finally {
    process.env.PATH = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
