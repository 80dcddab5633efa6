// The access log on a full disk (ENOSPC), on a small tmpfs this test mounts (root only; skipped
// otherwise): a write cut short leaves no half record in the file; when space returns logging
// resumes within about a second, every record once; and the operator's usual way out (remove the
// log, kill -USR1) works at once, though a write is failing: logd closes the deleted file (which
// frees its space) and writes what it holds to the new one.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startHerd } from '../support/herd_process.ts';
import { request, waitFor } from '../support/http_client.ts';

function canMountTmpfs(): string | undefined {
  if (process.platform !== 'linux') return 'tmpfs is Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = fs.mkdtempSync('/tmp/herd-mount-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'mount -t tmpfs is not permitted here (a container without CAP_SYS_ADMIN)';
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

/** Fills the file system with one file until ENOSPC. */
function fill(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 0x78);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
}

const LONG = 'a'.repeat(1500); // a few records fill a page: the next one needs a block the disk does not have

const lines = (file: string): string[] => fs.readFileSync(file, 'utf8').split('\n');
const paths = (file: string): string[] => lines(file).filter(Boolean).map((l) => /"GET (\S+) /.exec(l)?.[1] ?? `(unparsed: ${l.slice(0, 60)})`);

test('ENOSPC: no half record; logging resumes when space returns; remove + USR1 reopens at once', { skip: canMountTmpfs(), timeout: 60_000 }, async (t) => {
  const mnt = fs.mkdtempSync('/tmp/herd-enospc-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
  t.after(() => {
    execFileSync('umount', ['-l', mnt]);
    fs.rmSync(mnt, { recursive: true, force: true });
  });
  const log = path.join(mnt, 'access.log');
  const herd = await startHerd(t, ['--workers', '1', '--access-log', log]);
  await request(herd.url, '/first');
  await waitFor('the first line', () => fs.existsSync(log) && paths(log).includes('/first'));

  /** Requests until logd reports the failing write; returns the paths asked for. */
  const untilFailing = async (tag: string): Promise<string[]> => {
    const before = herd.output().split('failed (ENOSPC)').length;
    const asked: string[] = [];
    for (let i = 0; i < 200 && herd.output().split('failed (ENOSPC)').length === before; i++) {
      const p = `/${tag}-${i}?${LONG}`;
      assert.equal((await request(herd.url, p)).status, 200);
      asked.push(p);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(herd.output().split('failed (ENOSPC)').length > before, `logd never hit ENOSPC: ${herd.output()}`);
    return asked;
  };

  // 1. The disk fills: the write cut short is cut back, the file ends with a whole record.
  fill(path.join(mnt, 'filler'));
  const duringFull = await untilFailing('full');
  const text = fs.readFileSync(log, 'utf8');
  assert.ok(text.endsWith('\n'), `the log ends in a partial record: ...${JSON.stringify(text.slice(-80))}`);

  // 2. Space returns: within about a second every held record is in the file, each once.
  fs.rmSync(path.join(mnt, 'filler'));
  const freedAt = Date.now();
  await waitFor('the held records', () => paths(log).includes(duringFull.at(-1)!), 5000);
  t.diagnostic(`logging resumed ${Date.now() - freedAt} ms after space returned`);
  assert.deepEqual(paths(log), ['/first', ...duringFull]);

  // 3. Full again; the operator removes the log and sends USR1: logd reopens at once.
  fill(path.join(mnt, 'filler'));
  const duringSecond = await untilFailing('again');
  fs.rmSync(log);
  herd.child.kill('SIGUSR1');
  await waitFor('a new access.log with the records logd held', () => fs.existsSync(log) && paths(log).includes(duringSecond.at(-1)!), 5000);
  await request(herd.url, '/after-reopen');
  await waitFor('the next request logged', () => paths(log).includes('/after-reopen'), 5000);
  const after = paths(log);
  assert.ok(lines(log).at(-1) === '', 'whole records only');
  // The held records of the failing batch are there once; ones already written before the disk was
  // full went with the removed file.
  for (const p of after) assert.equal(after.filter((q) => q === p).length, 1, `${p} logged twice`);
  assert.equal(after.at(-1), '/after-reopen');
});
