// Which inherited descriptor is which, across an upgrade: numbered in the order passed, found again
// by the address asked for or the one bound, each adopted once; a dispatch mode that cannot take a
// socket over is one line naming both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InheritedSockets, passToChild, UPGRADE_SOCKETS_VARIABLE } from '../../src/supervisor/inherited_sockets.ts';
import { UsageError } from '../../src/errors.ts';

const running = [
  { addresses: ['0.0.0.0:0', '0.0.0.0:41000'], reuseport: true, activated: false, fds: [21, 22] },
  { addresses: ['127.0.0.1:9100'], reuseport: false, activated: false, fds: [30] },
];

test('descriptors land from the first free one on, in order, and are found by either address', () => {
  const { stdio, variable } = passToChild(running, 4);
  assert.deepEqual(stdio, [21, 22, 30]);
  const inherited = InheritedSockets.fromVariable(variable);
  assert.deepEqual(inherited.take('0.0.0.0', 41000, true), [4, 5], '--port 41000 finds the socket --port 0 bound');
  assert.equal(inherited.take('0.0.0.0', 0, true), undefined, 'adopted once');
  assert.equal(inherited.takeOne('127.0.0.1', 9100), 6);
  assert.equal(inherited.takeOne('127.0.0.1', 9200), undefined, 'another address: bound afresh');
  assert.equal(inherited.activatedFd(), null);
});

test('a reuseport socket set cannot become one shared socket, nor the other way round', () => {
  const inherited = InheritedSockets.fromVariable(passToChild(running, 4).variable);
  assert.throws(() => inherited.take('0.0.0.0', 0, false), (err: Error) => err instanceof UsageError && /serves 0\.0\.0\.0:0 with a reuseport socket per worker, which --dispatch shared or handoff cannot take over; an upgrade keeps the dispatch mode/.test(err.message));
  assert.throws(() => inherited.take('127.0.0.1', 9100, true), /with one socket, which --dispatch reuseport cannot take over/);
});

test('systemd\'s socket is found whatever the address; a variable herd did not write is one line', () => {
  const inherited = InheritedSockets.fromVariable(passToChild([{ addresses: ['127.0.0.1:8080'], reuseport: false, activated: true, fds: [3] }], 4).variable);
  assert.equal(inherited.activatedFd(), 4);
  inherited.takeActivated();
  assert.equal(inherited.activatedFd(), null);
  assert.equal(InheritedSockets.fromVariable(undefined).activatedFd(), null);
  assert.throws(() => InheritedSockets.fromVariable('{nope'), new RegExp(`^UsageError: ${UPGRADE_SOCKETS_VARIABLE} is not what herd writes`));
});
