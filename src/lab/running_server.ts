// Starts one model of the matrix as a real server on the lab's port, knows how to read its workers'
// counters, and stops it with everything it started.
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HerdError } from '../errors.ts';
import { siblingModule } from '../source_module.ts';
import { sendControl } from '../supervisor/control_client.ts';
import type { ServerModel } from './models.ts';
import { findNginx, prepareNginx } from './nginx_config.ts';
import { spawnGroup, stopGroup } from './process_group.ts';
import { requestsFromStatus, workerCpuSnapshot, type ShareSource, type WorkerCounters } from './worker_share.ts';

export const HERD_CLI = fileURLToPath(siblingModule('../cli/herd', import.meta.url));
const serverScript = (name: string) => fileURLToPath(siblingModule(`./servers/${name}`, import.meta.url));

export interface ServerPlace {
  host: string;
  port: number;
  /** A private temporary directory for control sockets and configs. */
  workDir: string;
  /** pool only: the APP herd serve runs (default: its built-in hello). */
  app?: string;
}

export interface RunningServer {
  model: ServerModel;
  /** Root of the server's process tree: every CPU and context-switch figure sums over it. */
  pid: number;
  url: string;
  /** Per-worker counters now (null for one-process models). */
  workerCounters(): Promise<{ source: ShareSource; counters: WorkerCounters } | null>;
  stop(): Promise<void>;
}

/** Starting node workers on 2 busy cores takes long: 16 of them took 9 s with the load average at 12. */
const READY_TIMEOUT_MS = 20_000;
const READY_TIMEOUT_PER_WORKER_MS = 2_000;

function command(model: ServerModel, place: ServerPlace): { file: string; args: string[]; control: string | null } {
  const where = ['--port', String(place.port), '--host', place.host];
  switch (model.kind) {
    case 'serial':
      return { file: process.execPath, args: [serverScript('serial_server'), ...where], control: null };
    case 'single':
      return { file: process.execPath, args: [serverScript('single_server'), ...where, '--engine', model.engine!], control: null };
    case 'pool': {
      const control = path.join(place.workDir, `${model.id}.sock`);
      const args = [HERD_CLI, 'serve', ...where, '--workers', String(model.workers), '--dispatch', model.dispatch!, '--engine', model.engine!, '--control', control, '--grace', '1'];
      // The crash measurements serve the lab's crash app instead of the built-in hello.
      if (place.app) args.push(place.app);
      return { file: process.execPath, args, control };
    }
    case 'cluster-rr':
    case 'cluster-none': {
      const policy = model.kind === 'cluster-rr' ? 'rr' : 'none';
      return { file: process.execPath, args: [serverScript('cluster_peer'), ...where, '--workers', String(model.workers), '--policy', policy], control: null };
    }
    case 'nginx':
    case 'nginx-accept-mutex':
    case 'nginx-reuseport': {
      const nginx = findNginx();
      if (!nginx) throw new HerdError('nginx is not installed (apt-get install nginx-light)', 'ENONGINX');
      const accept = model.kind === 'nginx' ? 'exclusive' : model.kind === 'nginx-accept-mutex' ? 'mutex' : 'reuseport';
      return { file: nginx, args: prepareNginx(path.join(place.workDir, model.id), place.host, place.port, model.workers, accept), control: null };
    }
    case 'threads':
      return { file: process.execPath, args: [serverScript('threads_server'), ...where, '--threads', String(model.workers)], control: null };
  }
}

/** Output of a starting server, kept short: the last lines say why it failed. */
function tail(child: ChildProcess): { lines: string[]; sawUrl: Promise<void> } {
  const lines: string[] = [];
  let resolveUrl!: () => void;
  const sawUrl = new Promise<void>((resolve) => (resolveUrl = resolve));
  const take = (data: Buffer) => {
    for (const line of data.toString().split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > 20) lines.shift();
      if (line.includes('http://')) resolveUrl();
    }
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  return { lines, sawUrl };
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntilServing(child: ChildProcess, model: ServerModel, place: ServerPlace, sawUrl: Promise<void>, lines: string[]): Promise<void> {
  const timeoutMs = READY_TIMEOUT_MS + model.workers * READY_TIMEOUT_PER_WORKER_MS;
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  // nginx prints nothing when it is up; the others print their URL once every worker listens.
  let urlSeen = model.kind === 'nginx' || model.kind === 'nginx-accept-mutex' || model.kind === 'nginx-reuseport';
  void sawUrl.then(() => (urlSeen = true));
  for (;;) {
    if (exited) {
      const why = lines.length > 0 ? lines[lines.length - 1] : `exit code ${child.exitCode ?? child.signalCode}`;
      throw new HerdError(`${model.id} did not start: ${why}`, 'ELABSERVER');
    }
    if (urlSeen && (await accepts(place.host, place.port))) return;
    if (Date.now() > deadline) throw new HerdError(`${model.id} did not start serving within ${timeoutMs / 1000} s`, 'ELABSERVER');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startServer(model: ServerModel, place: ServerPlace): Promise<RunningServer> {
  const { file, args, control } = command(model, place);
  const child = spawnGroup(file, args);
  const { lines, sawUrl } = tail(child);
  try {
    await waitUntilServing(child, model, place, sawUrl, lines);
  } catch (err) {
    await stopGroup(child, 500);
    throw err;
  }
  const pid = child.pid!;
  return {
    model,
    pid,
    url: `http://${place.host}:${place.port}/`,
    async workerCounters() {
      if (model.workers < 2) return null;
      if (control) {
        try {
          const reply = await sendControl(control, 'status', 5000);
          if (reply.ok && 'status' in reply) return { source: 'requests', counters: requestsFromStatus(reply.status) };
        } catch {
          // fall back to CPU time below
        }
      }
      return { source: 'cpu', counters: workerCpuSnapshot(pid) };
    },
    stop: () => stopGroup(child, 5000),
  };
}
