// The master cycle's rules, written the way nginx's ngx_process_cycle.c writes them: one function
// per named event, each a few steps on plain state, none of them waiting for anything. Every
// lifecycle fact is an event of the supervisor's one queue (spawned, ready, exited, start timed
// out, drain timed out, heartbeat, respawn due, signal, control command); a reload and a stop are
// phases that the events advance one at a time. Nothing here touches a process, a socket or a
// clock: a CycleHost does, which lets a test drive the whole life of a pool in milliseconds.
//
// A slot (1..N) has one owner at any moment, the worker the dispatch routes to. A replacement
// (a reload's newcomer, or the stand-in for a worker that stopped answering) is the slot's
// successor until it is ready; then it becomes the owner in one step and the old owner retires
// (drains). Nobody else writes a slot.
//
// An upgrade (USR2, `herd upgrade`) is nginx's USR2 and QUIT in one: the host starts a new herd
// that inherits every listening socket; while it starts, this one serves (phase 'upgrading'); once
// the new herd's workers are ready it takes over (control socket, pid file, MAINPID), this pool's
// workers answer with `Connection: close` for a moment (phase 'handing-over': keep-alive clients
// reconnect, to either herd, instead of meeting a close mid-request), then it stops as a TERM
// stops it. A new herd that fails or never gets ready leaves this one serving.
import type { ControlReply } from './control_protocol.ts';
import { SlotHealth } from './backoff.ts';
import { SIGNAL_MEANINGS, type SupervisorSignal } from './signals.ts';
import { HerdError } from '../errors.ts';

/**
 * A worker that can say why it is not ready (an APP that never listens) says so at --start-timeout;
 * the cycle kills it this much later, for one that cannot (an import that never finishes, a
 * blocked event loop). The margin keeps the worker's more precise line from losing that race on
 * a loaded machine (1 s was lost at a load average of 30).
 */
export const START_TIMEOUT_GRACE_MS = 2000;

export type WorkerState = 'starting' | 'ready' | 'unresponsive' | 'draining' | 'exited';

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A worker as the cycle drives it: a child process (worker_process.ts), or a test's fake. */
export interface PoolWorker {
  readonly slot: number;
  readonly pid: number;
  /** The worker's own explanation when it could not start or died of an uncaught exception. */
  readonly fatal: { message: string; code: string } | undefined;
  /** Asks it to stop accepting, finish what it has, and exit. */
  drain(): void;
  kill(): void;
}

export type ControlCommandEvent = { t: 'command'; command: 'reload' | 'stop' | 'reopen' | 'upgrade'; reply: (reply: ControlReply) => void };

/** What the new herd of an upgrade does, as this one sees it (successor.ts). */
export type SuccessorEvent =
  /** Its workers are ready: it asks to take over. */
  | { t: 'successor-ready'; pid: number }
  /** It exited (or could not run) before it was ready; `reason` says how, with its own line. */
  | { t: 'successor-failed'; pid: number; reason: string };

export type CycleEvent<W extends PoolWorker = PoolWorker> =
  | { t: 'spawned'; worker: W }
  | { t: 'ready'; worker: W }
  | { t: 'exited'; worker: W; exit: WorkerExit }
  | { t: 'start-timeout'; worker: W }
  | { t: 'drain-timeout'; worker: W }
  /** The worker answered the supervisor's heartbeat again, or missed it. */
  | { t: 'heartbeat'; worker: W; answering: boolean }
  | { t: 'unresponsive-timeout'; worker: W }
  /** --max-memory: the worker's RSS went above the limit (told once per worker). */
  | { t: 'over-memory'; worker: W; rssBytes: number }
  | { t: 'respawn-due'; slot: number }
  | { t: 'signal'; signal: SupervisorSignal }
  | ControlCommandEvent
  | SuccessorEvent
  /** The new herd of an upgrade was not ready in time. */
  | { t: 'successor-timeout'; pid: number }
  /** The hand-over's Connection: close moment is over: this pool drains. */
  | { t: 'hand-over-closed' };

/** Named moments other modules hook (readiness, systemd notify, a shutdown delay's start). */
export type CycleMoment = 'all-ready' | 'reload-began' | 'reload-ended' | 'stop-began' | 'stopped';

export interface CycleHost<W extends PoolWorker = PoolWorker> {
  /** Starts a worker for the slot; its lifecycle facts come back as events. */
  spawn(slot: number): W;
  /** An event pushed to the queue after ms; returns a cancel. */
  after(ms: number, event: CycleEvent<W>): () => void;
  /** The dispatch may give this worker connections now, or must not any more. */
  route(worker: W): void;
  unroute(worker: W): void;
  /** Stop taking connections at all (the first step of a stop). */
  stopAccepting(): void;
  reopenLogs(): void;
  /** One line for the user; `terminal`: the reason herd exits, shown on stderr even with an error log. */
  log(line: string, terminal?: boolean): void;
  now(): number;
  moment(moment: CycleMoment): void;
  /** Upgrade: starts the new herd with this one's sockets; its pid, or why it cannot run (PID 1). */
  startSuccessor(): { pid: number } | { refused: string };
  /** The new herd is ready: it takes the control socket, the pid file and MAINPID; this one lets go, and its workers answer with Connection: close from now on. */
  handOver(pid: number): void;
  /** The upgrade is off: the new herd is stopped (it drains what it has); the sockets stay this one's. */
  abandonSuccessor(pid: number): void;
}

export interface CycleSettings {
  workers: number;
  /** 0: a worker may take as long as it likes to be ready. */
  startTimeoutMs: number;
  graceMs: number;
  /** A worker that has not answered its heartbeat for this long is killed and replaced. */
  unresponsiveTimeoutMs: number;
  /** reuseport and shared: a stuck worker's replacement starts at once, on the slot's socket. */
  replaceUnresponsiveAtOnce: boolean;
  /** --max-memory in bytes (0: none), for the log line. */
  maxMemoryBytes?: number;
  /** How the worker's code is named in messages: "APP app.js", or "the worker". */
  appLabel: string;
  /** An upgrade's new herd not ready within this is stopped, and this one serves on (0: no limit). */
  upgradeTimeoutMs?: number;
  /** After the hand-over, how long this pool's workers serve with Connection: close before they drain. */
  handOverCloseMs?: number;
}

export type CyclePhase = 'starting' | 'running' | 'reloading' | 'upgrading' | 'handing-over' | 'stopping' | 'stopped';

interface Slot<W> {
  readonly id: number;
  readonly health: SlotHealth;
  /** The worker the dispatch routes this slot's share to. */
  owner: W | undefined;
  /** Its replacement while it starts. */
  successor: W | undefined;
  /** The previous owner, draining after its successor took over. */
  retiring: W | undefined;
  cancelRespawn: (() => void) | undefined;
  /** A worker of this slot has been ready once: start-up is over when every slot's has. */
  readyOnce: boolean;
}

interface Tracked {
  state: WorkerState;
  readonly generation: number;
  readonly startedAt: number;
  readyAt: number | undefined;
  drainRequested: boolean;
  /** Killed for a reason of ours (start or unresponsive timeout): its reason, when it has none of its own. */
  killedBecause: { message: string; code: string } | undefined;
  timers: Map<'start' | 'drain' | 'unresponsive', () => void>;
}

interface Reload {
  /** Workers started before this generation are replaced. */
  readonly generation: number;
  /** The slot being replaced now. */
  slot: number;
  /** A HUP came during this reload: another runs when it ends, so every worker runs the newest code. */
  again: boolean;
}

interface Upgrade {
  /** The new herd's pid. */
  readonly pid: number;
  /** `herd upgrade` waits for the outcome; USR2 has nobody to tell. */
  readonly reply: ((reply: ControlReply) => void) | undefined;
  readonly cancelTimeout: (() => void) | undefined;
}

export interface ReloadOutcome {
  outcome: 'done' | 'abandoned';
  /** Why it was abandoned. */
  reason?: string;
  at: number;
}

export interface WorkerView<W extends PoolWorker = PoolWorker> {
  worker: W;
  state: WorkerState;
  startedAt: number;
  readyAt: number | undefined;
  restarts: number;
}

export class PoolCycle<W extends PoolWorker = PoolWorker> {
  readonly #host: CycleHost<W>;
  readonly #settings: CycleSettings;
  readonly #slots: Slot<W>[] = [];
  /** Every worker process alive, owner or not. */
  readonly #alive = new Map<W, Tracked>();
  #phase: CyclePhase = 'starting';
  #generation = 0;
  #reload: Reload | undefined;
  #upgrade: Upgrade | undefined;
  #lastReload: ReloadOutcome | undefined;
  #exitCode = 0;
  /** Why start-up failed: run() rejects with it. */
  #startError: HerdError | undefined;
  readonly #reportedFatals = new Set<string>();

  constructor(host: CycleHost<W>, settings: CycleSettings) {
    this.#host = host;
    this.#settings = settings;
  }

  get phase(): CyclePhase {
    return this.#phase;
  }

  get exitCode(): number {
    return this.#exitCode;
  }

  get startError(): HerdError | undefined {
    return this.#startError;
  }

  get lastReload(): ReloadOutcome | undefined {
    return this.#lastReload;
  }

  /** Processes alive, in a slot or not. */
  get aliveCount(): number {
    return this.#alive.size;
  }

  /** The slot owners. */
  owners(): WorkerView<W>[] {
    return this.#views((slot) => [slot.owner]);
  }

  /** Every worker alive in a slot's hands, for status: owners, and replacements starting, and old ones leaving. */
  workers(): WorkerView<W>[] {
    return this.#views((slot) => [slot.owner, slot.successor, slot.retiring]);
  }

  #views(pick: (slot: Slot<W>) => (W | undefined)[]): WorkerView<W>[] {
    const views: WorkerView<W>[] = [];
    for (const slot of this.#slots) {
      if (!slot) continue;
      for (const worker of pick(slot)) {
        const t = worker && this.#alive.get(worker);
        if (worker && t) views.push({ worker, state: t.state, startedAt: t.startedAt, readyAt: t.readyAt, restarts: slot.health.restarts });
      }
    }
    return views;
  }

  restarts(): Map<number, number> {
    return new Map(this.#slots.filter(Boolean).map((s) => [s.id, s.health.restarts]));
  }

  stateOf(worker: W): WorkerState {
    return this.#alive.get(worker)?.state ?? 'exited';
  }

  /** Spawns the first worker of every slot. */
  start(): void {
    for (let id = 1; id <= this.#settings.workers; id++) {
      const slot: Slot<W> = { id, health: new SlotHealth(), owner: undefined, successor: undefined, retiring: undefined, cancelRespawn: undefined, readyOnce: false };
      this.#slots[id] = slot;
      slot.owner = this.#spawn(id);
    }
  }

  handle(event: CycleEvent<W>): void {
    if (this.#phase === 'stopped') {
      if (event.t === 'command') event.reply({ ok: false, error: 'herd has stopped' });
      return;
    }
    switch (event.t) {
      case 'spawned':
        return; // its pid is known from here on; nothing changes hands
      case 'ready':
        return this.#onReady(event.worker);
      case 'exited':
        return this.#onExited(event.worker, event.exit);
      case 'start-timeout':
        return this.#onStartTimeout(event.worker);
      case 'drain-timeout':
        return this.#onDrainTimeout(event.worker);
      case 'heartbeat':
        return this.#onHeartbeat(event.worker, event.answering);
      case 'unresponsive-timeout':
        return this.#onUnresponsiveTimeout(event.worker);
      case 'over-memory':
        return this.#onOverMemory(event.worker, event.rssBytes);
      case 'respawn-due':
        return this.#onRespawnDue(event.slot);
      case 'signal':
        return this.#onSignal(event.signal);
      case 'command':
        return this.#onCommand(event);
      case 'successor-ready':
        return this.#onSuccessorReady(event.pid);
      case 'successor-failed':
        return this.#onSuccessorFailed(event.pid, event.reason);
      case 'successor-timeout':
        return this.#onSuccessorTimeout(event.pid);
      case 'hand-over-closed':
        if (this.#phase === 'handing-over') this.#beginStop(0);
        return;
    }
  }

  // ── events ──────────────────────────────────────────────────────────────────────────────────

  #onReady(worker: W): void {
    const t = this.#alive.get(worker);
    if (!t || t.state !== 'starting') return;
    this.#cancel(t, 'start');
    t.state = 'ready';
    t.readyAt = this.#host.now();
    if (this.#phase === 'stopping') return; // it was asked to drain or killed already
    this.#host.log(`worker ${worker.slot} (pid ${worker.pid}) started`);
    const slot = this.#slots[worker.slot];
    if (slot.owner === worker) {
      slot.readyOnce = true;
      if (this.#phase !== 'starting') return this.#host.route(worker);
      // Every slot has come up once (one that died since is respawning, and is routed when ready).
      if (this.#slots.every((s) => !s || s.readyOnce)) {
        for (const s of this.#slots) if (s?.owner && this.#alive.get(s.owner)?.state === 'ready') this.#host.route(s.owner);
        this.#phase = 'running';
        this.#host.moment('all-ready');
      }
      return;
    }
    if (slot.successor === worker) this.#takeOver(slot);
  }

  #onExited(worker: W, exit: WorkerExit): void {
    const t = this.#alive.get(worker);
    if (!t) return;
    for (const cancel of t.timers.values()) cancel();
    this.#alive.delete(worker);
    t.state = 'exited';
    this.#host.unroute(worker);
    const slot = this.#slots[worker.slot];
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    const was = slot.owner === worker ? 'owner' : slot.successor === worker ? 'successor' : slot.retiring === worker ? 'retiring' : 'other';
    if (was === 'owner') slot.owner = undefined;
    if (was === 'successor') slot.successor = undefined;
    if (was === 'retiring') slot.retiring = undefined;

    if (this.#phase === 'stopping') {
      if (t.drainRequested && !this.#startError) this.#host.log(`worker ${worker.slot} (pid ${worker.pid}) exited with ${how} after draining`);
      if (this.#alive.size === 0) this.#finish();
      return;
    }
    if (was === 'owner' && this.#phase === 'starting' && t.readyAt === undefined) {
      // Nothing half-started: the others stop, and herd exits with this worker's reason. (One that
      // was ready and died before the others were is a crash like any other: respawned.)
      const why = reasonOf(worker, t);
      this.#startError = new HerdError(why?.message ?? `worker ${worker.slot} exited during start-up (${exit.signal ?? `code ${exit.code}`})`, why?.code ?? 'WORKER_START');
      return this.#beginStop(1);
    }
    if (was === 'successor') {
      const reason = (reasonOf(worker, t)?.message ?? `exited with ${how} before it was ready`).split('\n')[0];
      const reload = this.#reload;
      if (reload && reload.slot === slot.id) {
        this.#host.log(`reload aborted: the new worker ${slot.id} did not start: ${reason}`);
        this.#endReload({ outcome: 'abandoned', reason: `the new worker ${slot.id} did not start: ${reason}`, at: this.#host.now() });
      } else {
        this.#host.log(`worker ${slot.id}: its replacement did not start: ${reason}`);
      }
      // Its old owner died meanwhile: the slot is empty, and fills the way any dead worker's does.
      if (!slot.owner) this.#recordDeathAndRespawn(slot, worker, t, how);
      return;
    }
    if (was === 'retiring') {
      if (t.drainRequested && !t.killedBecause) this.#host.log(`worker ${worker.slot} (pid ${worker.pid}) exited with ${how} after draining`);
      return this.#advanceReload();
    }
    if (was === 'owner') {
      if (t.drainRequested) {
        this.#host.log(`worker ${worker.slot} (pid ${worker.pid}) exited with ${how} after draining`);
        return;
      }
      return this.#recordDeathAndRespawn(slot, worker, t, how);
    }
    if (t.drainRequested && !t.killedBecause) this.#host.log(`worker ${worker.slot} (pid ${worker.pid}) exited with ${how} after draining`);
  }

  #recordDeathAndRespawn(slot: Slot<W>, worker: W, t: Tracked, how: string): void {
    const delay = slot.health.recordDeath(t.readyAt === undefined ? null : this.#host.now() - t.readyAt);
    const why = reasonOf(worker, t);
    if (why) this.#reportFatalOnce(slot.id, why.message);
    if (delay === null) {
      const reason = why?.message.split('\n')[0] ?? `exited with ${how}`;
      this.#host.log(`crash loop: worker ${slot.id} died ${slot.health.youngDeaths} times in a row before or within a second of being ready; stopping. Its error: ${reason}`, true);
      return this.#beginStop(1);
    }
    if (slot.successor) {
      // A reload's newcomer (or a stand-in) is starting for this slot: it fills it when ready.
      this.#host.log(`worker ${slot.id} (pid ${worker.pid}) exited with ${how}; its replacement is starting`);
      return;
    }
    this.#host.log(`worker ${slot.id} (pid ${worker.pid}) exited with ${how}; respawning${delay ? ` in ${delay} ms` : ''}`);
    slot.cancelRespawn = this.#host.after(delay, { t: 'respawn-due', slot: slot.id });
  }

  /** Still starting when its time ran out: an import that never finishes, a listen that never comes. */
  #onStartTimeout(worker: W): void {
    const t = this.#alive.get(worker);
    t?.timers.delete('start');
    // A worker that already said why it cannot start (an APP that never listens) is leaving.
    if (!t || t.state !== 'starting' || worker.fatal) return;
    const seconds = this.#settings.startTimeoutMs / 1000;
    this.#killFor(worker, t, {
      message: `${this.#settings.appLabel} was not ready within ${seconds} s (--start-timeout); is it waiting on something that never answers, a top-level await or a database?`,
      code: 'ESTARTTIMEOUT',
    });
  }

  #onDrainTimeout(worker: W): void {
    const t = this.#alive.get(worker);
    t?.timers.delete('drain');
    if (t) worker.kill();
  }

  #onHeartbeat(worker: W, answering: boolean): void {
    const t = this.#alive.get(worker);
    if (!t) return;
    const slot = this.#slots[worker.slot];
    if (!answering) {
      if (t.state !== 'ready') return; // starting has --start-timeout, draining has --grace
      t.state = 'unresponsive';
      this.#host.unroute(worker);
      const seconds = this.#settings.unresponsiveTimeoutMs / 1000;
      const standIn = this.#settings.replaceUnresponsiveAtOnce && slot.owner === worker && !slot.successor && this.#phase !== 'stopping';
      this.#host.log(`worker ${worker.slot} (pid ${worker.pid}) does not answer: no new connections for it; ${standIn ? 'its replacement starts now on the same socket, and it' : 'it'} is killed in ${seconds} s unless it answers`);
      if (this.#settings.unresponsiveTimeoutMs > 0) t.timers.set('unresponsive', this.#host.after(this.#settings.unresponsiveTimeoutMs, { t: 'unresponsive-timeout', worker }));
      if (standIn) slot.successor = this.#spawn(slot.id);
      return;
    }
    if (t.state !== 'unresponsive') return;
    this.#cancel(t, 'unresponsive');
    t.state = t.drainRequested ? 'draining' : 'ready';
    this.#host.log(`worker ${worker.slot} (pid ${worker.pid}) answers again`);
    if (slot.owner === worker && !t.drainRequested) this.#host.route(worker);
  }

  #onUnresponsiveTimeout(worker: W): void {
    const t = this.#alive.get(worker);
    t?.timers.delete('unresponsive');
    if (!t || t.state !== 'unresponsive') return;
    const why = `it did not answer for ${this.#settings.unresponsiveTimeoutMs / 1000} s (--unresponsive-timeout)`;
    this.#host.log(`worker ${worker.slot} (pid ${worker.pid}) killed: ${why}`);
    this.#killFor(worker, t, { message: why, code: 'EUNRESPONSIVE' });
  }

  /** --max-memory: replaced the way a reload replaces it, new one first, never a kill mid-request. */
  #onOverMemory(worker: W, rssBytes: number): void {
    const t = this.#alive.get(worker);
    const slot = this.#slots[worker.slot];
    if (!t || t.state !== 'ready' || slot.owner !== worker || slot.successor || this.#phase === 'stopping' || this.#phase === 'starting') return;
    const mb = (n: number) => Math.round(n / 1048576);
    this.#host.log(`worker ${worker.slot} (pid ${worker.pid}) uses ${mb(rssBytes)} MB, over --max-memory ${mb(this.#settings.maxMemoryBytes ?? 0)} MB: replacing it (the new one starts, then it drains)`);
    slot.successor = this.#spawn(slot.id);
  }

  #onRespawnDue(id: number): void {
    const slot = this.#slots[id];
    slot.cancelRespawn = undefined;
    if (this.#phase === 'stopping' || slot.owner) return;
    slot.owner = this.#spawn(id);
  }

  #onSignal(signal: SupervisorSignal): void {
    switch (SIGNAL_MEANINGS[signal]) {
      case 'stop':
        if (this.#phase === 'stopping') {
          // A second INT/TERM while draining: the user does not want to wait.
          if (signal === 'SIGINT' || signal === 'SIGTERM') this.#forceStop();
          return;
        }
        return this.#beginStop(0);
      case 'reload':
        return void this.#requestReload();
      case 'reopen-logs':
        // logd owns every log file; workers only hold a socket to it, so they have nothing to reopen.
        return this.#host.reopenLogs();
      case 'upgrade':
        return this.#requestUpgrade(undefined);
    }
  }

  #onCommand(event: ControlCommandEvent): void {
    switch (event.command) {
      case 'reload': {
        const refused = this.#requestReload();
        if (refused) return event.reply({ ok: false, error: refused });
        return event.reply({ ok: true, message: this.#reload?.again ? 'a reload is running; another follows it' : 'rolling reload started' });
      }
      case 'stop':
        if (this.#phase === 'stopping') return event.reply({ ok: true, message: 'already stopping' });
        this.#beginStop(0);
        return event.reply({ ok: true, message: 'graceful stop started' });
      case 'reopen':
        this.#host.reopenLogs();
        return event.reply({ ok: true, message: 'log files reopened' });
      case 'upgrade':
        return this.#requestUpgrade(event.reply);
    }
  }

  // ── reload ──────────────────────────────────────────────────────────────────────────────────

  /** Returns why a reload cannot run now, or undefined when it began or was queued. */
  #requestReload(): string | undefined {
    if (this.#phase === 'reloading') {
      if (!this.#reload!.again) this.#host.log('reload: another reload follows this one (a HUP came during it)');
      this.#reload!.again = true;
      return undefined;
    }
    if (this.#phase !== 'running') {
      const doing = this.#phase === 'stopped' ? 'stopping' : this.#phase;
      this.#host.log(`reload ignored: ${doing}`);
      return `cannot reload while ${doing}`;
    }
    this.#phase = 'reloading';
    this.#generation++;
    this.#reload = { generation: this.#generation, slot: 1, again: false };
    this.#host.log('reload: starting');
    this.#host.moment('reload-began');
    this.#advanceReload();
    return undefined;
  }

  /** Per slot, in order: start the newcomer, let it take over when ready, wait for the old one to leave. */
  #advanceReload(): void {
    const reload = this.#reload;
    if (!reload || this.#phase !== 'reloading') return;
    while (reload.slot <= this.#settings.workers) {
      const slot = this.#slots[reload.slot];
      if (slot.successor || slot.retiring) return; // the next event moves it on
      const owner = slot.owner && this.#alive.get(slot.owner);
      // An empty slot is respawning, with the new code already.
      if (owner && owner.generation < reload.generation) {
        slot.successor = this.#spawn(slot.id);
        return;
      }
      reload.slot++;
    }
    this.#endReload({ outcome: 'done', at: this.#host.now() });
  }

  #endReload(outcome: ReloadOutcome): void {
    const again = this.#reload?.again ?? false;
    this.#reload = undefined;
    this.#lastReload = outcome;
    this.#phase = 'running';
    this.#host.log(outcome.outcome === 'done' ? 'reload: done' : 'reload: abandoned; the workers not replaced yet serve on');
    this.#host.moment('reload-ended');
    if (again) this.#requestReload();
  }

  /** The slot's successor is ready: it owns the slot from now on, and the old owner retires. */
  #takeOver(slot: Slot<W>): void {
    const fresh = slot.successor!;
    const old = slot.owner;
    slot.successor = undefined;
    slot.owner = fresh;
    this.#host.route(fresh);
    if (old) {
      this.#host.unroute(old);
      slot.retiring = old;
      this.#drain(old);
    } else {
      this.#advanceReload();
    }
  }

  // ── upgrade ─────────────────────────────────────────────────────────────────────────────────

  #requestUpgrade(reply: ((reply: ControlReply) => void) | undefined): void {
    const refuse = (why: string) => {
      this.#host.log(`upgrade refused: ${why}`);
      reply?.({ ok: false, error: `upgrade refused: ${why}` });
    };
    if (this.#phase === 'upgrading') return refuse(`an upgrade is running already (the new herd is pid ${this.#upgrade!.pid})`);
    if (this.#phase !== 'running') return refuse(`herd is ${this.#phase === 'stopped' ? 'stopping' : this.#phase}; try again when it serves`);
    const started = this.#host.startSuccessor();
    if ('refused' in started) return refuse(started.refused);
    const ms = this.#settings.upgradeTimeoutMs ?? 0;
    this.#phase = 'upgrading';
    this.#upgrade = {
      pid: started.pid,
      reply,
      cancelTimeout: ms > 0 ? this.#host.after(ms, { t: 'successor-timeout', pid: started.pid }) : undefined,
    };
    this.#host.log(`upgrade: started the new herd (pid ${started.pid}) with this one's sockets; this one serves until its workers are ready`);
  }

  /** Ends the upgrade in progress; returns it (undefined when `pid`'s is not the one running). */
  #endUpgrade(pid: number): Upgrade | undefined {
    const upgrade = this.#upgrade;
    if (!upgrade || upgrade.pid !== pid) return undefined;
    upgrade.cancelTimeout?.();
    this.#upgrade = undefined;
    if (this.#phase === 'upgrading') this.#phase = 'running';
    return upgrade;
  }

  #onSuccessorReady(pid: number): void {
    const upgrade = this.#endUpgrade(pid);
    if (!upgrade) return; // given up on already (timed out, or a stop began): it was stopped
    this.#host.handOver(pid);
    const ms = this.#settings.handOverCloseMs ?? 0;
    this.#host.log(`upgrade: the new herd (pid ${pid}) is ready and takes over; this one drains${ms > 0 ? ` in ${ms / 1000} s (Connection: close until then)` : ''} and exits`);
    upgrade.reply?.({ ok: true, message: `upgraded: the new herd (pid ${pid}) serves; the old one drains and exits` });
    if (ms <= 0) return this.#beginStop(0);
    this.#phase = 'handing-over';
    this.#host.after(ms, { t: 'hand-over-closed' });
  }

  #onSuccessorFailed(pid: number, reason: string): void {
    const upgrade = this.#endUpgrade(pid);
    if (!upgrade) return;
    this.#host.log(`upgrade failed: the new herd (pid ${pid}) ${reason}; this one serves on`, true);
    upgrade.reply?.({ ok: false, error: `upgrade failed: the new herd (pid ${pid}) ${reason}; the running herd serves on` });
  }

  #onSuccessorTimeout(pid: number): void {
    if (this.#upgrade?.pid !== pid) return;
    this.#host.abandonSuccessor(pid);
    this.#onSuccessorFailed(pid, `was not ready within ${(this.#settings.upgradeTimeoutMs ?? 0) / 1000} s and is stopped`);
  }

  // ── stop ────────────────────────────────────────────────────────────────────────────────────

  #beginStop(exitCode: number): void {
    this.#exitCode = Math.max(this.#exitCode, exitCode);
    if (this.#phase === 'stopping') return;
    const upgrade = this.#upgrade;
    if (upgrade) {
      this.#endUpgrade(upgrade.pid);
      this.#host.abandonSuccessor(upgrade.pid);
      this.#host.log(`upgrade abandoned: herd is stopping; the new herd (pid ${upgrade.pid}) is stopped`);
      upgrade.reply?.({ ok: false, error: 'upgrade abandoned: herd is stopping' });
    }
    this.#phase = 'stopping';
    this.#reload = undefined;
    this.#host.moment('stop-began');
    for (const slot of this.#slots) {
      slot?.cancelRespawn?.();
      if (slot) slot.cancelRespawn = undefined;
    }
    const n = this.#alive.size;
    // A failed start is told in one line, the worker's reason (run() rejects with it), not as a stop.
    if (!this.#startError) this.#host.log(`stop: draining ${n} worker${n === 1 ? '' : 's'} (grace ${this.#settings.graceMs / 1000} s)`);
    // Stop accepting first (handoff closes its listener), then let every worker drain.
    this.#host.stopAccepting();
    for (const [worker, t] of this.#alive) {
      // One that has served nothing yet (a reload's newcomer, a respawn) has nothing to finish.
      if (t.state === 'starting') worker.kill();
      else this.#drain(worker);
    }
    if (this.#alive.size === 0) this.#finish();
  }

  #forceStop(): void {
    this.#exitCode = Math.max(this.#exitCode, 1);
    for (const worker of this.#alive.keys()) worker.kill();
  }

  #finish(): void {
    this.#phase = 'stopped';
    this.#host.moment('stopped');
  }

  // ── workers ─────────────────────────────────────────────────────────────────────────────────

  #spawn(id: number): W {
    const worker = this.#host.spawn(id);
    const t: Tracked = { state: 'starting', generation: this.#generation, startedAt: this.#host.now(), readyAt: undefined, drainRequested: false, killedBecause: undefined, timers: new Map() };
    this.#alive.set(worker, t);
    if (this.#settings.startTimeoutMs > 0) {
      t.timers.set('start', this.#host.after(this.#settings.startTimeoutMs + START_TIMEOUT_GRACE_MS, { t: 'start-timeout', worker }));
    }
    return worker;
  }

  #drain(worker: W): void {
    const t = this.#alive.get(worker);
    if (!t || t.drainRequested) return;
    t.drainRequested = true;
    if (t.state !== 'unresponsive') t.state = 'draining';
    worker.drain();
    t.timers.set('drain', this.#host.after(this.#settings.graceMs, { t: 'drain-timeout', worker }));
  }

  #killFor(worker: W, t: Tracked, reason: { message: string; code: string }): void {
    t.killedBecause = reason;
    worker.kill();
  }

  #cancel(t: Tracked, timer: 'start' | 'drain' | 'unresponsive'): void {
    t.timers.get(timer)?.();
    t.timers.delete(timer);
  }

  /** A worker's own error is printed once, not once per death of every worker. */
  #reportFatalOnce(slot: number, message: string): void {
    if (this.#reportedFatals.has(message)) return;
    this.#reportedFatals.add(message);
    this.#host.log(`worker ${slot}: ${message}`);
  }
}

/** The worker's own reason for leaving, else the one we killed it for. */
function reasonOf(worker: PoolWorker, t: Tracked): { message: string; code: string } | undefined {
  return worker.fatal ?? t.killedBecause;
}
