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
  const base = values.quick ? QUICK : DEFAULT;
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
  const lineup = expandModels({ models, peers: selected, workers, engines, dispatch });
  if (lineup.length === 0) throw new UsageError('nothing to run: --models and --peers select no server');

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
  console.log(`herd lab: ${plural(lineup.length, 'server')} × ${plural(modes.length, 'mode')} × ${plural(concurrency.length, 'concurrency level')} = ${plural(cells, 'cell')}, about ${formatDuration(plannedSeconds(lineup.length, settings))}`);
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
    const results = await runLab({ models: lineup, settings, notes, outDir, command: `herd lab ${argv.join(' ')}`.trim() }, abort.signal);
    console.log('');
    for (const f of results.summary) {
      console.log(`- ${f.thisRun} [${f.agrees === null ? 'cannot tell' : f.agrees ? 'agrees with the seed' : 'differs from the seed'}]`);
    }
    console.log('');
    for (const note of results.notes) console.log(`note: ${note}`);
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
