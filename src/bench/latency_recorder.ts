// A load thread's latency histogram. Every request records its latency, so recording is on the
// hot path: hdr-histogram-js's recordValue costs a log2, two pow and a handful of calls per value,
// several times what the rest of the bookkeeping of a request costs. Latencies under
// DENSE_LIMIT_MICROS (nearly all of them) are counted in a plain array indexed by the value itself
// and handed to the HDR histogram once, value by value with their counts, when the thread reports:
// the same histogram as recording each one, bucket for bucket.
import * as hdr from 'hdr-histogram-js';

/** 65.5 ms: latencies at or above go to the HDR histogram at once. */
const DENSE_LIMIT_MICROS = 1 << 16;

export function newHistogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 32, autoResize: true, numberOfSignificantValueDigits: 3 });
}

export class LatencyRecorder {
  private readonly dense = new Float64Array(DENSE_LIMIT_MICROS);
  private readonly histogram = newHistogram();

  /** One latency in whole microseconds (>= 1). */
  record(micros: number): void {
    if (micros < DENSE_LIMIT_MICROS) this.dense[micros]++;
    else this.histogram.recordValue(micros);
  }

  reset(): void {
    this.dense.fill(0);
    this.histogram.reset();
  }

  /** Everything recorded, as HDR compressed base64 (mergeable across threads). */
  encode(): string {
    const dense = this.dense;
    for (let micros = 0; micros < DENSE_LIMIT_MICROS; micros++) {
      if (dense[micros] > 0) this.histogram.recordValueWithCount(micros, dense[micros]);
    }
    dense.fill(0);
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }
}
