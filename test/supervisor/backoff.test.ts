import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, CRASH_LOOP_DEATHS, MIN_UPTIME_MS, SlotHealth } from '../../src/supervisor/backoff.ts';

test('young deaths back off exponentially, then become a crash loop', () => {
  const slot = new SlotHealth();
  const delays: Array<number | null> = [];
  for (let i = 0; i < CRASH_LOOP_DEATHS; i++) delays.push(slot.recordDeath(i % 2 === 0 ? null : MIN_UPTIME_MS - 1));
  assert.deepEqual(delays.slice(0, -1), [1, 2, 4, 8].slice(0, CRASH_LOOP_DEATHS - 1).map((k) => Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * k)));
  assert.equal(delays.at(-1), null);
  assert.equal(slot.restarts, CRASH_LOOP_DEATHS);
});

test('a worker that served long enough resets the count and is respawned at once', () => {
  const slot = new SlotHealth();
  for (let i = 0; i < CRASH_LOOP_DEATHS - 1; i++) slot.recordDeath(null);
  assert.equal(slot.recordDeath(MIN_UPTIME_MS), 0);
  assert.equal(slot.youngDeaths, 0);
  assert.equal(slot.recordDeath(null), BACKOFF_BASE_MS, 'the next young death starts the backoff over');
});

test('a worker that never became ready died young, however long its start-up took', () => {
  const slot = new SlotHealth();
  assert.equal(slot.recordDeath(null), BACKOFF_BASE_MS);
});
