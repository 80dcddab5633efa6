// The herd experiment's servers as lab models, and what each one is.
import type { ServerModel } from '../models.ts';
import type { HerdServer } from './herd_results.ts';

export function herdModel(server: HerdServer, workers: number): ServerModel {
  const id = `${server}-w${workers}`;
  switch (server) {
    case 'herd-shared':
    case 'herd-reuseport':
    case 'herd-handoff':
      return { id, kind: 'pool', engine: 'fast', dispatch: server.slice('herd-'.length) as ServerModel['dispatch'], workers };
    case 'cluster-none':
      return { id, kind: 'cluster-none', engine: 'node', dispatch: null, workers };
    case 'nginx-exclusive':
      return { id, kind: 'nginx', engine: null, dispatch: null, workers };
    case 'nginx-accept-mutex':
    case 'nginx-reuseport':
      return { id, kind: server, engine: null, dispatch: null, workers };
    case 'threads':
      return { id, kind: 'threads', engine: 'fast', dispatch: null, workers };
  }
}

export const HERD_SERVER_DESCRIPTIONS: Record<HerdServer, string> = {
  'herd-shared': 'herd serve --dispatch shared: every worker polls the one listening socket (its own epoll, no EPOLLEXCLUSIVE)',
  'herd-reuseport': 'herd serve --dispatch reuseport: a SO_REUSEPORT socket per worker, the kernel picks one',
  'herd-handoff': 'herd serve --dispatch handoff: the supervisor alone accepts and passes each connection on',
  'cluster-none': "node's cluster, SCHED_NONE: the workers share the listening socket",
  'nginx-accept-mutex': 'nginx, accept_mutex on: only the lock holder has the socket in its epoll',
  'nginx-exclusive': 'nginx, accept_mutex off: the socket in every worker\'s epoll with EPOLLEXCLUSIVE',
  'nginx-reuseport': 'nginx, listen … reuseport: a socket per worker',
  threads: 'herd lab threads model: one process, a worker_thread per loop, a SO_REUSEPORT socket each',
};
