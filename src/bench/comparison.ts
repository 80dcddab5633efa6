// `herd bench --vs`: two targets loaded in turn, in slices A B B A A B …, with the same options
// (connections, threads, mode, request), so that the machine's drift touches both alike. Each
// pair of neighbouring slices is a round; every figure is compared as B/A within rounds
// (slice_stats.ts). With server pids, each slice is bracketed by /proc readings of that target's
// process trees.
import { runResolved } from './runner.ts';
import { compareFigure } from './slice_stats.ts';
import { withServerUsage } from './server_usage.ts';
import type { ResolvedBench } from './options.ts';
import type { BenchResult } from './result.ts';
import type { FigureComparison } from './slice_stats.ts';
import type { ServerUsage } from './server_usage.ts';

export type TargetLabel = 'A' | 'B';

export interface ComparisonTarget {
  run: ResolvedBench;
  /** Roots of the process trees serving this target; empty when not measured. */
  serverPids: number[];
}

export interface ComparisonPlan {
  a: ComparisonTarget;
  b: ComparisonTarget;
  /** Slices of each target (so 2 × slices in all, `slices` rounds). */
  slices: number;
  /** Unmeasured load of each target before the first slice (JIT, connection set-up). */
  warmupSec: number;
  /** Wait after each slice's load before the server's CPU is read (work it finishes after the last reply). */
  settleMs?: number;
}

export interface Slice {
  target: TargetLabel;
  /** 0-based round this slice belongs to (its neighbour of the other target is in it too). */
  round: number;
  result: BenchResult;
  server: ServerUsage | null;
}

export const FIGURES = ['rps', 'latencyP50Ms', 'latencyP99Ms', 'serverCpuMicrosPerRequest', 'serverRssBytes'] as const;
export type Figure = (typeof FIGURES)[number];

export interface ComparisonResult {
  a: { url: string; serverPids: number[] };
  b: { url: string; serverPids: number[] };
  slices: Slice[];
  figures: Record<Figure, FigureComparison>;
  /** The figure the verdict judges: server CPU per request when measured, else requests/s. */
  judgedOn: Figure;
  verdict: string;
}

/** Which target each slice of a round loads: A B, then B A, so neither always goes first. */
export function sliceOrder(rounds: number): TargetLabel[] {
  const order: TargetLabel[] = [];
  for (let round = 0; round < rounds; round++) order.push(...(round % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)));
  return order;
}

function figureOf(slice: Slice, figure: Figure): number {
  switch (figure) {
    case 'rps': return slice.result.rps;
    case 'latencyP50Ms': return slice.result.latencyMs.p50;
    case 'latencyP99Ms': return slice.result.latencyMs.p99;
    case 'serverCpuMicrosPerRequest': return slice.server?.cpuMicrosPerRequest ?? NaN;
    case 'serverRssBytes': return slice.server?.rssBytes ?? NaN;
  }
}

function interval(c: FigureComparison): string {
  return `95 % interval ${c.low.toFixed(2)}–${c.high.toFixed(2)}`;
}

/** One line a user can act on: which is more costly (or faster), by how much, and how sure. */
export function verdictLine(figure: Figure, c: FigureComparison): string {
  if (!Number.isFinite(c.ratio)) return 'no verdict: no round measured both targets';
  const clear = c.low > 1 || c.high < 1;
  const what = figure === 'serverCpuMicrosPerRequest'
    ? `B costs ${c.ratio.toFixed(2)}x A per request (server CPU)`
    : `B serves ${c.ratio.toFixed(2)}x A's requests/s`;
  const rounds = c.rounds < 5 ? `; only ${c.rounds} round${c.rounds === 1 ? '' : 's'}, give more --slices for a tighter interval` : '';
  return `${clear ? '' : 'no clear difference: '}${what}, ${interval(c)}${rounds}`;
}

/** Every figure compared over the slices, and the verdict. */
export function summarise(plan: ComparisonPlan, slices: Slice[]): ComparisonResult {
  const rounds = plan.slices;
  const figures = {} as Record<Figure, FigureComparison>;
  for (const figure of FIGURES) {
    const a = new Array<number>(rounds).fill(NaN);
    const b = new Array<number>(rounds).fill(NaN);
    for (const slice of slices) (slice.target === 'A' ? a : b)[slice.round] = figureOf(slice, figure);
    figures[figure] = compareFigure(a, b);
  }
  const measured = plan.a.serverPids.length > 0 && plan.b.serverPids.length > 0;
  const judgedOn: Figure = measured ? 'serverCpuMicrosPerRequest' : 'rps';
  return {
    a: { url: plan.a.run.url, serverPids: plan.a.serverPids },
    b: { url: plan.b.run.url, serverPids: plan.b.serverPids },
    slices,
    figures,
    judgedOn,
    verdict: verdictLine(judgedOn, figures[judgedOn]),
  };
}

async function loadSlice(target: ComparisonTarget, settleMs: number): Promise<{ result: BenchResult; server: ServerUsage | null }> {
  if (target.serverPids.length === 0) return { result: await runResolved(target.run), server: null };
  return withServerUsage(target.serverPids, () => runResolved(target.run), (r) => r.requests.succeeded, settleMs);
}

/** Runs the slices in turn; `onSlice` sees each as it finishes (the human report prints it). */
export async function runComparison(plan: ComparisonPlan, onSlice?: (slice: Slice) => void): Promise<ComparisonResult> {
  if (plan.warmupSec > 0) {
    for (const target of [plan.a, plan.b]) await runResolved({ ...target.run, requests: 0, durationSec: plan.warmupSec, warmupSec: 0 });
  }
  const slices: Slice[] = [];
  const order = sliceOrder(plan.slices);
  for (let i = 0; i < order.length; i++) {
    const label = order[i];
    const { result, server } = await loadSlice(label === 'A' ? plan.a : plan.b, plan.settleMs ?? 0);
    const slice: Slice = { target: label, round: i >> 1, result, server };
    slices.push(slice);
    onSlice?.(slice);
  }
  return summarise(plan, slices);
}
