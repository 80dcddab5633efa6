// herd top in a real terminal (tmux, on a private server socket): shows every worker, updates, follows
// a resize, and q quits. Without a terminal it prints herd status once.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { HERD, startHerd, status, tempDir } from '../support/herd_process.ts';
import { request, waitFor } from '../support/http_client.ts';

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('herd top shows the workers live with their latency, redraws on resize, q quits', { timeout: 60_000 }, async (t) => {
  if (!hasTmux()) return t.skip('tmux is not installed (apt-get install tmux)');
  const herd = await startHerd(t, ['--workers', '2', '--metrics', '127.0.0.1:0']);
  const socket = path.join(tempDir(t), 'tmux.sock');
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    try {
      tmux('kill-server');
    } catch {
      // already gone: q ended the only session
    }
  });
  tmux('new-session', '-d', '-s', 'top', '-x', '120', '-y', '20', process.execPath, HERD, 'top', '--control', herd.control);
  const screen = () => tmux('capture-pane', '-p', '-t', 'top');
  const { workers } = await status(herd);
  await waitFor('the workers on screen', () => workers.every((w) => screen().includes(String(w.pid))));
  assert.match(screen(), /worker\s+pid\s+state\s+conns\s+req\/s\s+share\s+p50\s+p99\s+requests/);

  // Load across a few refreshes: the header's total follows it (the view is redrawn, not drawn once), and
  // the p50/p99 columns show the latency of the responses finished between two refreshes.
  const until = Date.now() + 3500;
  let sent = 0;
  while (Date.now() < until) {
    await request(herd.url, '/');
    sent++;
  }
  await waitFor('the requests counted on screen', () => new RegExp(`requests ${sent}\\b`).test(screen()));
  assert.match(screen(), /\s\d+\.\dms\s+\d+\.\dms\s/, screen());

  tmux('resize-window', '-t', 'top', '-x', '50', '-y', '12');
  await waitFor('a redraw at the new width', () => screen().split('\n').every((l) => l.length <= 50) && screen().includes('q quits'));

  tmux('send-keys', '-t', 'top', 'q');
  await waitFor('top to quit on q', () => {
    try {
      tmux('has-session', '-t', 'top');
      return false;
    } catch {
      return true;
    }
  });
});

test('herd top without a terminal prints the status once', { timeout: 30_000 }, async (t) => {
  const herd = await startHerd(t, ['--workers', '1']);
  const r = await herd.command('top');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^herd \d+ serving http:\/\/127\.0\.0\.1:\d+ .*\nworker\s+pid\s+state/);
});
