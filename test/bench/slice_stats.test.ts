// The statistics of `herd bench --vs`: median, the seeded bootstrap, and the B/A comparison of rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMedianInterval, compareFigure, median, quantile, seededRandom } from '../../src/bench/slice_stats.ts';
import { sliceOrder, verdictLine } from '../../src/bench/comparison.ts';

test('median: odd, even, unsorted, empty', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
});

test('quantile interpolates between neighbours', () => {
  assert.equal(quantile([10, 20, 30, 40, 50], 0.5), 30);
  assert.equal(quantile([10, 20], 0.25), 12.5);
  assert.equal(quantile([10, 20, 30], 1), 30);
});

test('seededRandom: same seed, same sequence, in [0, 1); another seed differs', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const c = seededRandom(43);
  const first = Array.from({ length: 1000 }, a);
  assert.deepEqual(first, Array.from({ length: 1000 }, b));
  assert.notDeepEqual(first.slice(0, 10), Array.from({ length: 10 }, c));
  assert.ok(first.every((x) => x >= 0 && x < 1));
  // Not stuck in a corner: the mean of 1000 uniform draws is near 0.5.
  const mean = first.reduce((s, x) => s + x, 0) / first.length;
  assert.ok(mean > 0.45 && mean < 0.55, String(mean));
});

test('bootstrap interval: deterministic for a seed, collapses on constant data, brackets the median', () => {
  const values = [1.02, 1.1, 0.97, 1.05, 1.08, 1.01, 1.12, 0.99];
  const one = bootstrapMedianInterval(values, seededRandom(7));
  const two = bootstrapMedianInterval(values, seededRandom(7));
  assert.deepEqual(one, two);
  assert.ok(one.low <= median(values) && median(values) <= one.high, JSON.stringify(one));
  assert.ok(one.low >= Math.min(...values) && one.high <= Math.max(...values));
  assert.ok(one.low < one.high);
  assert.deepEqual(bootstrapMedianInterval([1.5, 1.5, 1.5], seededRandom(1)), { low: 1.5, high: 1.5 });
});

test('bootstrap interval of one value is that value; of none is NaN', () => {
  assert.deepEqual(bootstrapMedianInterval([2], seededRandom(1)), { low: 2, high: 2 });
  const none = bootstrapMedianInterval([], seededRandom(1));
  assert.ok(Number.isNaN(none.low) && Number.isNaN(none.high));
});

test('compareFigure: per-target medians, median of the rounds\' ratios, min–max, rounds without A left out', () => {
  const c = compareFigure([100, 200, 0, 100], [150, 260, 50, NaN]);
  assert.equal(c.a, 100); // median of 100, 200, 0, 100
  assert.equal(c.b, 150); // median of 150, 260, 50
  assert.equal(c.rounds, 2); // round 3 has A = 0, round 4 no B
  assert.equal(c.min, 1.3);
  assert.equal(c.max, 1.5);
  assert.equal(c.ratio, 1.4);
  assert.ok(c.low >= 1.3 && c.high <= 1.5);
});

test('compareFigure on a clear 2x difference: the interval excludes 1 and the verdict says B costs more', () => {
  const a = [50, 52, 49, 61, 48, 55];
  const b = a.map((x, i) => x * (2 + (i % 3) * 0.1));
  const c = compareFigure(a, b);
  assert.ok(c.low > 1.9 && c.high < 2.3, JSON.stringify(c));
  assert.match(verdictLine('serverCpuMicrosPerRequest', c), /^B costs 2\.\d\dx A per request \(server CPU\), 95 % interval 2\.\d\d–2\.\d\d$/);
});

test('verdict with an interval across 1 says there is no clear difference', () => {
  const c = compareFigure([100, 100, 100, 100, 100], [95, 104, 99, 102, 98]);
  assert.match(verdictLine('rps', c), /^no clear difference: B serves 0\.99x A's requests\/s, 95 % interval 0\.9\d–1\.0\d$/);
});

test('sliceOrder alternates which target goes first: A B B A A B', () => {
  assert.deepEqual(sliceOrder(3), ['A', 'B', 'B', 'A', 'A', 'B']);
});
