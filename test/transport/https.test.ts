// HTTPS on both engines in every dispatch mode (handoff passes raw TCP; the handshake happens in
// the worker), keep-alive over TLS, the minimum version, and every bad certificate input.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { test } from 'node:test';
import { runHerd, startHerd, tempDir } from '../support/herd_process.ts';
import { makeCertificate, makeChain, opensslMissing } from './certificates.ts';
import { httpsGet } from './https_client.ts';

const skip = opensslMissing() ?? false;
const whoami = path.join(import.meta.dirname, 'fixtures/whoami.js');

for (const engine of ['fast', 'node'] as const) {
  for (const dispatch of ['reuseport', 'shared', 'handoff'] as const) {
    test(`HTTPS on the ${engine} engine with ${dispatch} dispatch: verified certificate, both workers, keep-alive`, { skip }, async (t) => {
      const cert = makeCertificate(tempDir(t), 'server');
      const app = engine === 'fast' ? [] : [whoami];
      const herd = await startHerd(t, [...app, '--engine', engine, '--workers', '2', '--dispatch', dispatch, '--tls-cert', cert.cert, '--tls-key', cert.key]);
      assert.match(herd.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const first = await httpsGet(herd.url, cert.pem, '/x?y=1');
      assert.equal(first.status, 200);
      assert.equal(first.fingerprint, cert.fingerprint);
      if (engine === 'fast') assert.equal(first.body, 'Hello, World!');
      else assert.deepEqual({ ...JSON.parse(first.body), pid: 0, remotePort: 0 }, { pid: 0, remotePort: 0, remote: '127.0.0.1', httpVersion: '1.1', method: 'GET', url: '/x?y=1', body: '' });
      // Keep-alive: several requests on one TLS connection.
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      t.after(() => agent.destroy());
      const sockets = new Set<unknown>();
      agent.on('free', (socket) => sockets.add(socket));
      for (let i = 0; i < 5; i++) assert.equal((await httpsGet(herd.url, cert.pem, '/', { agent, method: 'POST', body: 'abc' })).status, 200);
      assert.equal(sockets.size, 1, 'five requests on one connection');
      if (engine === 'node') {
        // Both workers answer (the dispatch spreads connections, the handshake is per worker).
        const pids = new Set<number>();
        for (let i = 0; i < 40 && pids.size < 2; i++) pids.add(JSON.parse((await httpsGet(herd.url, cert.pem)).body).pid);
        assert.equal(pids.size, 2);
      }
    });
  }
}

for (const engine of ['fast', 'node'] as const) {
  test(`a cleartext request on the https port gets no HTTP answer, and the server serves on (${engine} engine)`, { skip }, async (t) => {
  const cert = makeCertificate(tempDir(t), 'server');
  const herd = await startHerd(t, ['--engine', engine, '--workers', '1', '--tls-cert', cert.cert, '--tls-key', cert.key]);
  const answer = await new Promise<string>((resolve) => {
    const socket = net.connect(herd.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    let got = '';
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(got));
  });
  assert.doesNotMatch(answer, /^HTTP\//);
  assert.equal((await httpsGet(herd.url, cert.pem)).status, 200);
  });
}

test('--tls-min-version TLSv1.3 refuses a TLS 1.2 client; the default accepts it', { skip }, async (t) => {
  const cert = makeCertificate(tempDir(t), 'server');
  const strict = await startHerd(t, ['--workers', '1', '--tls-cert', cert.cert, '--tls-key', cert.key, '--tls-min-version', 'TLSv1.3']);
  await assert.rejects(httpsGet(strict.url, cert.pem, '/', { maxVersion: 'TLSv1.2' }), /protocol version|alert/i);
  assert.equal((await httpsGet(strict.url, cert.pem)).status, 200);
  const lenient = await startHerd(t, ['--workers', '1', '--engine', 'node', '--tls-cert', cert.cert, '--tls-key', cert.key]);
  assert.equal((await httpsGet(lenient.url, cert.pem, '/', { maxVersion: 'TLSv1.2' })).status, 200);
});

test('bad certificate inputs: one clear line and a non-zero exit, before any worker starts', { skip }, async (t) => {
  const dir = tempDir(t);
  const a = makeCertificate(dir, 'a');
  const b = makeCertificate(dir, 'b');
  const notPem = path.join(dir, 'not.pem');
  fs.writeFileSync(notPem, 'hello\n');
  const cases: [string[], number, RegExp][] = [
    [['--tls-cert', path.join(dir, 'missing.crt'), '--tls-key', a.key], 1, /--tls-cert .*missing\.crt does not exist/],
    [['--tls-cert', a.cert, '--tls-key', path.join(dir, 'missing.key')], 1, /--tls-key .*missing\.key does not exist/],
    [['--tls-cert', a.cert, '--tls-key', b.key], 1, /--tls-key .*b\.key is not the key of the certificate in --tls-cert .*a\.crt/],
    [['--tls-cert', notPem, '--tls-key', a.key], 1, /--tls-cert .*not\.pem holds no PEM certificate/],
    [['--tls-cert', a.cert, '--tls-key', notPem], 1, /--tls-key .*not\.pem holds no PEM private key/],
    [['--tls-cert', dir, '--tls-key', a.key], 1, /--tls-cert .* is a directory/],
    [['--tls-cert', a.cert, '--tls-key', a.key, '--tls-ca', notPem], 1, /--tls-ca .*not\.pem holds no PEM certificate/],
    [['--tls-cert', a.cert], 2, /--tls-cert needs --tls-key/],
    [['--tls-key', a.key], 2, /--tls-key needs --tls-cert/],
    [['--tls-ca', a.cert], 2, /--tls-ca needs --tls-cert FILE and --tls-key FILE/],
    [['--no-tls-tickets'], 2, /--no-tls-tickets needs --tls-cert FILE and --tls-key FILE/],
    [['--tls-cert', a.cert, '--tls-key', a.key, '--tls-min-version', 'SSLv3'], 2, /--tls-min-version must be TLSv1\.2 or TLSv1\.3/],
    [['--http2', '--engine', 'node'], 2, /--http2 needs --tls-cert and --tls-key/],
    [['--http2', '--tls-cert', a.cert, '--tls-key', a.key, '--engine', 'fast'], 2, /--http2 runs on node:http2: add --engine node/],
    [['--redirect-http', '8081'], 2, /--redirect-http needs --tls-cert/],
  ];
  if (process.getuid?.() !== 0) {
    const unreadable = path.join(dir, 'unreadable.key');
    fs.copyFileSync(a.key, unreadable);
    fs.chmodSync(unreadable, 0o000);
    cases.push([['--tls-cert', a.cert, '--tls-key', unreadable], 1, /--tls-key .*unreadable\.key cannot be read \(permission denied\)/]);
  }
  // Four at a time: each is a node process starting up, on a machine the rest of the suite shares.
  const queue = [...cases];
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) await check(next);
  }));
  async function check([flags, code, line]: [string[], number, RegExp]): Promise<void> {
    const r = await runHerd(['serve', '--port', '0', '--control', path.join(dir, `c${Math.random()}.sock`), ...flags], 60_000);
    assert.equal(r.code, code, `${flags.join(' ')}: exit ${r.code}, output ${r.stdout}${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line for ${flags.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], line);
    assert.doesNotMatch(r.stdout + r.stderr, /worker \d+ .*started/);
  }
});

for (const [engine, extra] of [['fast', []], ['node', []], ['fast', ['--proxy-protocol']], ['node', ['--proxy-protocol']]] as const) {
  test(`a client that connects and never finishes its ${extra.length ? 'PROXY header' : 'handshake'} is closed after --headers-timeout (${engine} engine)`, { skip }, async (t) => {
    const cert = makeCertificate(tempDir(t), 'server');
    const herd = await startHerd(t, ['--engine', engine, '--workers', '1', '--headers-timeout', '1', '--tls-cert', cert.cert, '--tls-key', cert.key, ...extra]);
    const closed = await new Promise<boolean>((resolve) => {
      const socket = net.connect(herd.port, '127.0.0.1', () => socket.write(extra.length ? 'PROXY TCP4 1.2.3.4' : Buffer.from([0x16, 0x03, 0x01])));
      const timer = setTimeout(() => resolve(false), 8000);
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    assert.ok(closed, 'closed by the server');
  });
}

for (const engine of ['fast', 'node'] as const) {
  test(`requests pipelined in separate TLS records of one segment are all answered, in order (${engine} engine)`, { skip }, async (t) => {
    const cert = makeCertificate(tempDir(t), 'server');
    const herd = await startHerd(t, ['--engine', engine, '--workers', '1', '--tls-cert', cert.cert, '--tls-key', cert.key, ...(engine === 'node' ? [whoami] : [])]);
    const socket = tls.connect({ port: herd.port, host: '127.0.0.1', ca: cert.pem });
    t.after(() => socket.destroy());
    await once(socket, 'secureConnect', { signal: AbortSignal.timeout(10_000) });
    // Records of 512 bytes (the least a client may ask for), each request padded to fill one: one
    // write, so one TCP segment of 8 records, each a request the server answers in the same turn.
    assert.equal(socket.setMaxSendFragment(512), true);
    const request = (k: number) => {
      const head = `GET /${k} HTTP/1.1\r\nHost: x\r\nX-Pad: `;
      return head + 'p'.repeat(512 - head.length - 4) + '\r\n\r\n';
    };
    socket.write(Array.from({ length: 8 }, (_, k) => request(k)).join(''));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const deadline = Date.now() + 10_000;
    while ((got.match(/HTTP\/1\.1 200/g) ?? []).length < 8 && Date.now() < deadline && !socket.destroyed) await new Promise((r) => setTimeout(r, 20));
    assert.equal((got.match(/HTTP\/1\.1 200/g) ?? []).length, 8, `8 answers, got: ${got.slice(0, 200)}`);
    if (engine === 'node') assert.deepEqual([...got.matchAll(/"url":"(\/\d)"/g)].map((m) => m[1]), ['/0', '/1', '/2', '/3', '/4', '/5', '/6', '/7']);
  });
}

/** Connects twice, the second time with the first connection's session: was it resumed? */
async function resumes(port: number, ca: Buffer): Promise<boolean> {
  const connect = (session?: Buffer) =>
    new Promise<{ session: Buffer | null; reused: boolean }>((resolve, reject) => {
      const socket = tls.connect({ port, host: '127.0.0.1', ca, session });
      let ticket: Buffer | null = null;
      let reused = false;
      socket.on('session', (s: Buffer) => (ticket = s));
      socket.once('secureConnect', () => {
        reused = socket.isSessionReused();
        socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      socket.on('data', () => {});
      socket.once('error', reject);
      socket.once('close', () => resolve({ session: ticket, reused }));
      socket.setTimeout(8000, () => socket.destroy(new Error('timeout')));
    });
  const first = await connect();
  assert.equal(first.reused, false);
  return (await connect(first.session ?? undefined)).reused;
}

for (const engine of ['fast', 'node'] as const) {
  test(`session tickets resume a session by default; with --no-tls-tickets every connection is a full handshake (${engine} engine)`, { skip }, async (t) => {
    const cert = makeCertificate(tempDir(t), 'server');
    const flags = ['--engine', engine, '--workers', '1', '--tls-cert', cert.cert, '--tls-key', cert.key];
    const [withTickets, without] = await Promise.all([startHerd(t, flags), startHerd(t, [...flags, '--no-tls-tickets'])]);
    assert.equal(await resumes(withTickets.port, cert.pem), true, 'resumed from a ticket');
    assert.equal(await resumes(without.port, cert.pem), false, 'no ticket, no resumption');
  });

  test(`a TLS 1.2 client that asks to renegotiate is refused, as by nginx, and the server serves on (${engine} engine)`, { skip }, async (t) => {
    const cert = makeCertificate(tempDir(t), 'server');
    const herd = await startHerd(t, ['--engine', engine, '--workers', '1', '--tls-cert', cert.cert, '--tls-key', cert.key]);
    const refusal = await new Promise<string>((resolve) => {
      const socket = tls.connect({ port: herd.port, host: '127.0.0.1', ca: cert.pem, maxVersion: 'TLSv1.2' }, () => {
        socket.renegotiate({}, (err) => resolve(err ? err.message : 'renegotiated'));
      });
      const timer = setTimeout(() => resolve('no answer'), 8000);
      socket.on('error', (err) => resolve(err.message));
      socket.on('close', () => clearTimeout(timer));
    });
    assert.match(refusal, /no renegotiation/i);
    assert.equal((await httpsGet(herd.url, cert.pem)).status, 200);
  });

  test(`--tls-ca sends the intermediate after the certificate: a client that trusts only the root verifies it (${engine} engine)`, { skip }, async (t) => {
    const chain = makeChain(tempDir(t));
    const bare = await startHerd(t, ['--engine', engine, '--workers', '1', '--tls-cert', chain.leaf.cert, '--tls-key', chain.leaf.key]);
    await assert.rejects(httpsGet(bare.url, chain.root), /unable to (get|verify)/i);
    const chained = await startHerd(t, ['--engine', engine, '--workers', '1', '--tls-cert', chain.leaf.cert, '--tls-key', chain.leaf.key, '--tls-ca', chain.intermediate]);
    const reply = await httpsGet(chained.url, chain.root);
    assert.equal(reply.status, 200);
    assert.equal(reply.fingerprint, chain.leaf.fingerprint);
  });
}
