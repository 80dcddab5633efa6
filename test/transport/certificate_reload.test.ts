// HUP re-reads the certificate: under load, with new connections all the time, no request fails
// while the workers are replaced, and every connection made after the reload sees the new
// certificate. A bad certificate at a reload is refused: the old workers serve on with the old one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startHerd, tempDir, type RunningHerd } from '../support/herd_process.ts';
import { makeCertificate, opensslMissing } from './certificates.ts';
import { httpsGet } from './https_client.ts';

const skip = opensslMissing() ?? false;

async function waitForOutput(herd: RunningHerd, pattern: RegExp, from: number, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pattern.test(herd.output().slice(from))) {
    if (Date.now() > until) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${herd.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const [engine, dispatch] of [['fast', 'handoff'], ['node', 'shared']] as const) {
  test(`certificate swap under load (${engine} engine, ${dispatch}): zero failures, the new fingerprint after; a bad one refused`, { skip }, async (t) => {
    const dir = tempDir(t);
    const a = makeCertificate(dir, 'a');
    const b = makeCertificate(dir, 'b');
    const c = makeCertificate(dir, 'c');
    const live = { cert: path.join(dir, 'live.crt'), key: path.join(dir, 'live.key') };
    fs.copyFileSync(a.cert, live.cert);
    fs.copyFileSync(a.key, live.key);
    const herd = await startHerd(t, ['--engine', engine, '--workers', '2', '--dispatch', dispatch, '--tls-cert', live.cert, '--tls-key', live.key, '--grace', '5']);
    const ca = [a.pem, b.pem];
    // `at` is when the request began: a connection made just before the reload finished may be
    // answered after it, by an old worker, with the old certificate, and rightly so.
    const seen: { at: number; fingerprint: string }[] = [];
    const failures: string[] = [];
    let running = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (running) {
        const at = Date.now();
        try {
          const reply = await httpsGet(herd.url, ca); // a new connection, so a full handshake, each time
          if (reply.status !== 200) failures.push(`status ${reply.status}`);
          seen.push({ at, fingerprint: reply.fingerprint });
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    fs.copyFileSync(b.cert, live.cert);
    fs.copyFileSync(b.key, live.key);
    let mark = herd.output().length;
    const hupAt = Date.now();
    process.kill(herd.child.pid!, 'SIGHUP');
    await waitForOutput(herd, /reload: done/, mark);
    const reloaded = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Now a certificate whose key is not its own: refused, the workers keep b.
    fs.copyFileSync(c.key, live.key);
    mark = herd.output().length;
    process.kill(herd.child.pid!, 'SIGHUP');
    await waitForOutput(herd, /reload refused: --tls-key .*live\.key is not the key of the certificate in --tls-cert .*live\.crt; the workers serve on with the certificate they have/, mark);
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await Promise.all(clients);
    assert.deepEqual(failures, []);
    const before = seen.filter((s) => s.at < hupAt);
    const after = seen.filter((s) => s.at > reloaded);
    assert.ok(seen.some((s) => s.fingerprint === a.fingerprint), 'the old certificate was served before the reload');
    assert.ok(after.length > 20, `requests after the reload: ${after.length}`);
    assert.deepEqual([...new Set(after.map((s) => s.fingerprint))], [b.fingerprint]);
    assert.ok(before.every((s) => s.fingerprint === a.fingerprint));
    assert.doesNotMatch(herd.output().slice(mark), /started/, 'no worker started for the refused reload');
  });
}
