// The seed's conclusions (experiment 7 and the thundering-herd notes), each checked against this run's
// own numbers. A finding without the cells to decide it says so instead of guessing.
import type { DispatchMode } from '../config.ts';
import type { ServerModel } from './models.ts';
import type { CellResult, Finding, LabResults, LoadMode } from './results.ts';
import { findCell } from './results.ts';

/** Serial counts as competitive while it reaches this fraction of the best event-loop server. */
const COMPETITIVE = 0.8;
/** The pool has pulled ahead when it serves this many times the serial server's pages. */
const AHEAD = 1.25;

const pages = (n: number) => `${Math.round(n).toLocaleString('en-US')} pages/min`;
const pct = (n: number) => `${Math.round(n * 100)}%`;
const clients = (n: number) => `${n} client${n === 1 ? '' : 's'}`;

type Run = Pick<LabResults, 'cells' | 'models' | 'settings'>;

/** The mode the seed measured (connection per request) when this run has it. */
function seedMode(run: Run): LoadMode {
  return run.settings.modes.includes('close') ? 'close' : run.settings.modes[0];
}

function best(run: Run, models: ServerModel[], mode: LoadMode, concurrency: number): CellResult | undefined {
  let top: CellResult | undefined;
  for (const m of models) {
    const cell = findCell(run, m.id, mode, concurrency);
    if (cell && (!top || cell.pagesPerMin > top.pagesPerMin)) top = cell;
  }
  return top;
}

function serialCompetitive(run: Run, mode: LoadMode): Finding {
  const seed = 'At 1 to 5 clients the serial server keeps up with the process pool (2 cores: 1,035,516 pages/min at 5 clients against 757,842 for a 1-process pool).';
  const eventLoop = run.models.filter((m) => m.kind === 'single' || m.kind === 'pool');
  const ratios: Array<{ c: number; ratio: number; serial: CellResult; top: CellResult }> = [];
  for (const c of run.settings.concurrency) {
    const serial = findCell(run, 'serial', mode, c);
    const top = best(run, eventLoop, mode, c);
    if (serial && top && top.pagesPerMin > 0) ratios.push({ c, ratio: serial.pagesPerMin / top.pagesPerMin, serial, top });
  }
  if (ratios.length === 0) return { seed, thisRun: 'not measured: needs serial and an event-loop model (single or pool) at the same concurrency', agrees: null };
  const first = ratios[0];
  let upTo: number | null = null;
  for (const r of ratios) {
    if (r.ratio < COMPETITIVE) break;
    upTo = r.c;
  }
  const reach =
    upTo === null
      ? `it is below ${pct(COMPETITIVE)} from the lowest concurrency on`
      : `it stays within ${pct(COMPETITIVE)} of the best up to ${clients(upTo)}`;
  return {
    seed,
    thisRun: `At ${clients(first.c)} serial serves ${pages(first.serial.pagesPerMin)}, ${pct(first.ratio)} of the best event-loop server (${first.top.model}, ${pages(first.top.pagesPerMin)}); ${reach}.`,
    agrees: first.ratio >= COMPETITIVE,
  };
}

function poolPullsAhead(run: Run, mode: LoadMode): Finding {
  const seed = 'From about 10 clients on the serial server falls to a third of its best (129,270 to 38,316 pages/min) while the pool holds its rate: the pool pulls ahead.';
  // The seed's pool with one process is an event loop behind a master; `single` is the same without it.
  const pools = run.models.filter((m) => m.kind === 'pool' || m.kind === 'single');
  let last: { c: number; ratio: number; serial: CellResult; top: CellResult } | undefined;
  for (const c of run.settings.concurrency) {
    const serial = findCell(run, 'serial', mode, c);
    const top = best(run, pools, mode, c);
    if (!serial || !top) continue;
    const ratio = serial.pagesPerMin > 0 ? top.pagesPerMin / serial.pagesPerMin : Infinity;
    last = { c, ratio, serial, top };
    if (ratio >= AHEAD) {
      return {
        seed,
        thisRun: `The event-loop servers pull ahead at ${clients(c)}: ${top.model} serves ${pages(top.pagesPerMin)} against serial's ${pages(serial.pagesPerMin)} (${Number.isFinite(ratio) ? ratio.toFixed(1) : '∞'}×).`,
        agrees: true,
      };
    }
  }
  if (!last) return { seed, thisRun: 'not measured: needs serial and a pool (or single) at the same concurrency', agrees: null };
  return {
    seed,
    thisRun: `No pool or single server reaches ${AHEAD}× serial; at ${clients(last.c)} ${last.top.model} serves ${pages(last.top.pagesPerMin)} against serial's ${pages(last.serial.pagesPerMin)}.`,
    agrees: false,
  };
}

function twoWorkersHelp(run: Run, mode: LoadMode): Finding {
  const seed = 'On 2 cores a 2-process pool beats a 1-process pool only under high concurrency (2,000 clients: 157,794 against 117,570 pages/min); at low concurrency it gains nothing.';
  const pools = run.models.filter((m) => m.kind === 'pool');
  const most = Math.max(0, ...pools.map((m) => m.workers));
  const one = pools.filter((m) => m.workers === 1);
  const many = pools.filter((m) => m.workers === most && most > 1);
  const levels = run.settings.concurrency.filter((c) => best(run, one, mode, c) && best(run, many, mode, c));
  if (levels.length === 0) return { seed, thisRun: 'not measured: needs pools with 1 and with more workers', agrees: null };
  const compare = (c: number) => {
    const a = best(run, one, mode, c)!;
    const b = best(run, many, mode, c)!;
    return { a, b, ratio: a.pagesPerMin > 0 ? b.pagesPerMin / a.pagesPerMin : Infinity };
  };
  const high = compare(levels[levels.length - 1]);
  const low = compare(levels[0]);
  const text = (c: number, r: ReturnType<typeof compare>) =>
    `at ${clients(c)} ${r.b.model} serves ${pages(r.b.pagesPerMin)} against ${r.a.model}'s ${pages(r.a.pagesPerMin)} (${r.ratio.toFixed(2)}×)`;
  return {
    seed,
    thisRun: `With ${most} workers against 1: ${text(levels[levels.length - 1], high)}; ${text(levels[0], low)}.`,
    agrees: high.ratio > 1.05 && (levels.length === 1 || low.ratio < high.ratio),
  };
}

/** Mean of a metric over a dispatch mode's multi-worker pool cells. */
function byDispatch(run: Run, value: (c: CellResult) => number | null): Map<DispatchMode, number> {
  const sums = new Map<DispatchMode, { sum: number; n: number }>();
  for (const model of run.models) {
    if (model.kind !== 'pool' || model.workers < 2 || !model.dispatch) continue;
    for (const cell of run.cells) {
      if (cell.model !== model.id) continue;
      const v = value(cell);
      if (v === null || !Number.isFinite(v)) continue;
      const s = sums.get(model.dispatch) ?? { sum: 0, n: 0 };
      s.sum += v;
      s.n++;
      sums.set(model.dispatch, s);
    }
  }
  return new Map([...sums].map(([d, s]) => [d, s.sum / s.n]));
}

function ranked(means: Map<DispatchMode, number>): Array<[DispatchMode, number]> {
  return [...means].sort((a, b) => b[1] - a[1]);
}

function whichHerds(run: Run): Finding {
  const seed = 'A listening socket that every worker waits on wakes them all for each connection; all but one find nothing to accept (the thundering herd). herd\'s `shared` dispatch is that design.';
  const traced = byDispatch(run, (c) => c.trace?.failedAcceptsPerConnection ?? null);
  const [means, what, fmt] =
    traced.size > 0
      ? [traced, 'failed (EAGAIN) accepts per connection, counted by strace', (n: number) => n.toFixed(2)]
      : [byDispatch(run, (c) => c.voluntarySwitchesPerRequest), 'voluntary context switches per request (wake-ups; run with --trace to count failed accepts)', (n: number) => n.toFixed(2)];
  if (means.size < 2) return { seed, thisRun: 'not measured: needs pools of 2 or more workers in two dispatch modes or more', agrees: null };
  const order = ranked(means);
  return {
    seed,
    thisRun: `Most ${what}: ${order.map(([d, v]) => `${d} ${fmt(v)}`).join(', ')} (mean over the multi-worker pool cells); \`${order[0][0]}\` herds the most.`,
    agrees: order[0][0] === 'shared',
  };
}

function whichFairest(run: Run): Finding {
  const seed = "The seed's pool hands connections to its workers round-robin, so each gets an even share; a shared socket gives them to whichever worker wakes first (unfair, worst with sequential clients).";
  const means = byDispatch(run, (c) => c.workerShare?.maxShare ?? null);
  if (means.size < 2) return { seed, thisRun: 'not measured: needs pools of 2 or more workers in two dispatch modes or more', agrees: null };
  const order = ranked(means);
  const fairest = order[order.length - 1];
  return {
    seed,
    thisRun: `Busiest worker's mean share of the load: ${order.map(([d, v]) => `${d} ${pct(v)}`).join(', ')}; \`${fairest[0]}\` is the fairest, \`${order[0][0]}\` the least fair.`,
    agrees: order[0][0] === 'shared' && fairest[0] !== 'shared',
  };
}

export function summarize(run: Run): Finding[] {
  const mode = seedMode(run);
  return [serialCompetitive(run, mode), poolPullsAhead(run, mode), twoWorkersHelp(run, mode), whichHerds(run), whichFairest(run)];
}
