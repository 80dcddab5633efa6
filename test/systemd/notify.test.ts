// sd_notify through systemd-notify: READY=1 once serving, RELOADING=1/READY=1 around a reload,
// STOPPING=1 at a stop, a STATUS= line with each; MAINPID= is the supervisor.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startHerd } from '../support/herd_process.ts';
import { waitFor } from '../support/http_client.ts';
import { notifySkipReason, notifySocket } from '../support/notify_socket.ts';

const skip = notifySkipReason();

test('READY=1, RELOADING=1 then READY=1, STOPPING=1, each with STATUS=', { skip: skip ?? false }, async (t) => {
  const notify = await notifySocket(t);
  const herd = await startHerd(t, ['--workers', '2', '--dispatch', 'shared'], { env: { ...process.env, NOTIFY_SOCKET: notify.path } });
  const pid = herd.child.pid!;
  await waitFor('READY=1', () => notify.messages.some((m) => m.fields.READY === '1'));
  const ready = notify.messages[0];
  assert.equal(ready.fields.READY, '1');
  assert.equal(ready.fields.MAINPID, String(pid));
  assert.match(ready.fields.STATUS, /^serving on http:\/\/127\.0\.0\.1:\d+ with 2 workers \(dispatch shared\)$/);
  // As root systemd-notify may send the supervisor's credentials; otherwise its own (NotifyAccess=all).
  t.diagnostic(`sender pid ${ready.pid} (supervisor ${pid}): ${ready.pid === pid ? 'credentials of the supervisor (NotifyAccess=main would do)' : 'systemd-notify\'s own (needs NotifyAccess=all)'}`);

  herd.child.kill('SIGHUP');
  await waitFor('the reload to finish', () => /reload: done/.test(herd.output()), 30_000);
  await waitFor('READY=1 after the reload', () => notify.messages.filter((m) => m.fields.READY === '1').length === 2);
  const [, reloading, again] = notify.messages;
  assert.equal(reloading.fields.RELOADING, '1', JSON.stringify(notify.messages));
  assert.match(reloading.fields.MONOTONIC_USEC, /^\d+$/);
  assert.match(reloading.fields.STATUS, /^reloading/);
  assert.equal(again.fields.READY, '1');
  assert.match(again.fields.STATUS, /^serving on/);

  herd.child.kill('SIGTERM');
  assert.equal(await herd.exited, 0);
  // herd waited for systemd-notify; the receiver prints on its own time.
  await waitFor('STOPPING=1', () => notify.messages.some((m) => m.fields.STOPPING === '1'), 5000).catch(() => {});
  const last = notify.messages.slice(3);
  assert.equal(last[0]?.fields.STOPPING, "1", JSON.stringify(notify.messages) + herd.output());
  assert.match(last[0].fields.STATUS, /^stopping/);
  // The workers never saw NOTIFY_SOCKET: only the supervisor's pid speaks.
  for (const m of notify.messages) assert.equal(m.fields.MAINPID, String(pid));
});

test('without NOTIFY_SOCKET nothing is sent and nothing is said', async (t) => {
  const env = { ...process.env };
  delete env.NOTIFY_SOCKET;
  const herd = await startHerd(t, ['--workers', '1'], { env });
  herd.child.kill('SIGTERM');
  assert.equal(await herd.exited, 0);
  assert.doesNotMatch(herd.output(), /systemd/);
});
