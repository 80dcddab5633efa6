// perf stat's CSV as the herd counter reads it, and the wasted wake-up arithmetic, on fixed text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loopEagainsFrom, wastedPerConnection } from '../../../src/lab/herd/herd_cells.ts';
import type { HerdCell } from '../../../src/lab/herd/herd_results.ts';
import { parsePerfStat, perfArguments } from '../../../src/lab/perf_counter.ts';

test('perf stat -x, output: the four counts in the order the events were given', () => {
  const text = [
    '# started on Thu Dec  3 16:47:22 2026',
    '',
    '12,,syscalls:sys_exit_accept4,1006411746,100.00,,',
    '40,,syscalls:sys_exit_accept4,1006411777,100.00,,',
    '190,,sched:sched_wakeup,1006411777,100.00,,',
    '201,,sched:sched_switch,1006410524,100.00,,',
    'Events disabled',
  ].join('\n');
  assert.deepEqual(parsePerfStat(text), { eagainAccepts: 12, acceptedAccepts: 40, loopWakeups: 190, loopSwitches: 201 });
  assert.throws(() => parsePerfStat('<not counted>,,sched:sched_wakeup,0,100.00,,'), /could not count sched:sched_wakeup/);
  assert.throws(() => parsePerfStat('1,,sched:sched_wakeup,0,100.00,,'), /printed 1 counts, not 4/);
});

test('perf arguments: every event filtered in the kernel to the given threads', () => {
  const args = perfArguments([10, 11], [10]).join(' ');
  assert.match(args, /ret == -11 && \(common_pid == 10 \|\| common_pid == 11\)/);
  assert.match(args, /ret >= 0 && \(common_pid == 10 \|\| common_pid == 11\)/);
  assert.match(args, /sched:sched_wakeup --filter pid == 10 /);
  assert.match(args, /--filter prev_pid == 10$/);
  assert.throws(() => perfArguments([], [1]), /no threads/);
});

test('wasted wake-ups: EAGAINs beyond those the accept loop ends with, per connection', () => {
  // A loop that accepts once per wake-up: every EAGAIN is waste.
  assert.equal(wastedPerConnection(30, 40, 40, 0), 0.75);
  // A loop that drains the queue ends with one EAGAIN per accepted connection (sequential).
  assert.equal(wastedPerConnection(70, 40, 40, 1), 0.75);
  assert.equal(wastedPerConnection(20, 40, 40, 1), 0, 'never below zero (bursts: a lower bound)');
  assert.equal(wastedPerConnection(5, 0, 0, 0), null);
  const cell = (eagainPerConnection: number | null) => ({ eagainPerConnection }) as HerdCell;
  assert.equal(loopEagainsFrom(undefined), 0);
  assert.equal(loopEagainsFrom(cell(0.02)), 0);
  assert.equal(loopEagainsFrom(cell(1.03)), 1);
});
