// --metrics against real processes: a scrape counts what a client sent, across a rolling reload and a
// worker's kill -9 (once it has had its report interval), in every dispatch mode; a stopped worker
// does not hold a scrape up, it shows as not up.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { fixture, startHerd, status } from '../support/herd_process.ts';
import { request, waitFor } from '../support/http_client.ts';

const REPORT_WAIT_MS = 1500; // workers report every second

function scrape(url: string, accept = '*/*'): Promise<{ status: number; type: string; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { accept }, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body, ms: performance.now() - started }));
    }).on('error', reject).on('timeout', function (this: http.ClientRequest) {
      this.destroy(new Error('scrape timed out'));
    });
  });
}

function sample(body: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : 0;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const dispatch of ['reuseport', 'shared', 'handoff'] as const) {
  test(`${dispatch}: counts survive a reload and a kill -9; a stopped worker is not up`, { timeout: 90_000 }, async (t) => {
    const herd = await startHerd(t, [fixture('statuses.js'), '--workers', '2', '--dispatch', dispatch, '--metrics', '127.0.0.1:0', '--grace', '2']);
    const metricsUrl = /metrics on (http:\/\/\S+\/metrics)/.exec(herd.output())![1];
    const get = (path: string) => request(herd.url, path);
    const counts = async () => {
      const { body } = await scrape(metricsUrl);
      return {
        ok: sample(body, 'herd_http_requests_total{code="2xx",method="GET"}'),
        missing: sample(body, 'herd_http_requests_total{code="4xx",method="GET"}'),
        body,
      };
    };

    for (let i = 0; i < 20; i++) await get('/');
    for (let i = 0; i < 5; i++) await get('/status/404');
    await pause(REPORT_WAIT_MS);
    let c = await counts();
    assert.equal(c.ok, 20, c.body);
    assert.equal(c.missing, 5);

    assert.equal((await herd.command('reload')).code, 0);
    await waitFor('the reload to finish', async () => /reload: done/.test(herd.output()), 30_000);
    for (let i = 0; i < 10; i++) await get('/');
    await pause(REPORT_WAIT_MS);
    c = await counts();
    assert.equal(c.ok, 30, 'counts survive the reload');
    assert.equal(sample(c.body, 'herd_reloads_total'), 1);

    const victim = (await status(herd)).workers[0];
    process.kill(victim.pid, 'SIGKILL');
    await waitFor('the respawn', async () => (await status(herd)).workers.every((w) => w.pid !== victim.pid && w.state === 'ready'), 30_000);
    for (let i = 0; i < 4; i++) await get('/');
    await pause(REPORT_WAIT_MS);
    c = await counts();
    assert.equal(c.ok, 34, 'what the killed worker reported is kept');
    assert.equal(sample(c.body, `herd_worker_restarts_total{worker="${victim.id}"}`), 1);
    assert.equal(sample(c.body, 'herd_connections_accepted_total'), 39);

    const stopped = (await status(herd)).workers[1];
    process.kill(stopped.pid, 'SIGSTOP');
    t.after(() => {
      try {
        process.kill(stopped.pid, 'SIGCONT');
      } catch {
        // gone
      }
    });
    await pause(3500);
    const r = await scrape(metricsUrl);
    assert.equal(r.status, 200);
    assert.ok(r.ms < 2000, `the scrape waited ${r.ms} ms on a stopped worker`);
    assert.equal(sample(r.body, `herd_worker_up{worker="${stopped.id}",pid="${stopped.pid}"}`), 0, r.body);
    process.kill(stopped.pid, 'SIGCONT');
  });
}

test('OpenMetrics on Accept; 404 off /metrics', { timeout: 30_000 }, async (t) => {
  const herd = await startHerd(t, ['--workers', '1', '--metrics', '127.0.0.1:0']);
  const metricsUrl = /metrics on (http:\/\/\S+\/metrics)/.exec(herd.output())![1];
  const open = await scrape(metricsUrl, 'application/openmetrics-text; version=1.0.0,text/plain;q=0.5');
  assert.match(open.type, /^application\/openmetrics-text; version=1\.0\.0/);
  assert.ok(open.body.endsWith('# EOF\n'));
  const text = await scrape(metricsUrl);
  assert.match(text.type, /^text\/plain; version=0\.0\.4/);
  assert.equal((await scrape(metricsUrl.replace('/metrics', '/other'))).status, 404);
  // The scrapes above left keep-alive connections open (node's global agent keeps them): a stop still ends herd.
  assert.equal((await herd.command('stop')).code, 0);
  assert.equal(await herd.exited, 0);
});
