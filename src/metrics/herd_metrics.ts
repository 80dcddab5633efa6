// The supervisor's half of --metrics: each worker's latest report, and per slot the counters of the
// workers that held it before (a respawned or reloaded worker starts from zero; the herd's counters do
// not). What a worker answered after its last report and before a kill -9 is the only thing lost.
import { addCounters, emptySnapshot, type MetricsSnapshot } from './snapshot.ts';

/** A worker whose last report is older than this is reported as not up (stopped, or its loop is stuck). */
export const STALE_AFTER_MS = 3000;

interface LiveReport {
  slot: number;
  pid: number;
  at: number;
  snapshot: MetricsSnapshot;
}

export interface SlotView {
  slot: number;
  /** Counters of every worker that held the slot, the current one included. */
  totals: MetricsSnapshot;
  /** The current worker's own report, if it has sent one. */
  current: { pid: number; up: boolean; snapshot: MetricsSnapshot } | null;
}

export class HerdMetrics {
  private readonly retired = new Map<number, MetricsSnapshot>();
  private readonly live = new Map<number, LiveReport>();

  report(slot: number, pid: number, snapshot: MetricsSnapshot, now = Date.now()): void {
    this.live.set(pid, { slot, pid, at: now, snapshot });
  }

  /** A live worker's latest report. */
  latest(pid: number): MetricsSnapshot | undefined {
    return this.live.get(pid)?.snapshot;
  }

  /** The worker is gone: its last counters stay with its slot. */
  exited(pid: number): void {
    const last = this.live.get(pid);
    if (!last) return;
    this.live.delete(pid);
    let retired = this.retired.get(last.slot);
    if (!retired) this.retired.set(last.slot, (retired = emptySnapshot()));
    addCounters(retired, last.snapshot);
  }

  slots(now = Date.now()): SlotView[] {
    const slots = new Set<number>([...this.retired.keys(), ...[...this.live.values()].map((r) => r.slot)]);
    return [...slots].sort((a, b) => a - b).map((slot) => {
      const totals = emptySnapshot();
      const retired = this.retired.get(slot);
      if (retired) addCounters(totals, retired);
      // During a reload a slot has two workers for a moment: both count, the newest is the current one.
      let current: SlotView['current'] = null;
      for (const r of this.live.values()) {
        if (r.slot !== slot) continue;
        addCounters(totals, r.snapshot);
        if (current === null || r.pid !== current.pid) current = { pid: r.pid, up: now - r.at <= STALE_AFTER_MS, snapshot: r.snapshot };
      }
      return { slot, totals, current };
    });
  }
}
