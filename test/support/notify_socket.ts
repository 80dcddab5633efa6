// A datagram socket standing in for systemd's NOTIFY_SOCKET: a small python3 receiver (Node cannot
// bind AF_UNIX SOCK_DGRAM) that prints each datagram as one JSON line, with the sender's pid from
// SCM_CREDENTIALS. Skips (returns a reason) when python3 or systemd-notify is missing.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from './herd_process.ts';

const RECEIVER = String.raw`
import json, socket, struct, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
sock.bind(sys.argv[1])
print(json.dumps({"bound": True}), flush=True)
while True:
    data, anc, flags, addr = sock.recvmsg(65536, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    print(json.dumps({"pid": pid, "text": data.decode("utf-8", "replace")}), flush=True)
`;

export interface Notification {
  pid: number | null;
  /** NAME=VALUE assignments of one datagram. */
  fields: Record<string, string>;
}

export function notifySkipReason(): string | null {
  if (spawnSync('python3', ['-c', 'import socket; socket.SO_PASSCRED'], { stdio: 'ignore' }).status !== 0) return 'python3 (the NOTIFY_SOCKET stand-in) is not installed';
  if (!fs.existsSync('/usr/bin/systemd-notify')) return '/usr/bin/systemd-notify (Debian package systemd) is not installed';
  return null;
}

export async function notifySocket(t: TestContext): Promise<{ path: string; messages: Notification[] }> {
  const socketPath = path.join(tempDir(t), 'notify.sock');
  const child = spawn('python3', ['-c', RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const messages: Notification[] = [];
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`notify receiver exited (${code})`)));
    child.stdout.on('data', (d) => {
      buffer += d;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (line.bound) resolve();
        // systemd-notify follows each message with sd_notify_barrier's BARRIER=1 (it waits for it to be read).
        else if (line.text !== 'BARRIER=1') messages.push({ pid: line.pid, fields: Object.fromEntries((line.text as string).split('\n').filter(Boolean).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)])) });
      }
    });
  });
  return { path: socketPath, messages };
}
