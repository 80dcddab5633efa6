// The machine is shared and noisy: benchmarks measure in interleaved rounds and report medians, so
// one disturbed run does not decide. The median is herd bench --vs's own (one implementation).
import { median } from '../../src/bench/slice_stats.ts';

export { median };

export interface RoundRow {
  server: string;
  rps: number;
  cpuPerRequest: number;
  errors: number;
}

/** `count` rounds, each measuring every server once, in order: interleaved, so that drift touches all alike. */
export async function measureRounds<M, T>(count: number, servers: readonly M[], measure: (server: M) => Promise<T>): Promise<T[][]> {
  const rounds: T[][] = [];
  for (let round = 0; round < count; round++) {
    const rows: T[] = [];
    for (const server of servers) rows.push(await measure(server));
    rounds.push(rows);
  }
  return rounds;
}

/** One row per server, in the order of the first round: medians of its rounds, errors summed, the rest from the first. */
export function medianRows<T extends RoundRow>(rounds: T[][]): T[] {
  return rounds[0].map((first, k) => {
    const runs = rounds.map((round) => round[k]);
    return {
      ...first,
      rps: median(runs.map((r) => r.rps)),
      cpuPerRequest: median(runs.map((r) => r.cpuPerRequest)),
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
    };
  });
}
