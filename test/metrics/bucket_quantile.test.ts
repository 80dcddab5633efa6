import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketQuantile } from '../../src/metrics/bucket_quantile.ts';

test('quantiles interpolate inside the bucket the rank falls in', () => {
  const bounds = [0.01, 0.1, 1];
  assert.equal(bucketQuantile([0, 0, 0, 0], 0.5, bounds), null);
  assert.equal(bucketQuantile([10, 0, 0, 0], 0.5, bounds), 0.005); // half of the first bucket
  assert.ok(Math.abs(bucketQuantile([50, 50, 0, 0], 0.75, bounds)! - 0.055) < 1e-12); // halfway into (0.01, 0.1]
  assert.equal(bucketQuantile([0, 0, 0, 5], 0.99, bounds), 1); // +Inf answers the largest finite bound
  assert.equal(bucketQuantile([99, 0, 1, 0], 0.99, bounds), 0.01);
});
