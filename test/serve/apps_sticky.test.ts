// --handoff sticky: handoff picks the worker by client address, so socket.io's polling sessions
// (each request a new HTTP exchange, often a new connection) stay on the worker that holds them.
// Clients from 127.0.0.2-127.0.0.9, two workers: both hold sessions, no session breaks.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import { fixture, startHerd } from '../support/herd_process.ts';

/** Whether this machine routes 127.0.0.2 (Linux does: all of 127/8 is loopback). */
function loopbackAliasesWork(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer((s) => s.end()).listen(0, '127.0.0.1', () => {
      const socket = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      socket.once('connect', () => (socket.destroy(), server.close(), resolve(true)));
      socket.once('error', () => (server.close(), resolve(false)));
    });
  });
}

async function session(url: string, localAddress: string, rounds: number): Promise<number[]> {
  const agent = new http.Agent({ localAddress });
  const socket: Socket = io(url, { transports: ['polling'], agent: agent as never, reconnection: false, forceNew: true });
  const broke: string[] = [];
  socket.on('connect_error', (err) => broke.push(`connect_error: ${err.message}`));
  socket.on('disconnect', (reason) => broke.push(`disconnect: ${reason}`));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const pids: number[] = [];
    for (let i = 0; i < rounds; i++) {
      pids.push(await socket.timeout(5000).emitWithAck('whoami'));
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(broke, [], `session from ${localAddress} broke`);
    return pids;
  } finally {
    socket.removeAllListeners('disconnect');
    socket.close();
    agent.destroy();
  }
}

test('socket.io polling with 2 workers under --handoff sticky: both workers hold sessions, none breaks', async (t) => {
  if (!(await loopbackAliasesWork())) return t.skip('127.0.0.2 is not a usable loopback address here');
  const herd = await startHerd(t, [fixture('socketio_app.js'), '--workers', '2', '--dispatch', 'handoff', '--handoff', 'sticky']);
  const clients = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
  const results = await Promise.all(clients.map((address) => session(herd.url, address, 6)));
  const holders = new Set<number>();
  for (const [i, pids] of results.entries()) {
    assert.equal(new Set(pids).size, 1, `the session from ${clients[i]} stayed on one worker: ${pids}`);
    holders.add(pids[0]);
  }
  assert.equal(holders.size, 2, 'both workers held sessions');
});
