// The supervisor's control socket (a unix socket): `herd status|reload|stop|reopen` connect here.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HerdError } from '../errors.ts';
import { ensurePrivateDir, runtimeDirPath } from './runtime_dir.ts';
import { CONTROL_COMMANDS, type ControlReply, type ControlRequest } from './control_protocol.ts';

export type ControlHandler = (request: ControlRequest) => Promise<ControlReply>;

/** Whoever can connect can stop or reload herd: the socket is 0600, and by default in the private runtime directory. */
export async function openControlServer(socketPath: string, handle: ControlHandler): Promise<net.Server> {
  if (path.dirname(socketPath) === runtimeDirPath()) ensurePrivateDir(path.dirname(socketPath));
  await refuseLiveSocket(socketPath);
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
    server.listen(socketPath, resolve);
  });
  fs.chmodSync(socketPath, 0o600);
  return server;
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
