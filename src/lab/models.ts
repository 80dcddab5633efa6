// The servers a lab run compares: the seed's models and the peers, expanded into one entry per
// engine, dispatch mode and worker count.
import { DISPATCH_MODES, ENGINES, type DispatchMode, type EngineName } from '../config.ts';

export const MODEL_KINDS = ['serial', 'single', 'pool'] as const;
export const PEER_KINDS = ['cluster-rr', 'cluster-none', 'nginx'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export type PeerKind = (typeof PEER_KINDS)[number];
/** Only the herd experiment runs these (the default matrix is unchanged by them). */
export const EXPERIMENT_KINDS = ['nginx-accept-mutex', 'nginx-reuseport', 'threads'] as const;
export type ExperimentKind = (typeof EXPERIMENT_KINDS)[number];
export type ServerKind = ModelKind | PeerKind | ExperimentKind;

export interface ServerModel {
  /** Unique and stable: the row name in every table, e.g. `pool-shared-fast-w2`. */
  id: string;
  kind: ServerKind;
  /** herd's engine; `node` for node's cluster; null for serial and nginx. */
  engine: EngineName | null;
  /** herd's dispatch mode (pool only). */
  dispatch: DispatchMode | null;
  /** Processes that serve requests. */
  workers: number;
}

export interface ModelSelection {
  models: readonly ModelKind[];
  peers: readonly PeerKind[];
  workers: readonly number[];
  engines: readonly EngineName[];
  dispatch: readonly DispatchMode[];
}

export function expandModels(selection: ModelSelection): ServerModel[] {
  const out: ServerModel[] = [];
  const engines = ENGINES.filter((e) => selection.engines.includes(e));
  const modes = DISPATCH_MODES.filter((d) => selection.dispatch.includes(d));
  if (selection.models.includes('serial')) out.push({ id: 'serial', kind: 'serial', engine: null, dispatch: null, workers: 1 });
  if (selection.models.includes('single')) {
    for (const engine of engines) out.push({ id: `single-${engine}`, kind: 'single', engine, dispatch: null, workers: 1 });
  }
  if (selection.models.includes('pool')) {
    for (const dispatch of modes) {
      for (const engine of engines) {
        for (const workers of selection.workers) {
          out.push({ id: `pool-${dispatch}-${engine}-w${workers}`, kind: 'pool', engine, dispatch, workers });
        }
      }
    }
  }
  for (const peer of PEER_KINDS.filter((p) => selection.peers.includes(p))) {
    for (const workers of selection.workers) {
      out.push({ id: `${peer}-w${workers}`, kind: peer, engine: peer === 'nginx' ? null : 'node', dispatch: null, workers });
    }
  }
  return out;
}

/** What each kind is, for the report's legend. */
export const KIND_DESCRIPTIONS: Record<ServerKind, string> = {
  serial: 'one connection at a time, end to end (the seed\'s blocking server)',
  single: 'one event-loop process, no supervisor',
  pool: 'herd serve: supervisor and N workers',
  'cluster-rr': "node's cluster, SCHED_RR (the primary accepts and hands out connections)",
  'cluster-none': "node's cluster, SCHED_NONE (the workers share the listening socket)",
  nginx: 'nginx, N worker processes (accept_mutex off: EPOLLEXCLUSIVE on Linux 4.5+)',
  'nginx-accept-mutex': 'nginx, N worker processes, accept_mutex on (one worker at a time polls the socket)',
  'nginx-reuseport': 'nginx, N worker processes, listen … reuseport (a socket per worker)',
  threads: 'one process, N worker_threads, each its own event loop and SO_REUSEPORT socket, fast engine',
};
