// /livez and /readyz through a start, a rolling reload and a TERM with --shutdown-delay under load:
// a client that stops sending when readiness turns 503 (as a balancer does) loses no request.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { fixture, startHerd, type RunningHerd } from '../support/herd_process.ts';
import { sleep, waitFor } from '../support/http_client.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

interface Answer {
  status: number;
  body: string;
  connection: string | undefined;
}

function get(url: string, agent?: http.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: agent ?? false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Polls a readiness URL every 25 ms, remembering every distinct answer in order. */
function pollReadiness(url: string) {
  const seen: string[] = [];
  let running = true;
  let latest = '';
  const loop = (async () => {
    while (running) {
      let answer: string;
      try {
        const r = await get(url);
        answer = `${r.status} ${r.body.trim()}`;
      } catch (err) {
        answer = `error ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      }
      if (answer !== latest) seen.push(answer);
      latest = answer;
      await sleep(25);
    }
  })();
  return {
    seen,
    latest: () => latest,
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** Keep-alive clients that send until told to stop (the balancer took this host out). */
function keepAliveLoad(url: string, concurrency: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const result = { ok: 0, failed: 0, errors: [] as string[], closeHeaders: 0 };
  let sending = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (sending) {
      try {
        const r = await get(url, agent);
        if (r.status === 200) result.ok++;
        else {
          result.failed++;
          result.errors.push(`status ${r.status}`);
        }
        if (r.connection === 'close') result.closeHeaders++;
      } catch (err) {
        result.failed++;
        result.errors.push((err as Error).message);
      }
    }
  });
  return {
    result,
    async stop() {
      sending = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}

async function healthUrl(herd: RunningHerd): Promise<string> {
  await waitFor('the health line', () => /health on (http:\/\/\S+)/.test(herd.output()));
  return /health on (http:\/\/\S+) /.exec(herd.output())![1];
}

for (const dispatch of ['shared', 'handoff', 'reuseport'] as const) {
  test(`${dispatch}: /readyz is 503 while starting, 200 through a reload, 503 from TERM; --shutdown-delay loses nothing`, async (t) => {
    const healthPort = await freePort();
    const probe = pollReadiness(`http://127.0.0.1:${healthPort}/readyz`);
    t.after(() => probe.stop());
    const herd = await startHerd(t, [fixture('slow_start.js'), '--workers', '2', '--dispatch', dispatch, '--health', `127.0.0.1:${healthPort}`, '--shutdown-delay', '1.5', '--grace', '5'], {
      env: { ...process.env, SLOW_START_MS: '1000' },
    });
    const base = await healthUrl(herd);
    assert.equal(base, `http://127.0.0.1:${healthPort}`);
    await waitFor('readiness 200', () => probe.latest().startsWith('200'));
    // Before the workers were ready the probe saw 'starting' (possibly after refused connects).
    const beforeReady = probe.seen.slice(0, probe.seen.findIndex((s) => s.startsWith('200')));
    assert.ok(beforeReady.includes('503 starting'), `seen before ready: ${probe.seen.join(' | ')}`);
    assert.equal(beforeReady.filter((s) => !s.startsWith('error') && s !== '503 starting').length, 0, probe.seen.join(' | '));
    assert.deepEqual(await get(`${base}/livez`), { status: 200, body: 'live\n', connection: 'close' });
    assert.equal((await get(`${base}/nothing`)).status, 404);

    // A rolling reload keeps at least one worker ready: readiness never flickers.
    const sinceReload = probe.seen.length;
    herd.child.kill('SIGHUP');
    await waitFor('the reload to finish', () => /reload: done/.test(herd.output()), 30_000);
    await sleep(100);
    assert.deepEqual(probe.seen.slice(sinceReload), [], `readiness changed during the reload: ${probe.seen.slice(sinceReload).join(' | ')}`);

    // TERM under keep-alive load: the client stops sending when it sees 503, as a balancer does.
    const load = keepAliveLoad(herd.url, 4);
    await waitFor('the load to run', () => load.result.ok >= 20, 20_000);
    const termAt = Date.now();
    herd.child.kill('SIGTERM');
    await waitFor('readiness 503', () => probe.latest() === '503 stopping', 5000);
    const noticedMs = Date.now() - termAt;
    const result = await load.stop();
    // A straggler the balancer still routes here inside the window is served, and told to reconnect.
    const late = await get(herd.url);
    assert.equal(late.status, 200);
    assert.equal(late.connection, 'close');
    assert.equal((await get(`${base}/livez`)).status, 200, 'livez answers while stopping');
    assert.equal(await herd.exited, 0);
    const exitedMs = Date.now() - termAt;
    assert.ok(result.ok > 20, `load ran (${result.ok} requests)`);
    assert.equal(result.failed, 0, result.errors.slice(0, 5).join('; '));
    assert.ok(exitedMs >= 1500, `herd served the whole --shutdown-delay (exited after ${exitedMs} ms)`);
    assert.match(herd.output(), /serving 1\.5 s more \(--shutdown-delay\) before draining/);
    t.diagnostic(`${dispatch}: ${result.ok} ok, 0 failed; readiness 503 seen ${noticedMs} ms after TERM; ${result.closeHeaders} responses carried Connection: close; exit ${exitedMs} ms after TERM`);
  });
}

test('--health-path on the main port: answered by the workers, on the fast engine and for an APP\'s own server', async (t) => {
  const fast = await startHerd(t, ['--workers', '1', '--health-path', '/healthz', '--shutdown-delay', '1']);
  assert.deepEqual(await get(`${fast.url}/healthz`), { status: 200, body: 'ready: 1 worker\n', connection: 'close' });
  assert.equal((await get(`${fast.url}/`)).body, 'Hello, World!');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  assert.equal((await get(`${fast.url}/`, agent)).connection, 'keep-alive');
  fast.child.kill('SIGTERM');
  await waitFor('the shutdown delay', () => /--shutdown-delay/.test(fast.output()));
  await sleep(100);
  const stopping = await get(`${fast.url}/healthz`);
  assert.deepEqual([stopping.status, stopping.body], [503, 'stopping\n']);
  // The open keep-alive connection is still served, and told to close.
  const last = await get(`${fast.url}/`, agent);
  assert.deepEqual([last.status, last.connection], [200, 'close']);
  assert.equal(await fast.exited, 0);

  const express = await startHerd(t, [fixture('express_listen.js'), '--workers', '1', '--health-path', '/healthz']);
  assert.deepEqual(await get(`${express.url}/healthz`), { status: 200, body: 'ready: 1 worker\n', connection: 'close' });
  assert.match((await get(`${express.url}/`)).body, /"framework":"express"/);
});

test('--health and --health-path refuse bad values in one line', async () => {
  const { runHerd } = await import('../support/herd_process.ts');
  for (const [args, pattern] of [
    [['--health', 'nowhere'], /^herd: --health must be HOST:PORT or PORT, not 'nowhere'$/m],
    [['--health-path', 'healthz'], /^herd: --health-path must be a path starting with \//m],
    [['--shutdown-delay', 'soon'], /^herd: --shutdown-delay must be a number of seconds/m],
  ] as const) {
    const r = await runHerd(['serve', ...args]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, pattern);
  }
});
