// Every spelling of "a file outside the root" is refused (400 or 404) and no response carries a
// byte of it. Targets go out as raw bytes on a plain socket, so nothing normalises them on the way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { buildTree, request, serveFast, serveNode, staticOptions } from './tree.ts';

const TRAVERSALS = [
  '/../outside/secret.txt',
  '/../../../../../../etc/passwd',
  '/nested/../../outside/secret.txt',
  '/%2e%2e/outside/secret.txt',
  '/%2E%2E/outside/secret.txt',
  '/.%2e/outside/secret.txt',
  '/%2e./outside/secret.txt',
  '/nested/%2e%2e/%2e%2e/outside/secret.txt',
  '/..%2foutside%2fsecret.txt',
  '/%2e%2e%2foutside%2fsecret.txt',
  '/%2e%2e%2F%2e%2e%2F%2e%2e%2Fetc%2Fpasswd',
  '/%2fetc%2fpasswd',
  '/..%5coutside%5csecret.txt',
  '/%2e%2e%5coutside%5csecret.txt',
  '/%5c..%5coutside%5csecret.txt',
  '/..\\outside\\secret.txt',
  '/docs/..\\..\\outside\\secret.txt',
  '/\\..\\outside\\secret.txt',
  '/%252e%252e/outside/secret.txt',
  '/..%255c..%255coutside%255csecret.txt',
  '/..%00/outside/secret.txt',
  '/hello.txt%00.png',
  '/hello.txt\x00',
  '/%c0%ae%c0%ae/outside/secret.txt',
  '/..%c0%afoutside%c0%afsecret.txt',
  '/%c0%af%c0%afetc%c0%afpasswd',
  '/%e0%80%ae%e0%80%ae/outside/secret.txt',
  '/%c1%9c..%c1%9coutside',
  '/%ed%a0%80',
  '/%ff%fe/../outside/secret.txt',
  '/%u002e%u002e/outside/secret.txt',
  '/%2',
  '/%zz/outside/secret.txt',
  '/....//....//outside/secret.txt',
  '/..;/outside/secret.txt',
  '/.',
  '/..',
  '/./../outside/secret.txt',
  'http://localhost/../outside/secret.txt',
  'http://localhost/hello.txt',
  '*',
  '/etc/passwd',
  '//etc/passwd',
  '/dir-out/secret.txt',
  '/link-out.txt',
  '/dir-out/../outside/secret.txt',
];

function assertRefused(status: number, body: Buffer, target: string, secret: string, passwd: string): void {
  assert.ok(status === 400 || status === 404, `${JSON.stringify(target)} got ${status}`);
  assert.ok(!body.includes(secret), `${JSON.stringify(target)} leaked the secret`);
  if (passwd !== '') assert.ok(!body.includes(passwd), `${JSON.stringify(target)} leaked /etc/passwd`);
}

const passwdLine = (): string => {
  try {
    return fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0];
  } catch {
    return '';
  }
};

test(`${TRAVERSALS.length} traversal forms are all refused on the fast engine`, async (t) => {
  assert.ok(TRAVERSALS.length >= 30);
  const tree = buildTree(t);
  const port = await serveFast(t, staticOptions(tree, { autoindex: true }));
  const passwd = passwdLine();
  for (const target of TRAVERSALS) {
    const r = await request(port, target);
    assertRefused(r.status, r.body, target, tree.secret, passwd);
  }
  // The server is fine afterwards.
  assert.equal((await request(port, '/hello.txt')).body.toString(), 'hello world\n');
});

test('the same forms are refused on the node engine, and with followSymlinks on', async (t) => {
  const tree = buildTree(t);
  const nodePort = await serveNode(t, staticOptions(tree, { autoindex: true }));
  const following = await serveFast(t, staticOptions(tree, { followSymlinks: true }));
  const passwd = passwdLine();
  for (const target of TRAVERSALS) {
    const r = await request(nodePort, target);
    assertRefused(r.status, r.body, target, tree.secret, passwd);
    // With followSymlinks, only the symlinks themselves may reach outside; no other spelling may.
    if (target.startsWith('/dir-out/secret') || target === '/link-out.txt') continue;
    const f = await request(following, target);
    assertRefused(f.status, f.body, target, tree.secret, passwd);
  }
});
