// The other end of the control socket, for `herd status|reload|stop|reopen`.
import net from 'node:net';
import { HerdError } from '../errors.ts';
import type { ControlCommand, ControlReply } from './control_protocol.ts';

export function sendControl(path: string, command: ControlCommand, timeoutMs = 10_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let input = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new HerdError(`herd at ${path} did not answer within ${timeoutMs / 1000} s`, 'ETIMEDOUT'));
    });
    socket.once('connect', () => socket.write(JSON.stringify({ command }) + '\n'));
    socket.on('data', (chunk: string) => (input += chunk));
    socket.once('end', () => {
      try {
        resolve(JSON.parse(input) as ControlReply);
      } catch {
        reject(new HerdError(`herd at ${path} sent an unreadable reply`, 'EBADREPLY'));
      }
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        reject(new HerdError(`no herd is running with control socket ${path} (is herd serve running? pass --control or --port)`, 'ENOHERD'));
      } else {
        reject(new HerdError(`cannot reach herd at ${path}: ${err.message}`, err.code ?? 'ECONTROL'));
      }
    });
  });
}
