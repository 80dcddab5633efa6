// What /livez and /readyz answer, decided in one place for the supervisor's listener and the
// workers' --health-path. Readiness is what a balancer or Kubernetes routes by: false while herd
// starts, true while a worker serves, false again from the first moment of a stop (before any
// worker drains: --shutdown-delay keeps them serving while the balancer catches up).
export type ReadinessPhase = 'starting' | 'serving' | 'stopping';

export interface ReadinessState {
  phase: ReadinessPhase;
  /** Workers in a slot that are ready for connections. */
  readyWorkers: number;
}

export interface HealthAnswer {
  status: 200 | 503;
  body: string;
}

export function readinessAnswer(state: ReadinessState): HealthAnswer {
  if (state.phase === 'starting') return { status: 503, body: 'starting\n' };
  if (state.phase === 'stopping') return { status: 503, body: 'stopping\n' };
  if (state.readyWorkers === 0) return { status: 503, body: 'no worker ready\n' };
  return { status: 200, body: `ready: ${state.readyWorkers} worker${state.readyWorkers === 1 ? '' : 's'}\n` };
}

/** /livez: answered at all means the supervisor's event loop runs; that is all it claims. */
export const LIVE_ANSWER: HealthAnswer = { status: 200, body: 'live\n' };
