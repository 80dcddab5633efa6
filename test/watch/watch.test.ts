// --watch: an edit reloads the workers (once per burst of saves); node_modules and dotfiles do not.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startHerd, tempDir } from '../support/herd_process.ts';
import { request, sleep, waitFor } from '../support/http_client.ts';
import { TreeWatcher } from '../../src/watch/tree_watcher.ts';

const app = (version: string) => `import { version } from './lib/version.js';\nexport default (req, res) => res.end(version + ' ${version}');\n`;

test('an edit under --watch reloads the workers, debounced; node_modules and dotfiles are ignored', async (t) => {
  const dir = tempDir(t);
  fs.mkdirSync(path.join(dir, 'lib'));
  fs.mkdirSync(path.join(dir, 'node_modules', 'dep'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type": "module"}\n');
  fs.writeFileSync(path.join(dir, 'lib', 'version.js'), "export const version = 'lib1';\n");
  fs.writeFileSync(path.join(dir, 'app.js'), app('app1'));
  const herd = await startHerd(t, ['app.js', '--watch', '--workers', '2', '--dispatch', 'shared', '--access-log', path.join(dir, 'access.log')], { cwd: dir });
  // Supervisor lines go through logd here (an access log is on): they may follow the serving line.
  await waitFor('the watch line', () => /watch: reloading on changes under \. \(2 directories; node_modules and dotfiles ignored\)/.test(herd.output()));
  assert.equal((await request(herd.url)).body, 'lib1 app1');
  const reloads = () => (herd.output().match(/reload: done/g) ?? []).length;

  // Ignored: node_modules, dotfiles, and herd's own access log (written on every request).
  fs.writeFileSync(path.join(dir, 'node_modules', 'dep', 'index.js'), 'x');
  fs.writeFileSync(path.join(dir, '.env'), 'A=1');
  for (let i = 0; i < 5; i++) await request(herd.url);
  await sleep(800);
  assert.equal(reloads(), 0, herd.output());
  assert.doesNotMatch(herd.output(), /watch: .* changed/);

  // A burst of saves to two files is one reload, and the new workers run the new code.
  for (let i = 2; i <= 4; i++) {
    fs.writeFileSync(path.join(dir, 'app.js'), app(`app${i}`));
    fs.writeFileSync(path.join(dir, 'lib', 'version.js'), `export const version = 'lib${i}';\n`);
    await sleep(30);
  }
  await waitFor('the reload', () => reloads() === 1, 20_000);
  assert.equal((await request(herd.url)).body, 'lib4 app4');
  await sleep(600);
  assert.equal(reloads(), 1, 'one reload for the burst');

  // A directory created after the start is watched too; an editor's rename-over-save counts.
  fs.mkdirSync(path.join(dir, 'routes'));
  await sleep(500);
  const tmp = path.join(dir, 'routes', 'x.js.tmp');
  fs.writeFileSync(tmp, 'export default 1;\n');
  fs.renameSync(tmp, path.join(dir, 'routes', 'x.js'));
  await waitFor('a second reload', () => reloads() === 2, 20_000);
  herd.child.kill('SIGTERM');
  assert.equal(await herd.exited, 0);
});

test('a watched file is followed across rename-over saves; a missing path is refused', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, '{}');
  fs.writeFileSync(path.join(dir, 'other.txt'), '');
  const batches: string[][] = [];
  const watcher = new TreeWatcher([file], (files) => batches.push(files), { debounceMs: 100 });
  t.after(() => watcher.close());
  fs.writeFileSync(path.join(dir, 'other.txt'), 'not watched');
  await sleep(300);
  assert.deepEqual(batches, []);
  for (let i = 0; i < 2; i++) {
    fs.writeFileSync(`${file}.new`, `{"v": ${i}}`);
    fs.renameSync(`${file}.new`, file);
    await sleep(300);
  }
  assert.equal(batches.length, 2);
  assert.deepEqual(batches[1], [file]);

  const { runHerd } = await import('../support/herd_process.ts');
  const r = await runHerd(['serve', `--watch=${path.join(dir, 'nope')}`]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^herd: --watch .*nope: no such file or directory$/m);
});
