// --trust-proxy: which X-Forwarded-For entry is the client (nginx real_ip with real_ip_recursive on).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTrustProxy, TrustedProxies } from '../../src/transport/trusted_proxies.ts';

test('the right-most X-Forwarded-For address that is not a trusted proxy is the client', () => {
  const proxies = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
  assert.equal(proxies.clientOf('127.0.0.1', '203.0.113.5, 10.1.1.1'), '203.0.113.5');
  assert.equal(proxies.clientOf('::ffff:127.0.0.1', '203.0.113.5'), '203.0.113.5');
  assert.equal(proxies.clientOf('10.2.3.4', ['198.51.100.1', '203.0.113.5']), '203.0.113.5');
  assert.equal(proxies.clientOf('fd00::1', '2001:db8::9'), '2001:db8::9');
  // Every hop trusted: the left-most is as far as the chain goes.
  assert.equal(proxies.clientOf('127.0.0.1', '10.9.9.9, 10.1.1.1'), '10.9.9.9');
  // A garbled entry stops the walk at the last good address.
  assert.equal(proxies.clientOf('127.0.0.1', '203.0.113.5, not-an-ip, 10.1.1.1'), '10.1.1.1');
  assert.equal(proxies.clientOf('127.0.0.1', 'garbage'), '127.0.0.1');
  assert.equal(proxies.clientOf('127.0.0.1', undefined), '127.0.0.1');
});

test('a peer that is not trusted has its own address logged, whatever it claims', () => {
  const proxies = new TrustedProxies(['10.0.0.0/8']);
  assert.equal(proxies.clientOf('127.0.0.1', '203.0.113.5'), '127.0.0.1');
  assert.equal(proxies.clientOf('11.0.0.1', '203.0.113.5'), '11.0.0.1');
});

test('--trust-proxy values: CIDR blocks and single addresses; anything else is one line', () => {
  assert.deepEqual(parseTrustProxy('10.0.0.0/8, 127.0.0.1,fd00::/8'), ['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);
  for (const bad of ['', ',', '10.0.0.0/33', 'fd00::/129', 'localhost', '10.0.0.0/8/1', '10.0.0.0/x']) {
    assert.throws(() => parseTrustProxy(bad), /--trust-proxy/, bad);
  }
});
