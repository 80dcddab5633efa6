import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as hdr from 'hdr-histogram-js';
import { LatencyRecorder, newHistogram } from '../../src/bench/latency_recorder.ts';

/** Latencies across the dense range, its edge and far beyond it, some repeated. */
function latencies(): number[] {
  const values = [1, 1, 2, 999, 2047, 2048, 2049, 4097, 65_535, 65_536, 65_537, 1_000_000, 60_000_000];
  let seed = 7;
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    values.push(1 + (seed % 200_000));
  }
  return values;
}

test('the recorder yields the histogram of recording every latency directly, bucket for bucket', () => {
  const direct = newHistogram();
  const recorder = new LatencyRecorder();
  for (const micros of latencies()) {
    direct.recordValue(micros);
    recorder.record(micros);
  }
  const encoded = recorder.encode();
  assert.equal(encoded, hdr.encodeIntoCompressedBase64(direct));
  const decoded = hdr.decodeFromCompressedBase64(encoded, 32, false);
  assert.equal(decoded.totalCount, latencies().length);
  for (const p of [1, 50, 99.99, 100]) assert.equal(decoded.getValueAtPercentile(p), direct.getValueAtPercentile(p), `p${p}`);
});

test('reset forgets what was recorded (warm-up), dense and beyond', () => {
  const recorder = new LatencyRecorder();
  recorder.record(10);
  recorder.record(10_000_000);
  recorder.reset();
  recorder.record(500);
  const decoded = hdr.decodeFromCompressedBase64(recorder.encode(), 32, false);
  assert.equal(decoded.totalCount, 1);
  assert.equal(decoded.maxValue, 500);
});
