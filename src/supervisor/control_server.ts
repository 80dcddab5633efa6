// The supervisor's control socket (a unix socket): `herd status|reload|stop|reopen` connect here.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HerdError } from '../errors.ts';
import { ensurePrivateDir, runtimeDirPath } from './runtime_dir.ts';
import { CONTROL_COMMANDS, type ControlReply, type ControlRequest } from './control_protocol.ts';

export type ControlHandler = (request: ControlRequest) => Promise<ControlReply>;

export interface ControlSocket {
  readonly server: net.Server;
  /** Puts the socket at its path (atomically, over an upgrade's predecessor's). */
  claimPath(): void;
}

/**
 * Whoever can connect can stop or reload herd: the socket is 0600, and by default in the private runtime directory.
 *
 * It is bound at a name of this process's own beside the path, then renamed to the path: closing
 * a unix socket server unlinks the name it was bound at (libuv does), and after an upgrade the
 * path is the new herd's. So the close unlinks nothing of anyone's, and the path is removed only by
 * the herd that owns it when it leaves (supervisor.ts). `claim`: the path is taken now; an
 * upgrade's new herd takes it later, with claimPath(), when the old one hands over.
 */
export async function openControlServer(socketPath: string, handle: ControlHandler, claim = true): Promise<ControlSocket> {
  if (path.dirname(socketPath) === runtimeDirPath()) ensurePrivateDir(path.dirname(socketPath));
  if (claim) await refuseLiveSocket(socketPath);
  const boundAt = `${socketPath}.${process.pid}`;
  fs.rmSync(boundAt, { force: true }); // left by a killed herd whose pid this one has now
  const server = net.createServer((socket) => {
    let input = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      input += chunk;
      if (input.length > 4096) return void socket.destroy();
      const newline = input.indexOf('\n');
      if (newline < 0) return;
      void answer(input.slice(0, newline)).then((reply) => socket.end(JSON.stringify(reply) + '\n'));
    });
  });
  const answer = async (line: string): Promise<ControlReply> => {
    let request: ControlRequest;
    try {
      request = JSON.parse(line) as ControlRequest;
    } catch {
      return { ok: false, error: 'control request is not JSON' };
    }
    if (!CONTROL_COMMANDS.includes(request.command)) return { ok: false, error: `unknown control command '${request.command}'` };
    return handle(request);
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new HerdError(`cannot create the control socket ${socketPath}: ${err.message}`, err.code ?? 'ECONTROL')));
    server.listen(boundAt, resolve);
  });
  fs.chmodSync(boundAt, 0o600);
  const claimPath = () => fs.renameSync(boundAt, socketPath);
  if (claim) claimPath();
  return { server, claimPath };
}

/** A socket file left by a herd that died is removed; one a live herd answers on is an error. */
async function refuseLiveSocket(path: string): Promise<void> {
  if (!fs.existsSync(path)) return;
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) {
    throw new HerdError(`another herd is running with control socket ${path}; stop it (herd stop --control ${path}) or pass another --control`, 'ECONTROLBUSY');
  }
  fs.rmSync(path, { force: true });
}
