// Every `<!-- snippet: NAME -->` block of docs/deploy.md, run where this machine has the tool: the
// config file and the Kubernetes manifest with herd itself, the systemd pair against
// `herd systemd-unit`, nginx and HAProxy in front of a real herd. Ports in the snippets (80 for the
// balancer, 8080 for herd, 8081 for health) are replaced by free ones; nothing else is changed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fixture, HERD, ROOT, startHerd, tempDir, type RunningHerd } from '../support/herd_process.ts';
import { request, waitFor } from '../support/http_client.ts';
import { findNginx } from '../../src/lab/nginx_config.ts';

const DOC = fs.readFileSync(path.join(ROOT, 'docs/deploy.md'), 'utf8');

function snippet(name: string): string {
  const m = new RegExp(`<!-- snippet: ${name.replace(/\./g, '\\.')} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(DOC);
  assert.ok(m, `docs/deploy.md has a snippet ${name}`);
  return m[1];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

/** A directory holding server.js (answers with its pid), as the snippets expect. */
function appDir(t: TestContext): string {
  const dir = tempDir(t);
  fs.copyFileSync(fixture('pid.js'), path.join(dir, 'server.js'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type": "module"}\n');
  return dir;
}

/** Runs a long-lived tool (nginx, haproxy) in its own process group, killed at the end. */
function daemon(t: TestContext, file: string, args: string[]): { output(): string; exited: Promise<number | null> } {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  t.after(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  });
  return { output: () => output, exited: new Promise((resolve) => child.on('close', resolve)) };
}

async function healthOf(herd: RunningHerd): Promise<string> {
  await waitFor('the health line', () => /health on (http:\/\/\S+)/.test(herd.output()));
  return /health on (http:\/\/\S+) /.exec(herd.output())![1];
}

test('herd.config.json: herd config reads it and herd serve runs with it', async (t) => {
  const dir = appDir(t);
  fs.writeFileSync(path.join(dir, 'herd.config.json'), snippet('herd.config.json'));
  const shown = spawnSync(process.execPath, [HERD, 'config', '--json'], { cwd: dir, encoding: 'utf8' });
  assert.equal(shown.status, 0, shown.stderr);
  const options = JSON.parse(shown.stdout).options;
  assert.equal(options.app.value, path.join(dir, 'server.js'));
  assert.equal(options.workers.value, '4');
  assert.equal(options['shutdown-delay'].value, '5');
  for (const key of ['app', 'workers', 'dispatch', 'grace', 'shutdown-delay', 'health', 'access-log', 'access-log-format', 'request-id']) {
    assert.equal(options[key].source, path.join(dir, 'herd.config.json'), key);
  }
  // Flags win: a free health port and two workers here.
  const herd = await startHerd(t, ['--health', '127.0.0.1:0', '--workers', '2'], { cwd: dir });
  assert.match(herd.output(), /serving server\.js on .* with 2 workers \(dispatch shared/);
  assert.equal((await get(`${await healthOf(herd)}/readyz`)).status, 200);
  await request(herd.url);
  await waitFor('a JSON access line with a request id', () => /^\{"time":.*"requestId":"[^"]+"\}$/m.test(herd.output()));
});

test('Dockerfile: two stages, non-root, tini as PID 1, and a CMD herd accepts', async (t) => {
  const dockerfile = snippet('Dockerfile');
  assert.equal((dockerfile.match(/^FROM /gm) ?? []).length, 2);
  assert.match(dockerfile, /^COPY --from=build /m);
  assert.match(dockerfile, /^USER (?!root)\w+/m);
  assert.match(dockerfile, /^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]/m);
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]) as string[];
  const serve = cmd.slice(cmd.indexOf('serve') + 1);
  const dir = appDir(t);
  const r = spawnSync(process.execPath, [HERD, 'config', ...serve], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^shutdown-delay +5 +flag/m);
  const docker = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' });
  if (docker.status !== 0) t.diagnostic(`image not built: no Docker daemon here (${(docker.stderr || 'docker not installed').trim().split('\n').pop()})`);
});

test('deployment.yaml: its args, env and probes run herd; TERM turns readiness 503 and herd exits in the grace period', async (t) => {
  const yaml = snippet('deployment.yaml');
  const args = JSON.parse(/^\s+args: (\[.*\])$/m.exec(yaml)![1]) as string[];
  const env = Object.fromEntries([...yaml.matchAll(/- name: (\w+)\n\s+value: "([^"]*)"/g)].map((m) => [m[1], m[2]]));
  const gracePeriod = Number(/terminationGracePeriodSeconds: (\d+)/.exec(yaml)![1]);
  const preStop = Number(/preStop:\n\s+sleep: \{ seconds: (\d+) \}/.exec(yaml)![1]);
  const probe = (kind: string) => new RegExp(`${kind}:\\n\\s+httpGet: \\{ path: (\\S+), port: (\\w+) \\}`).exec(yaml)!.slice(1);
  assert.deepEqual(probe('readinessProbe'), ['/readyz', 'health']);
  assert.deepEqual(probe('startupProbe'), ['/readyz', 'health']);
  assert.deepEqual(probe('livenessProbe'), ['/livez', 'health']);
  assert.match(yaml, /- \{ name: health, containerPort: 8081 \}/);
  // The budget adds up: preStop + --shutdown-delay + --grace + 5.
  assert.ok(gracePeriod >= preStop + Number(env.HERD_SHUTDOWN_DELAY) + Number(env.HERD_GRACE) + 5, `terminationGracePeriodSeconds ${gracePeriod}`);

  const dir = appDir(t);
  const serve = args.slice(args.indexOf('serve') + 1).map((a) => (a === '0.0.0.0:8081' ? '127.0.0.1:0' : a === '0.0.0.0' ? '127.0.0.1' : a === '8080' ? '0' : a));
  const herd = await startHerd(t, serve, { cwd: dir, env: { ...process.env, ...env } });
  assert.match(herd.output(), /with 2 workers/); // WEB_CONCURRENCY
  const health = await healthOf(herd);
  assert.equal((await get(`${health}/readyz`)).status, 200);
  assert.equal((await get(`${health}/livez`)).status, 200);
  // The kubelet: preStop (the sleep) and then TERM; readiness must say 503 at once, herd keeps serving.
  const termAt = Date.now();
  herd.child.kill('SIGTERM');
  await waitFor('readiness 503', async () => (await get(`${health}/readyz`)).status === 503, 2000);
  assert.equal((await request(herd.url)).status, 200, 'still serving during --shutdown-delay');
  assert.equal(await herd.exited, 0);
  const tookS = (Date.now() - termAt) / 1000;
  assert.ok(tookS >= Number(env.HERD_SHUTDOWN_DELAY) && tookS < gracePeriod - preStop, `exited ${tookS} s after TERM`);
});

test('web.service and web.socket are what herd systemd-unit prints', async (t) => {
  const dir = appDir(t);
  const command = /\(`(herd systemd-unit [^`]+)`\)/.exec(DOC)![1].split(' ').slice(1);
  const printed = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [HERD, ...command], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
  });
  const real = fs.realpathSync(dir);
  const normalise = (text: string) => text.replaceAll(real, '/srv/web').replace(/^ExecStart=\S+ \S+ serve /m, 'ExecStart=NODE HERD serve ');
  assert.equal(normalise(printed).trim(), normalise(`${snippet('web.service')}\n\n${snippet('web.socket')}`).trim());
});

const nginx = findNginx();

test('nginx-http.conf: nginx in front of herd, keep-alive upstream', { skip: nginx ? false : 'nginx is not installed' }, async (t) => {
  const herd = await startHerd(t, [fixture('pid.js'), '--workers', '2', '--dispatch', 'shared']);
  const front = await freePort();
  const dir = tempDir(t);
  const server = snippet('nginx-http.conf').replace('listen 80;', `listen 127.0.0.1:${front};`).replace('127.0.0.1:8080', `127.0.0.1:${herd.port}`);
  const p = (name: string) => path.join(dir, name);
  fs.writeFileSync(p('nginx.conf'), `daemon off;\nmaster_process off;\npid ${p('nginx.pid')};\nerror_log ${p('error.log')} warn;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n  client_body_temp_path ${p('cb')};\n  proxy_temp_path ${p('px')};\n  fastcgi_temp_path ${p('fc')};\n  uwsgi_temp_path ${p('uw')};\n  scgi_temp_path ${p('sc')};\n${server}\n}\n`);
  const proc = daemon(t, nginx!, ['-p', dir, '-c', p('nginx.conf'), '-e', p('error.log')]);
  const url = `http://127.0.0.1:${front}`;
  await waitFor('nginx to listen', async () => (await get(url).catch(() => null))?.status === 200, 10_000);
  const pids = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const r = await get(`${url}/busy`);
    assert.equal(r.status, 200);
    pids.add(r.body);
  }
  assert.ok([...pids].every((pid) => /^\d+$/.test(pid)), proc.output());
});

const haproxy = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((f) => fs.existsSync(f));

function proxyProtocolBuilt(): boolean {
  return spawnSync(process.execPath, [HERD, 'serve', '--help'], { encoding: 'utf8' }).stdout.includes('--proxy-protocol');
}

test('haproxy.cfg: HAProxy checks /readyz and takes herd out at TERM while herd still serves', { skip: haproxy ? false : 'haproxy is not installed' }, async (t) => {
  const withProxyProtocol = proxyProtocolBuilt();
  if (!withProxyProtocol) t.diagnostic('this build has no --proxy-protocol: send-proxy-v2 removed from the snippet; the rest runs as written');
  const herd = await startHerd(t, [fixture('pid.js'), '--workers', '2', '--dispatch', 'shared', '--health', '127.0.0.1:0', '--shutdown-delay', '3', ...(withProxyProtocol ? ['--proxy-protocol', '--access-log', '-'] : [])]);
  const healthPort = Number(new URL(await healthOf(herd)).port);
  const front = await freePort();
  const dir = tempDir(t);
  const stats = path.join(dir, 'stats.sock');
  let cfg = snippet('haproxy.cfg')
    .replace('bind :80', `bind 127.0.0.1:${front}`)
    .replace('127.0.0.1:8080', `127.0.0.1:${herd.port}`)
    .replace('check port 8081', `check port ${healthPort}`)
    .replace('global\n', `global\n    stats socket ${stats} level admin\n`);
  if (!withProxyProtocol) cfg = cfg.replace(' send-proxy-v2', '');
  fs.writeFileSync(path.join(dir, 'haproxy.cfg'), `${cfg}\n`);
  const proc = daemon(t, haproxy!, ['-db', '-f', path.join(dir, 'haproxy.cfg')]);
  const serverState = () => new Promise<string>((resolve) => {
    const s = net.connect(stats);
    let out = '';
    s.on('connect', () => s.write('show stat\n'));
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(/^herd,h1,(?:[^,]*,){15}([^,]*),/m.exec(out)?.[1] ?? 'unknown'));
    s.on('error', () => resolve('unreachable'));
  });
  await waitFor('HAProxy to see herd UP', async () => (await serverState()) === 'UP', 15_000).catch((err) => {
    throw new Error(`${err.message}: ${proc.output()}`);
  });
  const url = `http://127.0.0.1:${front}`;
  for (let i = 0; i < 10; i++) {
    // From 127.0.0.2: with the PROXY protocol that is the address herd must log, not HAProxy's 127.0.0.1.
    const r = await new Promise<string>((resolve, reject) => {
      http.get(url, { agent: false, localAddress: '127.0.0.2' }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
    assert.match(r, /^\d+$/);
  }
  if (withProxyProtocol) await waitFor('an access line for 127.0.0.2', () => /^127\.0\.0\.2 /m.test(herd.output()));
  herd.child.kill('SIGTERM');
  await waitFor('HAProxy to mark herd DOWN', async () => (await serverState()).startsWith('DOWN'), 3000);
  // Down in HAProxy, yet herd still answers whatever was already on its way (with --proxy-protocol,
  // a connection must start with its header: what HAProxy would have sent).
  const head = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(herd.port, '127.0.0.1', () => {
      socket.end(`${withProxyProtocol ? 'PROXY TCP4 127.0.0.3 127.0.0.1 40000 80\r\n' : ''}GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(head, /^HTTP\/1\.1 200 /);
  assert.equal(await herd.exited, 0);
});

test('nginx-stream.conf: PROXY protocol from nginx\'s stream module', async (t) => {
  if (!nginx) return t.skip('nginx is not installed');
  const dir = tempDir(t);
  const probe = path.join(dir, 'probe.conf');
  fs.writeFileSync(probe, `pid ${path.join(dir, 'p.pid')};\nerror_log ${path.join(dir, 'e.log')};\nevents {}\n${snippet('nginx-stream.conf')}\n`);
  const check = spawnSync(nginx, ['-t', '-p', dir, '-c', probe, '-e', path.join(dir, 'e.log')], { encoding: 'utf8' });
  if (/unknown directive "stream"/.test(check.stderr)) return t.skip('nginx here has no stream module (Debian: libnginx-mod-stream)');
  if (!proxyProtocolBuilt()) return t.skip('this build has no --proxy-protocol');
  const herd = await startHerd(t, [fixture('pid.js'), '--workers', '1', '--proxy-protocol', '--access-log', '-']);
  const front = await freePort();
  fs.writeFileSync(probe, `daemon off;\nmaster_process off;\npid ${path.join(dir, 'p.pid')};\nerror_log ${path.join(dir, 'e.log')};\nevents {}\n${snippet('nginx-stream.conf').replace('listen 80;', `listen 127.0.0.1:${front};`).replace('127.0.0.1:8080', `127.0.0.1:${herd.port}`)}\n`);
  daemon(t, nginx, ['-p', dir, '-c', probe, '-e', path.join(dir, 'e.log')]);
  await waitFor('nginx to listen', async () => (await get(`http://127.0.0.1:${front}`).catch(() => null))?.status === 200, 10_000);
  assert.match(herd.output(), /^127\.0\.0\.1 /m);
});
