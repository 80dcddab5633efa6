// `herd lab`: the seed's serial vs multi-process experiments as one command. Parses the flags, runs
// the matrix (src/lab/), writes results.json, results.md and report.html, prints the summary.
import path from 'node:path';
import { DISPATCH_MODES, ENGINES, parseChoice, parseCount, parsePort, parseSeconds, type DispatchMode, type EngineName } from '../config.ts';
import { HerdError, UsageError } from '../errors.ts';
import { runLab, OUTPUT_FILES } from '../lab/lab_run.ts';
import { expandModels, MODEL_KINDS, PEER_KINDS, type ModelKind, type PeerKind } from '../lab/models.ts';
import { findNginx } from '../lab/nginx_config.ts';
import { freePort, assertPortFree } from '../lab/ports.ts';
import { killAllGroupsNow, stopAllGroups } from '../lab/process_group.ts';
import { formatDuration } from '../lab/progress.ts';
import { plannedSeconds } from '../lab/matrix.ts';
import { LOAD_MODES, type LabSettings, type LoadMode } from '../lab/results.ts';
import { straceAvailable } from '../lab/syscall_trace.ts';
import { herdPlannedSeconds } from '../lab/herd/experiment.ts';
import { HERD_LOADS, HERD_SERVERS, type HerdLoad, type HerdServer, type HerdSettings } from '../lab/herd/herd_results.ts';
import { parseCommandLine } from './arguments.ts';

/** The seed's columns (experiment 7). */
const SEED_CONCURRENCY = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 2500, 3000];

const USAGE = `usage: herd lab [options]

Runs every server model at every concurrency with herd bench, probes /proc, and writes
results.json, results.md and report.html into --out.

  --models LIST        serial,single,pool (default: all three)
  --peers LIST         cluster-rr,cluster-none,nginx, or none (default: all; nginx only when installed)
  --workers LIST       worker counts of pool and peers (default: 1,2)
  --engines LIST       fast,node (default: both)
  --dispatch LIST      reuseport,shared,handoff (default: all three)
  --concurrency LIST   clients per cell (default: ${SEED_CONCURRENCY.join(',')})
  --duration SEC       seconds of load per cell (default: 5)
  --mode MODE          close | keep-alive | both (default: both)
  --trace              also count accept calls and EAGAIN accepts per connection with strace
  --experiment NAME    matrix (the default), herd (the thundering herd alone), or all (both, one report)

The herd experiment (--experiment herd|all): every server at every worker count under two loads,
wake-ups per connection counted by the kernel (perf as root, strace otherwise), CPU and latency;
the seed's C demonstrations (needs cc); the threads model against the process pool.
  --servers LIST       ${HERD_SERVERS.join(',')} (default: all)
  --workers LIST       here the worker counts of every server (default: 1,2,4,8,16)
  --loads LIST         sequential,burst (default: both)
  --connections N      sequential connections per run (default: 150)
  --bursts N           bursts of 100 simultaneous connects per run (default: 3)
  --quick              here: workers 1,4, 40 sequential connections, 1 burst, 1 threads round
  --quick              about a minute: serial, single and pool (2 workers, fast engine) and nginx
                       at 1, 10 and 100 clients, 1 s each, close mode (explicit options still win)
  --host HOST          address the servers listen on (default: 127.0.0.1)
  --port PORT          port the servers listen on (default: a free one)
  --out DIR            where the three files go (default: herd-lab-results)
  -h, --help           this text

LISTs are separated by commas or spaces.`;

/** About a minute: the seed's three models and nginx, 2 workers, fast engine, three concurrency levels. */
const QUICK = {
  models: 'serial,single,pool',
  peers: 'nginx',
  workers: '2',
  engines: 'fast',
  concurrency: '1,10,100',
  duration: '1',
  mode: 'close',
};

const HERD_DEFAULT = { workers: '1,2,4,8,16', connections: '150', bursts: '3', threadsWorkers: [2, 4], threadsRounds: 2, threadsSeconds: 2 };
const HERD_QUICK = { workers: '1,4', connections: '40', bursts: '1', threadsWorkers: [2], threadsRounds: 1, threadsSeconds: 1 };
const BURST_SIZE = 100;

const DEFAULT = {
  models: MODEL_KINDS.join(','),
  peers: PEER_KINDS.join(','),
  workers: '1,2',
  engines: ENGINES.join(','),
  concurrency: SEED_CONCURRENCY.join(','),
  duration: '5',
  mode: 'both',
};

function list(value: string): string[] {
  return value.split(/[\s,]+/).filter((s) => s !== '');
}

function choices<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const picked = list(value).map((v) => parseChoice(v, allowed, flag));
  if (picked.length === 0) throw new UsageError(`${flag} needs at least one of ${allowed.join(', ')}`);
  return [...new Set(picked)];
}

function counts(value: string, flag: string, max: number): number[] {
  const picked = list(value).map((v) => parseCount(v, flag, 1));
  if (picked.length === 0) throw new UsageError(`${flag} needs at least one number`);
  for (const n of picked) if (n > max) throw new UsageError(`${flag} values must be at most ${max}, not ${n}`);
  return [...new Set(picked)].sort((a, b) => a - b);
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    'lab',
    argv,
    {
      models: { type: 'string' },
      peers: { type: 'string' },
      workers: { type: 'string' },
      engines: { type: 'string' },
      dispatch: { type: 'string', default: DISPATCH_MODES.join(',') },
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      mode: { type: 'string' },
      trace: { type: 'boolean', default: false },
      experiment: { type: 'string', default: 'matrix' },
      servers: { type: 'string' },
      loads: { type: 'string' },
      connections: { type: 'string' },
      bursts: { type: 'string' },
      quick: { type: 'boolean', default: false },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      out: { type: 'string', default: 'herd-lab-results' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    false,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const experiment = parseChoice(values.experiment, ['matrix', 'herd', 'all'] as const, '--experiment');
  const base = values.quick ? QUICK : DEFAULT;
  const herdBase = values.quick ? HERD_QUICK : HERD_DEFAULT;
  let herd: HerdSettings | undefined;
  if (experiment !== 'matrix') {
    herd = {
      workers: counts(experiment === 'herd' ? (values.workers ?? herdBase.workers) : herdBase.workers, '--workers', 64),
      servers: choices(values.servers ?? HERD_SERVERS.join(','), HERD_SERVERS, '--servers') as HerdServer[],
      loads: choices(values.loads ?? HERD_LOADS.join(','), HERD_LOADS, '--loads') as HerdLoad[],
      sequentialConnections: parseCount(values.connections ?? herdBase.connections, '--connections', 1),
      bursts: parseCount(values.bursts ?? herdBase.bursts, '--bursts', 1),
      burstSize: BURST_SIZE,
      threadsWorkers: herdBase.threadsWorkers,
      threadsRounds: herdBase.threadsRounds,
      threadsSeconds: herdBase.threadsSeconds,
    };
  }
  const models = choices(values.models ?? base.models, MODEL_KINDS, '--models') as ModelKind[];
  const peersValue = values.peers ?? base.peers;
  const peers = peersValue === 'none' ? [] : (choices(peersValue, PEER_KINDS, '--peers') as PeerKind[]);
  const workers = counts(values.workers ?? base.workers, '--workers', 64);
  const engines = choices(values.engines ?? base.engines, ENGINES, '--engines') as EngineName[];
  const dispatch = choices(values.dispatch, DISPATCH_MODES, '--dispatch') as DispatchMode[];
  const concurrency = counts(values.concurrency ?? base.concurrency, '--concurrency', 20_000);
  const durationSec = parseSeconds(values.duration ?? base.duration, '--duration');
  if (durationSec < 1) throw new UsageError('--duration must be at least 1 second');
  const modeValue = parseChoice(values.mode ?? base.mode, [...LOAD_MODES, 'both'] as const, '--mode');
  const modes: LoadMode[] = modeValue === 'both' ? [...LOAD_MODES] : [modeValue];
  if (values.trace && !straceAvailable()) throw new HerdError('--trace needs strace (apt-get install strace)', 'ENOSTRACE');

  const notes: string[] = [];
  const selected = peers.filter((p) => p !== 'nginx' || findNginx() !== null);
  if (selected.length < peers.length) notes.push('nginx: skipped, not installed (apt-get install nginx-light to add it)');
  const lineup = experiment === 'herd' ? [] : expandModels({ models, peers: selected, workers, engines, dispatch });
  if (lineup.length === 0 && experiment !== 'herd') throw new UsageError('nothing to run: --models and --peers select no server');

  const host = values.host;
  let port: number;
  if (values.port !== undefined) {
    port = parsePort(values.port);
    await assertPortFree(host, port);
  } else {
    port = await freePort(host);
  }
  const settings: LabSettings = { concurrency, modes, durationSec, workers, trace: values.trace, host, port };
  const outDir = path.resolve(values.out);
  const cells = lineup.length * modes.length * concurrency.length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (lineup.length > 0) console.log(`herd lab: ${plural(lineup.length, 'server')} × ${plural(modes.length, 'mode')} × ${plural(concurrency.length, 'concurrency level')} = ${plural(cells, 'cell')}, about ${formatDuration(plannedSeconds(lineup.length, settings))}`);
  if (herd) console.log(`herd lab: the herd experiment, ${plural(herd.servers.length, 'server')} × ${plural(herd.workers.length, 'worker count')} × ${plural(herd.loads.length, 'load')}, then the demonstrations and threads against processes, about ${formatDuration(herdPlannedSeconds(herd))}`);
  for (const note of notes) console.log(`herd lab: ${note}`);

  // Ctrl-C: stop the load and every server, then write what finished.
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) return;
    console.error('\nherd lab: interrupted, stopping every process it started');
    abort.abort(new HerdError('interrupted', 'EINTR', 130));
    void stopAllGroups();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllGroupsNow);
  try {
    const results = await runLab({ models: lineup, settings, notes, outDir, command: `herd lab ${argv.join(' ')}`.trim(), herd }, abort.signal);
    console.log('');
    for (const f of [...results.summary, ...(results.herd?.summary ?? [])]) {
      console.log(`- ${f.thisRun} [${f.agrees === null ? 'cannot tell' : f.agrees ? 'agrees with the seed' : 'differs from the seed'}]`);
    }
    console.log('');
    for (const note of [...results.notes, ...(results.herd?.notes ?? [])]) console.log(`note: ${note}`);
    const shown = path.relative(process.cwd(), outDir);
    const dir = shown === '' ? '.' : shown.startsWith('..') ? outDir : shown;
    console.log(`herd lab: wrote ${OUTPUT_FILES.map((f) => path.join(dir, f)).join(', ')}`);
    return results.complete ? 0 : 130;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killAllGroupsNow);
    await stopAllGroups();
  }
}
