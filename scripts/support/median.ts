// The machine is shared and noisy: benchmarks measure in interleaved rounds and report medians, so
// one disturbed run does not decide.
export function median(values: readonly number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
