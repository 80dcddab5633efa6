// herd as its users get it: `npm pack`, then the tarball installed into a new project (`npx herd`, an
// npm script) and globally into a new prefix; each serves a request from compiled JavaScript and stops.
// These need the npm registry for the tarball's own dependencies, as `npm ci` does.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { after, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, startHerd, tempDir, type RunningHerd } from '../support/herd_process.ts';
import { request } from '../support/http_client.ts';

const run = promisify(execFile);
// The checkout's own Node 24 first on PATH, as a user's newer Node would be; the system's may be older.
const NODE_DIR = path.dirname(process.execPath);
const ENV = { ...process.env, PATH: `${NODE_DIR}${path.delimiter}${process.env.PATH}`, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
const NPM = 'npm';

const APP = `export default (req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('installed ' + req.url);
};
`;

const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-pack-'));
after(() => fs.rmSync(packDir, { recursive: true, force: true }));
let tarball: Promise<string> | undefined;

/** `npm pack` once for the whole file: it runs prepare, which builds dist/. */
function pack(): Promise<string> {
  const out = packDir;
  tarball ??= run(NPM, ['pack', '--json', '--pack-destination', out], { cwd: ROOT, env: ENV, maxBuffer: 16 << 20 }).then(({ stdout }) => {
    // npm prints prepare's output before the JSON; the JSON is the last thing it writes.
    const report = JSON.parse(stdout.slice(stdout.indexOf('[\n'))) as [{ filename: string; files: { path: string }[] }];
    return JSON.stringify({ file: path.join(out, report[0].filename), files: report[0].files.map((f) => f.path) });
  });
  return tarball;
}

/** Every line herd printed is its own: `herd: ...` or a worker's `[worker N] ...`, no warning, no stack. */
function assertOnlyOwnLines(output: string): void {
  for (const line of output.split('\n')) {
    if (line === '') continue;
    assert.match(line, /^(herd: |\[worker \d+\] )/, `a line that is not herd's own:\n${output}`);
  }
}

/** Answers, runs compiled JavaScript from `installed` in supervisor and workers, stops on TERM. */
async function servesAndStops(herd: RunningHerd, installed: string): Promise<void> {
  const reply = await request(herd.url, '/hello');
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'installed /hello');
  const supervisor = Number(/serving .* pid (\d+)\)/.exec(herd.output())![1]);
  const status = JSON.parse((await herd.command('status', '--json')).stdout) as { workers: { pid: number }[] };
  for (const pid of [supervisor, ...status.workers.map((w) => w.pid)]) {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const script = fs.realpathSync(path.resolve(fs.readlinkSync(`/proc/${pid}/cwd`), argv[1]));
    assert.ok(script.startsWith(fs.realpathSync(installed)) && script.endsWith('.js'), `pid ${pid} runs ${script}, not the installed JavaScript`);
  }
  process.kill(supervisor, 'SIGTERM');
  assert.equal(await herd.exited, 0, herd.output());
  assertOnlyOwnLines(herd.output());
}

function newProject(t: TestContext, scripts: Record<string, string> = {}): string {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'herd-user', version: '1.0.0', private: true, type: 'module', scripts }));
  fs.writeFileSync(path.join(dir, 'app.js'), APP);
  return dir;
}

test('the tarball ships compiled code and no tests, fixtures or scripts', async (t) => {
  const { files } = JSON.parse(await pack()) as { files: string[] };
  assert.ok(files.includes('dist/cli/herd.js') && files.includes('dist/worker/main.js') && files.includes('dist/logd/main.js'));
  assert.ok(files.includes('dist/index.d.ts'), 'the public types');
  assert.ok(files.includes('dist/lab/chart.umd.js'), "the lab report's chart library, inlined at build time");
  const strays = files.filter((f) => !(f.startsWith('dist/') || ['package.json', 'README.md', 'LICENSE'].includes(f)));
  assert.deepEqual(strays, []);
  assert.equal(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).length, 0, 'no TypeScript sources to strip at run time');
});

test('npm i ./herd.tgz: npx herd and an npm script serve app.js', { timeout: 120_000 }, async (t) => {
  const { file } = JSON.parse(await pack()) as { file: string };
  const project = newProject(t, { start: 'herd serve app.js' });
  await run(NPM, ['install', '--no-package-lock', file], { cwd: project, env: ENV });
  const installed = path.join(project, 'node_modules/herd');
  const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  assert.equal('chart.js' in manifest.dependencies, false, 'chart.js is no runtime dependency');

  const version = await run('npx', ['herd', '--version'], { cwd: project, env: ENV });
  assert.equal(version.stdout.trim(), JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  assert.equal((await run('npx', ['herd', '-V'], { cwd: project, env: ENV })).stdout, version.stdout);

  // The type a handler is written against, from the package's own name.
  fs.writeFileSync(path.join(project, 'typed.ts'), "import type { Handler } from 'herd';\nexport const h: Handler = (req, res) => { res.end(req.method); };\n");
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--typeRoots', path.join(ROOT, 'node_modules/@types'), '--types', 'node', 'typed.ts'], { cwd: project, env: ENV });

  await servesAndStops(await startHerd(t, ['--workers', '2'], { command: ['npx', 'herd', 'serve', 'app.js'], cwd: project, env: ENV }), installed);
  // npm prints its own '> herd-user@1.0.0 start' header; --silent leaves only herd's lines.
  await servesAndStops(await startHerd(t, ['--workers', '1'], { command: [NPM, 'start', '--silent', '--'], cwd: project, env: ENV }), installed);
});

test('npm i -g: herd on PATH serves app.js', { timeout: 120_000 }, async (t) => {
  const { file } = JSON.parse(await pack()) as { file: string };
  const prefix = tempDir(t);
  await run(NPM, ['install', '--global', '--prefix', prefix, file], { env: ENV });
  const env = { ...ENV, PATH: `${path.join(prefix, 'bin')}${path.delimiter}${ENV.PATH}` };
  const project = newProject(t);
  await servesAndStops(await startHerd(t, ['--workers', '2', '--access-log', 'off'], { command: ['herd', 'serve', 'app.js'], cwd: project, env }), path.join(prefix, 'lib/node_modules/herd'));
});

test('an installed herd on a Node older than 22.12 says so in one line', async (t) => {
  const old = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'node')).find((node) => {
    try {
      const [major, minor] = execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim().split('.').map(Number);
      return major < 22 || (major === 22 && minor < 12);
    } catch {
      return false;
    }
  });
  if (!old) {
    t.skip('no Node older than 22.12 on PATH to try');
    return;
  }
  const { file } = JSON.parse(await pack()) as { file: string };
  const project = newProject(t);
  await run(NPM, ['install', '--no-package-lock', file], { cwd: project, env: ENV });
  const r = await run(old, [path.join(project, 'node_modules/herd/dist/cli/herd.js'), 'serve', 'app.js'], { cwd: project }).then(
    () => assert.fail('herd ran on an old Node'),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^herd: needs Node\.js 22\.12 or newer; \S+ is v\d+\.\d+\.\d+\n$/);
});
