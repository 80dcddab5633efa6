// A connection's timeouts as fields: each limit counts from its own moment, and 0 turns it off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionTimeouts, sweepEveryMs } from '../../src/http/connection_timeouts.ts';

const LIMITS = { requestMs: 3000, headersMs: 1000, keepAliveMs: 2000, bodyMs: 500 };

test('each limit counts from its own moment', () => {
  const t = new ConnectionTimeouts(LIMITS, 0);
  assert.equal(t.idleOver(999, false), false);
  assert.equal(t.idleOver(1000, false), true, 'before the first request: the head limit');
  assert.equal(t.idleOver(1999, true), false);
  assert.equal(t.idleOver(2000, true), true, 'between requests: the keep-alive limit');
  t.headStartedAt = 5000;
  assert.equal(t.headLate(5999), false);
  assert.equal(t.headLate(6000), true);
  t.bodyMovedAt = 7000;
  assert.equal(t.bodyStalled(7499), false);
  assert.equal(t.bodyStalled(7500), true);
  assert.equal(t.answerLate(8000, 10_999), false);
  assert.equal(t.answerLate(8000, 11_000), true);
  t.closingSince = 20_000;
  assert.equal(t.lingerOver(21_999), false);
  assert.equal(t.lingerOver(22_000), true);
});

test('a limit of 0 is off', () => {
  const t = new ConnectionTimeouts({ requestMs: 0, headersMs: 0, keepAliveMs: 0, bodyMs: 0 }, 0);
  const late = 1e12;
  assert.equal(t.idleOver(late, false), false);
  assert.equal(t.idleOver(late, true), false);
  assert.equal(t.headLate(late), false);
  assert.equal(t.bodyStalled(late), false);
  assert.equal(t.answerLate(0, late), false);
});

test('the sweep runs at a quarter of the shortest limit that is on, between 10 ms and 1 s', () => {
  assert.equal(sweepEveryMs([30_000, 10_000, 5_000, 0]), 1000);
  assert.equal(sweepEveryMs([2_000, 0]), 500);
  assert.equal(sweepEveryMs([200]), 50);
  assert.equal(sweepEveryMs([20]), 10);
  assert.equal(sweepEveryMs([0, 0]), 1000); // every limit off: a slow sweep still runs
});
