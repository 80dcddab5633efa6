// The master cycle's rules, driven by a fake worker factory and a fake clock: no process, no socket,
// milliseconds per case. Each case feeds the events a real pool would see, in an order that used to
// break the supervisor (a reload and a respawn both writing one slot, a stuck reload, ...).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PoolCycle, START_TIMEOUT_GRACE_MS, type CycleEvent, type CycleHost, type CycleMoment, type CycleSettings, type PoolWorker } from '../../src/supervisor/pool_cycle.ts';
import type { ControlReply } from '../../src/supervisor/control_protocol.ts';

class FakeWorker implements PoolWorker {
  readonly slot: number;
  readonly pid: number;
  fatal: { message: string; code: string } | undefined;
  drained = false;
  killed = false;
  constructor(slot: number, pid: number) {
    this.slot = slot;
    this.pid = pid;
  }
  drain(): void {
    this.drained = true;
  }
  kill(): void {
    this.killed = true;
  }
}

interface Timer {
  at: number;
  event: CycleEvent<FakeWorker>;
  cancelled: boolean;
}

function pool(settings: Partial<CycleSettings> = {}) {
  let now = 0;
  let accepting = true;
  const spawned: FakeWorker[] = [];
  const routed = new Set<FakeWorker>();
  const timers: Timer[] = [];
  const logs: string[] = [];
  const moments: CycleMoment[] = [];
  /** Upgrade: the new herds started, handed over to, abandoned; `refuse` makes the next start refused. */
  const successors = { started: [] as number[], handedOver: [] as number[], abandoned: [] as number[], refuse: undefined as string | undefined };
  const host: CycleHost<FakeWorker> = {
    spawn(slot) {
      const worker = new FakeWorker(slot, 1000 + spawned.length);
      spawned.push(worker);
      return worker;
    },
    after(ms, event) {
      const timer = { at: now + ms, event, cancelled: false };
      timers.push(timer);
      return () => (timer.cancelled = true);
    },
    route: (w) => routed.add(w),
    unroute: (w) => routed.delete(w),
    stopAccepting: () => (accepting = false),
    reopenLogs: () => logs.push('(reopened)'),
    log: (line) => logs.push(line),
    now: () => now,
    moment: (m) => moments.push(m),
    startSuccessor() {
      if (successors.refuse) return { refused: successors.refuse };
      const pid = 9000 + successors.started.length;
      successors.started.push(pid);
      return { pid };
    },
    handOver: (pid) => successors.handedOver.push(pid),
    abandonSuccessor: (pid) => successors.abandoned.push(pid),
  };
  const cycle = new PoolCycle<FakeWorker>(host, {
    workers: 2,
    startTimeoutMs: 30_000,
    graceMs: 30_000,
    unresponsiveTimeoutMs: 10_000,
    replaceUnresponsiveAtOnce: true,
    appLabel: 'APP app.js',
    ...settings,
  });
  const send = (event: CycleEvent<FakeWorker>) => cycle.handle(event);
  const p = {
    cycle,
    spawned,
    routed,
    logs,
    moments,
    successors,
    get accepting() {
      return accepting;
    },
    send,
    ready: (w: FakeWorker) => send({ t: 'ready', worker: w }),
    exit: (w: FakeWorker, code: number | null = 0, signal: NodeJS.Signals | null = null) => send({ t: 'exited', worker: w, exit: { code, signal } }),
    /** Every killed worker that has not exited yet exits (SIGKILL), as the kernel would. */
    reapKilled() {
      for (const w of spawned) if (w.killed && cycle.stateOf(w) !== 'exited') p.exit(w, null, 'SIGKILL');
    },
    signal: (signal: 'SIGHUP' | 'SIGTERM' | 'SIGINT' | 'SIGQUIT' | 'SIGUSR2') => send({ t: 'signal', signal }),
    command(command: 'reload' | 'stop' | 'reopen' | 'upgrade'): ControlReply {
      let reply: ControlReply | undefined;
      send({ t: 'command', command, reply: (r) => (reply = r) });
      return reply!;
    },
    /** `herd upgrade`, whose reply comes when the upgrade ends: read `.reply` then. */
    upgradeCommand(): { reply: ControlReply | undefined } {
      const held: { reply: ControlReply | undefined } = { reply: undefined };
      send({ t: 'command', command: 'upgrade', reply: (r) => (held.reply = r) });
      return held;
    },
    /** Moves the clock on, firing the timers that fall due, in order. */
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        due.cancelled = true;
        now = due.at;
        send(due.event);
      }
      now = until;
    },
    owners: () => cycle.owners().map((o) => o.worker),
    /** Starts both slots and makes them ready. */
    started() {
      cycle.start();
      for (const w of [...spawned]) p.ready(w);
      assert.equal(cycle.phase, 'running');
      return [...spawned];
    },
    last: () => spawned[spawned.length - 1],
  };
  return p;
}

test('start: the pool is running once every first worker is ready, and only then routed', () => {
  const p = pool();
  p.cycle.start();
  assert.equal(p.spawned.length, 2);
  p.ready(p.spawned[0]);
  assert.equal(p.cycle.phase, 'starting');
  assert.equal(p.routed.size, 0);
  p.ready(p.spawned[1]);
  assert.equal(p.cycle.phase, 'running');
  assert.deepEqual([...p.routed], p.spawned);
  assert.deepEqual(p.moments, ['all-ready']);
});

test('a worker that fails at start stops the others; herd exits 1 with its reason', () => {
  const p = pool();
  p.cycle.start();
  const [a, b] = p.spawned;
  p.ready(a);
  b.fatal = { message: 'APP app.js: SyntaxError', code: 'APP_LOAD' };
  p.exit(b, 1);
  assert.equal(p.cycle.phase, 'stopping');
  assert.ok(a.drained);
  p.exit(a);
  assert.equal(p.cycle.phase, 'stopped');
  assert.equal(p.cycle.startError?.message, 'APP app.js: SyntaxError');
  assert.equal(p.cycle.exitCode, 1);
  assert.deepEqual(p.logs.filter((l) => /stop|draining/.test(l)), [], 'a failed start is one line, not a stop');
});

test('a worker that was ready and dies before the others are: respawned; the pool has started once every slot was ready once', () => {
  const p = pool();
  p.cycle.start();
  const [a, b] = p.spawned;
  p.ready(a);
  p.exit(a, 1);
  assert.equal(p.cycle.phase, 'starting');
  p.advance(100);
  const a2 = p.last();
  assert.equal(a2.slot, 1);
  p.ready(b);
  assert.equal(p.cycle.phase, 'running');
  assert.deepEqual([...p.routed], [b], 'the respawning slot is routed when its worker is ready');
  p.ready(a2);
  assert.deepEqual(p.owners(), [a2, b]);
  assert.ok(p.routed.has(a2));
});

test('rolling reload: one slot at a time, the newcomer routed before the old one drains', () => {
  const p = pool();
  const [a, b] = p.started();
  p.signal('SIGHUP');
  assert.equal(p.cycle.phase, 'reloading');
  const a2 = p.last();
  assert.equal(a2.slot, 1);
  assert.equal(p.spawned.length, 3, 'one newcomer at a time');
  p.ready(a2);
  assert.ok(p.routed.has(a2) && !p.routed.has(a) && a.drained);
  assert.equal(p.spawned.length, 3, 'the next slot waits for the old worker to leave');
  p.exit(a);
  const b2 = p.last();
  assert.equal(b2.slot, 2);
  p.ready(b2);
  p.exit(b);
  assert.equal(p.cycle.phase, 'running');
  assert.deepEqual(p.owners(), [a2, b2]);
  assert.equal(p.cycle.lastReload?.outcome, 'done');
  assert.deepEqual(p.moments, ['all-ready', 'reload-began', 'reload-ended']);
});

test('HUP during a reload: one more reload follows it, so every worker runs the newest code', () => {
  const p = pool();
  p.started();
  p.signal('SIGHUP');
  p.signal('SIGHUP');
  assert.equal(p.command('reload').ok, true);
  assert.equal(p.spawned.length, 3, 'the running reload is not disturbed');
  // First reload.
  for (let slot = 1; slot <= 2; slot++) {
    const fresh = p.last();
    const old = p.owners()[slot - 1];
    p.ready(fresh);
    p.exit(old);
  }
  assert.equal(p.cycle.phase, 'reloading', 'the second reload began');
  assert.equal(p.logs.filter((l) => l === 'reload: done').length, 1);
  for (let slot = 1; slot <= 2; slot++) {
    const fresh = p.last();
    const old = p.owners()[slot - 1];
    p.ready(fresh);
    p.exit(old);
  }
  assert.equal(p.cycle.phase, 'running');
  assert.equal(p.spawned.length, 6, 'two HUPs and a command during one reload make one more, not three');
  assert.deepEqual(p.owners(), [p.spawned[4], p.spawned[5]]);
});

test('TERM during a reload: the newcomer is killed, the owners drain, no slot changes hands after', () => {
  const p = pool();
  const [a, b] = p.started();
  p.signal('SIGHUP');
  const fresh = p.last();
  p.signal('SIGTERM');
  assert.equal(p.cycle.phase, 'stopping');
  assert.equal(p.accepting, false);
  assert.ok(fresh.killed, 'the newcomer has served nothing: killed');
  assert.ok(a.drained && b.drained);
  p.ready(fresh); // its ready was already on its way
  assert.ok(!p.routed.has(fresh));
  p.reapKilled();
  p.exit(a);
  assert.equal(p.cycle.phase, 'stopping');
  p.exit(b);
  assert.equal(p.cycle.phase, 'stopped');
  assert.equal(p.cycle.exitCode, 0);
  assert.deepEqual(p.moments.slice(-2), ['stop-began', 'stopped']);
});

test('an old worker that crashes while its replacement starts: the replacement fills the slot, no respawn beside it', () => {
  const p = pool();
  const [a, b] = p.started();
  p.signal('SIGHUP');
  const a2 = p.last();
  p.advance(5000);
  p.exit(a, 1);
  assert.match(p.logs.at(-1)!, /worker 1 \(pid \d+\) exited with code 1; its replacement is starting/);
  p.advance(10_000); // no respawn timer fires: none was set
  assert.equal(p.spawned.length, 3);
  p.ready(a2);
  assert.deepEqual(p.owners(), [a2, b]);
  // The slot had no old owner to drain: the reload moves to slot 2 at once.
  const b2 = p.last();
  assert.equal(b2.slot, 2);
  p.ready(b2);
  p.exit(b);
  assert.equal(p.cycle.phase, 'running');
  assert.deepEqual(p.owners(), [a2, b2]);
  assert.equal(p.spawned.length, 4);
});

test('a worker the reload has not reached yet crashes: its respawn runs the new code, the reload skips it', () => {
  const p = pool();
  const [a, b] = p.started();
  p.signal('SIGHUP');
  const a2 = p.last();
  p.advance(5000);
  p.exit(b, null, 'SIGKILL');
  p.advance(0); // served 5 s: respawned at once
  const b2 = p.last();
  assert.equal(b2.slot, 2);
  p.ready(b2);
  p.ready(a2);
  p.exit(a);
  assert.equal(p.cycle.phase, 'running');
  assert.deepEqual(p.owners(), [a2, b2]);
  assert.equal(p.spawned.length, 4, 'slot 2 was not replaced twice');
});

test('a newcomer that fails: the reload is abandoned, the old worker serves on, the next HUP works', () => {
  const p = pool();
  const [a] = p.started();
  p.signal('SIGHUP');
  const fresh = p.last();
  fresh.fatal = { message: 'APP app.js: cannot find module ./db', code: 'APP_LOAD' };
  p.exit(fresh, 1);
  assert.equal(p.cycle.phase, 'running');
  assert.ok(p.routed.has(a) && !a.drained);
  assert.ok(p.logs.includes('reload aborted: the new worker 1 did not start: APP app.js: cannot find module ./db'));
  assert.ok(p.logs.includes('reload: abandoned; the workers not replaced yet serve on'));
  assert.equal(p.cycle.lastReload?.outcome, 'abandoned');
  p.signal('SIGHUP');
  assert.equal(p.cycle.phase, 'reloading');
  assert.equal(p.last().slot, 1);
});

test('a newcomer that never gets ready: killed at --start-timeout (plus the grace for its own line), reload abandoned', () => {
  const p = pool({ startTimeoutMs: 3000 });
  const [a] = p.started();
  p.signal('SIGHUP');
  const fresh = p.last();
  p.advance(3000 + START_TIMEOUT_GRACE_MS - 1);
  assert.ok(!fresh.killed);
  p.advance(1);
  assert.ok(fresh.killed);
  p.reapKilled();
  assert.equal(p.cycle.phase, 'running');
  assert.ok(p.logs.some((l) => /^reload aborted: the new worker 1 did not start: APP app\.js was not ready within 3 s \(--start-timeout\)/.test(l)), p.logs.join('\n'));
  assert.ok(p.routed.has(a));
  assert.equal(p.command('reload').ok, true, 'HUPs are not ignored after it');
});

test('a newcomer that fails after its old worker crashed: the empty slot is respawned', () => {
  const p = pool();
  const [a] = p.started();
  p.signal('SIGHUP');
  const fresh = p.last();
  p.advance(5000);
  p.exit(a, 1);
  p.exit(fresh, 1);
  assert.equal(p.cycle.phase, 'running');
  p.advance(5000);
  const respawned = p.last();
  assert.notEqual(respawned, fresh);
  assert.equal(respawned.slot, 1);
  p.ready(respawned);
  assert.equal(p.owners()[0], respawned);
});

test('a respawn due while stopping: nothing is started', () => {
  const p = pool();
  const [a, b] = p.started();
  p.exit(a, 1); // died young: respawn in 100 ms
  assert.match(p.logs.at(-1)!, /respawning in 100 ms/);
  p.signal('SIGTERM');
  p.advance(1000);
  p.send({ t: 'respawn-due', slot: 1 }); // one already in the queue
  assert.equal(p.spawned.length, 2);
  p.exit(b);
  assert.equal(p.cycle.phase, 'stopped');
});

test('a second TERM kills what is still draining; a second QUIT does not', () => {
  const p = pool();
  const [a, b] = p.started();
  p.signal('SIGQUIT');
  p.signal('SIGQUIT');
  assert.ok(!a.killed && !b.killed);
  p.signal('SIGTERM');
  assert.ok(a.killed && b.killed);
  p.reapKilled();
  assert.equal(p.cycle.phase, 'stopped');
  assert.equal(p.cycle.exitCode, 1);
});

test('a worker that outlives --grace while draining is killed', () => {
  const p = pool({ graceMs: 2000 });
  const [a, b] = p.started();
  p.signal('SIGTERM');
  p.exit(b);
  p.advance(1999);
  assert.ok(!a.killed);
  p.advance(1);
  assert.ok(a.killed);
  p.reapKilled();
  assert.equal(p.cycle.phase, 'stopped');
});

test('crash loop: five young deaths in a row in a slot stop herd with exit 1', () => {
  const p = pool();
  p.started();
  for (let i = 0; i < 5; i++) {
    const owner = p.owners().find((w) => w.slot === 1)!;
    p.exit(owner, 1);
    if (i < 4) {
      p.advance(10_000);
      p.ready(p.last());
    }
  }
  assert.equal(p.cycle.phase, 'stopping');
  assert.equal(p.cycle.exitCode, 1);
  assert.ok(p.logs.some((l) => l.startsWith('crash loop: worker 1 died 5 times in a row')));
});

test('unresponsive (reuseport, shared): unrouted at once, a replacement starts on the slot, the stuck one is killed at the timeout', () => {
  const p = pool();
  const [a, b] = p.started();
  p.advance(5000);
  p.send({ t: 'heartbeat', worker: a, answering: false });
  assert.equal(p.cycle.stateOf(a), 'unresponsive');
  assert.ok(!p.routed.has(a));
  const standIn = p.last();
  assert.equal(standIn.slot, 1);
  p.ready(standIn);
  assert.deepEqual(p.owners(), [standIn, b]);
  assert.ok(p.routed.has(standIn));
  p.advance(9999);
  assert.ok(!a.killed);
  p.advance(1);
  assert.ok(a.killed);
  p.reapKilled();
  assert.equal(p.spawned.length, 3, 'no respawn: the slot has its owner');
  assert.ok(p.logs.some((l) => /worker 1 \(pid \d+\) killed: it did not answer for 10 s \(--unresponsive-timeout\)/.test(l)));
});

test('unresponsive (handoff): no new connections, killed and respawned at the timeout; answering again before it undoes that', () => {
  const p = pool({ replaceUnresponsiveAtOnce: false });
  const [a, b] = p.started();
  p.advance(5000);
  p.send({ t: 'heartbeat', worker: b, answering: false });
  assert.ok(!p.routed.has(b));
  assert.equal(p.spawned.length, 2);
  p.send({ t: 'heartbeat', worker: b, answering: true });
  assert.ok(p.routed.has(b));
  assert.equal(p.cycle.stateOf(b), 'ready');
  p.advance(20_000);
  assert.ok(!b.killed, 'its timer was cancelled');
  p.send({ t: 'heartbeat', worker: a, answering: false });
  p.advance(10_000);
  assert.ok(a.killed);
  p.reapKilled();
  p.advance(0);
  const respawned = p.last();
  assert.equal(respawned.slot, 1);
  p.ready(respawned);
  assert.deepEqual(p.owners(), [respawned, b]);
  assert.ok(p.routed.has(respawned));
});

test('--max-memory: the worker over it is replaced new-one-first, as a reload replaces it; never killed', () => {
  const p = pool({ maxMemoryBytes: 100 * 1048576 });
  const [a, b] = p.started();
  p.send({ t: 'over-memory', worker: a, rssBytes: 150 * 1048576 });
  assert.match(p.logs.at(-1)!, /worker 1 \(pid \d+\) uses 150 MB, over --max-memory 100 MB: replacing it/);
  const fresh = p.last();
  assert.equal(fresh.slot, 1);
  assert.ok(p.routed.has(a) && !a.drained, 'the old one serves until the new one is ready');
  p.send({ t: 'over-memory', worker: a, rssBytes: 160 * 1048576 });
  assert.equal(p.spawned.length, 3, 'one replacement at a time');
  p.ready(fresh);
  assert.ok(a.drained && !a.killed && !p.routed.has(a));
  p.exit(a);
  assert.deepEqual(p.owners(), [fresh, b]);
  assert.equal(p.cycle.phase, 'running');
  assert.equal(p.spawned.length, 3, 'no respawn beside it');
});

test('control commands answer once, in the queue; reopen reaches the logs', () => {
  const p = pool();
  p.cycle.start();
  assert.deepEqual(p.command('reload'), { ok: false, error: 'cannot reload while starting' });
  for (const w of [...p.spawned]) p.ready(w);
  assert.deepEqual(p.command('reopen'), { ok: true, message: 'log files reopened' });
  assert.ok(p.logs.includes('(reopened)'));
  assert.deepEqual(p.command('stop'), { ok: true, message: 'graceful stop started' });
  assert.deepEqual(p.command('stop'), { ok: true, message: 'already stopping' });
  assert.deepEqual(p.command('reload'), { ok: false, error: 'cannot reload while stopping' });
});

// ── upgrade (USR2, herd upgrade) ──────────────────────────────────────────────────────────────

test('upgrade: this pool serves while the new herd starts; once it is ready it takes over, Connection: close for a moment, then this pool drains', () => {
  const p = pool({ upgradeTimeoutMs: 40_000, handOverCloseMs: 1000 });
  const [a, b] = p.started();
  const held = p.upgradeCommand();
  assert.deepEqual(p.successors.started, [9000]);
  assert.equal(p.cycle.phase, 'upgrading');
  assert.equal(held.reply, undefined, 'herd upgrade waits for the outcome');
  assert.ok(p.routed.has(a) && p.routed.has(b) && !a.drained, 'still serving');
  assert.deepEqual(p.command('reload'), { ok: false, error: 'cannot reload while upgrading' });
  assert.match((p.command('upgrade') as { error: string }).error, /an upgrade is running already \(the new herd is pid 9000\)/);

  p.send({ t: 'successor-ready', pid: 9000 });
  assert.deepEqual(p.successors.handedOver, [9000]);
  assert.deepEqual(held.reply, { ok: true, message: 'upgraded: the new herd (pid 9000) serves; the old one drains and exits' });
  assert.equal(p.cycle.phase, 'handing-over');
  assert.ok(!a.drained && p.accepting, 'serving with Connection: close until the moment is over');
  p.advance(1000);
  assert.equal(p.cycle.phase, 'stopping');
  assert.ok(a.drained && b.drained && !p.accepting);
  p.exit(a);
  p.exit(b);
  assert.equal(p.cycle.phase, 'stopped');
  assert.equal(p.cycle.exitCode, 0);
  p.advance(60_000);
  assert.deepEqual(p.successors.abandoned, [], 'the timeout was cancelled');
});

test('upgrade: a new herd that fails leaves this pool running, with one line why; another upgrade may follow', () => {
  const p = pool();
  const [a] = p.started();
  p.signal('SIGUSR2');
  p.send({ t: 'successor-failed', pid: 9000, reason: 'exited with code 2 before its workers were ready: --workers lots' });
  assert.equal(p.cycle.phase, 'running');
  assert.match(p.logs.at(-1)!, /^upgrade failed: the new herd \(pid 9000\) exited with code 2 .*--workers lots; this one serves on$/);
  assert.ok(p.routed.has(a) && !a.drained);
  // Its ready, if it ever came late, changes nothing.
  p.send({ t: 'successor-ready', pid: 9000 });
  assert.deepEqual(p.successors.handedOver, []);
  const again = p.upgradeCommand();
  assert.deepEqual(p.successors.started, [9000, 9001]);
  p.send({ t: 'successor-failed', pid: 9001, reason: 'was killed by SIGKILL before its workers were ready' });
  assert.deepEqual(again.reply, { ok: false, error: 'upgrade failed: the new herd (pid 9001) was killed by SIGKILL before its workers were ready; the running herd serves on' });
});

test('upgrade: a new herd not ready in time is stopped, and this pool serves on', () => {
  const p = pool({ upgradeTimeoutMs: 40_000 });
  p.started();
  const held = p.upgradeCommand();
  p.advance(40_000);
  assert.deepEqual(p.successors.abandoned, [9000]);
  assert.equal(p.cycle.phase, 'running');
  assert.match((held.reply as { error: string }).error, /was not ready within 40 s and is stopped/);
  p.send({ t: 'successor-failed', pid: 9000, reason: 'was killed by SIGTERM before its workers were ready' });
  assert.equal(p.logs.filter((l) => l.startsWith('upgrade failed')).length, 1, 'one line, not two');
});

test('upgrade: a stop during it stops the new herd too; refused while starting, reloading or stopping, and when the host cannot run one', () => {
  const p = pool();
  p.cycle.start();
  assert.match((p.command('upgrade') as { error: string }).error, /^upgrade refused: herd is starting/);
  for (const w of [...p.spawned]) p.ready(w);
  p.signal('SIGHUP');
  assert.match((p.command('upgrade') as { error: string }).error, /^upgrade refused: herd is reloading/);
  for (const old of p.spawned.slice(0, 2)) {
    p.ready(p.last());
    p.exit(old);
  }
  assert.equal(p.cycle.phase, 'running');
  const held = p.upgradeCommand();
  p.signal('SIGTERM');
  assert.deepEqual(p.successors.abandoned, [9000]);
  assert.deepEqual(held.reply, { ok: false, error: 'upgrade abandoned: herd is stopping' });
  assert.equal(p.cycle.phase, 'stopping');
  assert.match((p.command('upgrade') as { error: string }).error, /^upgrade refused: herd is stopping/);

  const q = pool();
  q.started();
  q.successors.refuse = 'herd is PID 1 here and cannot replace itself';
  assert.deepEqual(q.command('upgrade'), { ok: false, error: 'upgrade refused: herd is PID 1 here and cannot replace itself' });
  assert.equal(q.cycle.phase, 'running');
});
