// reuseport and rolling reload: a listener that closes takes the connections queued on it along
// (reset), unless net.ipv4.tcp_migrate_req=1 (Linux 5.14+) moves them to a sibling listener.
// herd's reuseport sockets belong to the slots (the supervisor holds them), so none closes on a
// reload: zero failures with the sysctl off as well as on. The sysctl is per network namespace:
// each case runs in a namespace of its own, so the host's setting is never touched. Needs root
// (unshare -n); skipped otherwise.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { ROOT } from '../support/herd_process.ts';

const PROBE = `${ROOT}/test/fixtures/reload_probe.ts`;

function canUseNamespaces(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for unshare -n';
  if (!fs.existsSync('/proc/sys/net/ipv4/tcp_migrate_req')) return 'kernel has no net.ipv4.tcp_migrate_req (Linux < 5.14)';
  return undefined;
}

function reloadInNamespace(migrate: 0 | 1): Promise<{ ok: number; failed: number; errors: string[] }> {
  const script = `ip link set lo up && sysctl -qw net.ipv4.tcp_migrate_req=${migrate} && exec "${process.execPath}" "${PROBE}"`;
  return new Promise((resolve, reject) => {
    execFile('unshare', ['-n', 'sh', '-c', script], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

const skip = canUseNamespaces();

test('reuseport reload with tcp_migrate_req=1: zero failed requests', { skip }, async (t) => {
  const r = await reloadInNamespace(1);
  t.diagnostic(`tcp_migrate_req=1: ${r.ok} ok, ${r.failed} failed`);
  assert.ok(r.ok > 100, `load ran (${r.ok})`);
  assert.equal(r.failed, 0, r.errors.join('; '));
});

test('reuseport reload with tcp_migrate_req=0: zero failed requests too (the slots keep their sockets)', { skip }, async (t) => {
  const r = await reloadInNamespace(0);
  t.diagnostic(`tcp_migrate_req=0: ${r.ok} ok, ${r.failed} failed (${r.errors.join(', ') || 'none'})`);
  assert.ok(r.ok > 100);
  assert.equal(r.failed, 0, r.errors.join('; '));
});
