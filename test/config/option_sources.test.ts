// Config sources: flags > environment > file > defaults, every value through the flag's own parser,
// and errors that name the file and key or the variable.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseServeArgs, explainServeArgs } from '../../src/cli/serve.ts';
import type { ServeConfig } from '../../src/config.ts';
import { tempDir } from '../support/herd_process.ts';

function parse(argv: string[], env: NodeJS.ProcessEnv, cwd: string): ServeConfig {
  const config = parseServeArgs(argv, { env, cwd });
  assert.notEqual(config, 'help');
  return config as ServeConfig;
}

test('flags beat the environment, which beats the file, which beats the defaults', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'herd.config.json'), JSON.stringify({ port: 7001, workers: 3, grace: 4, 'access-log-format': 'json', 'request-id': true, backlog: 100 }));
  const env = { PORT: '7002', WEB_CONCURRENCY: '2', HERD_GRACE: '5' };
  const c = parse(['--port', '7003'], env, dir);
  assert.equal(c.port, 7003); // flag over PORT over file
  assert.equal(c.workers, 2); // WEB_CONCURRENCY over file
  assert.equal(c.graceSeconds, 5); // HERD_GRACE over file
  assert.equal(c.accessLogFormat, 'json'); // file over default
  assert.equal(c.requestId, true);
  assert.equal(c.backlog, 100);
  assert.equal(c.keepAliveTimeoutMs, 5000); // default
  // HERD_<NAME> wins over the conventional variable when both are set.
  assert.equal(parse([], { PORT: '7002', HERD_PORT: '7004' }, dir).port, 7004);
  const { origins } = explainServeArgs(['--port', '7003'], { env, cwd: dir });
  assert.deepEqual(origins.get('port'), { from: 'flag' });
  assert.deepEqual(origins.get('workers'), { from: 'env', name: 'WEB_CONCURRENCY' });
  assert.deepEqual(origins.get('backlog'), { from: 'file', file: path.join(dir, 'herd.config.json') });
  assert.equal(origins.get('headers-timeout'), undefined);
});

test('--config FILE (JSON or JS) is read instead of the working directory\'s file; app can be set there', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'herd.config.json'), JSON.stringify({ port: 7001 }));
  const app = path.join(dir, 'app.js');
  fs.writeFileSync(app, 'export default (req, res) => res.end("x");\n');
  const js = path.join(dir, 'prod.config.js');
  fs.writeFileSync(js, `export default { port: 7005, app: ${JSON.stringify(app)}, dispatch: 'handoff', handoff: 'least' };\n`);
  const c = parse(['--config', js], {}, dir);
  assert.equal(c.port, 7005);
  assert.equal(c.app, app);
  assert.equal(c.dispatch, 'handoff');
  assert.equal(c.handoff, 'least');
  assert.equal(c.engine, 'node'); // an APP from the file picks the engine as a positional APP would
  // HERD_CONFIG names the file too; a flag APP wins over the file's.
  assert.equal(parse([], { HERD_CONFIG: js }, dir).port, 7005);
  // herd.config.js in the working directory is found; CommonJS works as .cjs.
  const other = tempDir(t);
  fs.writeFileSync(path.join(other, 'herd.config.js'), 'export default { "keep-alive-timeout": 2 };\n');
  assert.equal(parse([], {}, other).keepAliveTimeoutMs, 2000);
  const cjs = path.join(other, 'ci.cjs');
  fs.writeFileSync(cjs, 'module.exports = { "keep-alive-timeout": 3 };\n');
  assert.equal(parse(['--config', cjs], {}, other).keepAliveTimeoutMs, 3000);
});

test('bad values name the file and the key, or the variable, in one line', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'herd.config.json');
  const fails = (argv: string[], env: NodeJS.ProcessEnv, pattern: RegExp) =>
    assert.throws(() => parseServeArgs(argv, { env, cwd: dir }), (err: Error) => {
      assert.match(err.message, pattern);
      assert.equal(err.message.includes('\n'), false);
      return err.name === 'UsageError' || (err as { exitCode?: number }).exitCode === 2;
    });
  fs.writeFileSync(file, JSON.stringify({ grace: 'soon' }));
  fails([], {}, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: "grace" must be a number of seconds`));
  // The flag wins, so the file's bad value is never parsed.
  assert.equal(parse(['--grace', '2'], {}, dir).graceSeconds, 2);
  fs.writeFileSync(file, JSON.stringify({ dispatch: 'magic' }));
  fails([], {}, /herd\.config\.json: "dispatch" must be one of reuseport, shared, handoff, not 'magic'/);
  fs.writeFileSync(file, JSON.stringify({ prot: 80 }));
  fails([], {}, /herd\.config\.json: unknown key "prot"/);
  fs.writeFileSync(file, JSON.stringify({ autoindex: 'yes' }));
  fails([], {}, /"autoindex" must be true or false/);
  fs.writeFileSync(file, JSON.stringify({ help: true }));
  fails([], {}, /unknown key "help"/);
  fs.writeFileSync(file, '{"port": 80,');
  fails([], {}, /is not valid JSON/);
  fs.writeFileSync(file, '[1]');
  fails([], {}, /must hold an object/);
  fs.rmSync(file);
  fails([], { HERD_WORKERS: 'many' }, /^--workers must be 'auto'|^HERD_WORKERS must be 'auto'/);
  fails([], { WEB_CONCURRENCY: '0' }, /^WEB_CONCURRENCY must be 'auto' or a whole number/);
  fails([], { PORT: 'http' }, /^PORT must be a port number/);
  fails([], { HERD_REQUEST_ID: 'maybe' }, /^HERD_REQUEST_ID must be 1, true/);
  fails([], { HERD_STATIC_PREFIX: '/assets' }, /^HERD_STATIC_PREFIX needs --static DIR/);
  fails(['--config', path.join(dir, 'missing.json')], {}, /missing\.json: no such file/);
  fails(['--config', path.join(dir, 'herd.yaml')], {}, /must end in \.json, \.js/);
  fs.writeFileSync(file, JSON.stringify({ app: 'missing.js' }));
  assert.throws(() => parseServeArgs([], { env: {}, cwd: dir }), /herd\.config\.json: "app": APP missing\.js not found/);
  fs.rmSync(file);
  assert.throws(() => parseServeArgs([], { env: { HERD_APP: 'gone.js' }, cwd: dir }), /HerdError: HERD_APP: APP gone\.js not found/);
  // An empty variable is unset, as PORT= is for every Node host.
  assert.equal(parse([], { PORT: '', HERD_GRACE: '' }, dir).port, 8080);
});
