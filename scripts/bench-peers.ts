// npm run bench:peers — the same Express app (it calls app.listen(PORT) itself) under herd
// (reuseport, handoff), PM2 cluster mode and node's cluster (SCHED_RR, SCHED_NONE), 2 workers each,
// in one run with interleaved rounds. Per server: CPU µs per request of its whole process tree
// (utime+stime from /proc) keep-alive and connection-per-request, requests/s, RSS of the tree,
// and the failed requests across a rolling reload under connection-per-request load. herd runs
// compiled (npm run build first), as installed, like the peers' plain JavaScript.
// Then herd reuseport and each node cluster side by side, keep-alive, through herd bench --vs.
// Environment: BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 50), BENCH_ROUNDS (default 3),
// BENCH_AB_SLICES (slice pairs of the side-by-side runs, default 12).
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTree, treeCpuMicros } from '../src/lab/process_cpu.ts';
import { freePort } from '../src/lab/ports.ts';
import { spawnGroup, stopGroup } from '../src/lab/process_group.ts';
import type { ComparisonResult } from '../src/bench/comparison.ts';
import { compareFigure } from '../src/bench/slice_stats.ts';
import { median } from './support/median.ts';
import { requireWrk, runWrk } from './support/wrk.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const HOST = '127.0.0.1';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const APP = path.join(ROOT, 'test/fixtures/apps/express_hello.js');
const NODE = process.execPath;
const HERD_DIST = path.join(ROOT, 'dist/cli/herd.js');

interface Peer {
  id: string;
  start(port: number, dir: string): ChildProcess;
  /** Starts a rolling reload of the running server. */
  reload(child: ChildProcess, dir: string): void;
}

const herd = (dispatch: string): Peer => ({
  id: `herd ${dispatch}`,
  start: (port, dir) => spawnGroup(NODE, [HERD_DIST, 'serve', APP, '--workers', '2', '--dispatch', dispatch, '--host', HOST, '--port', String(port), '--control', path.join(dir, 'herd.sock')]),
  reload: (child) => process.kill(child.pid!, 'SIGHUP'),
});

const nodeCluster = (policy: 'rr' | 'none'): Peer => ({
  id: `node cluster SCHED_${policy.toUpperCase()}`,
  start: (port) => withEnv({ PORT: String(port), HOST, NODE_CLUSTER_SCHED_POLICY: policy }, () => spawnGroup(NODE, [path.join(ROOT, 'test/fixtures/apps/cluster_primary.js'), APP, '2'])),
  reload: (child) => process.kill(child.pid!, 'SIGHUP'),
});

const PM2 = path.join(ROOT, 'node_modules/pm2/bin');
const pm2: Peer = {
  id: 'PM2 cluster mode',
  // pm2-runtime keeps its daemon in the foreground process, so the workers are in its tree.
  start: (port, dir) => withEnv({ PORT: String(port), HOST, PM2_HOME: path.join(dir, 'pm2') }, () => spawnGroup(NODE, [path.join(PM2, 'pm2-runtime'), 'start', APP, '-i', '2', '--name', 'bench'])),
  reload: (_child, dir) => void execFile(NODE, [path.join(PM2, 'pm2'), 'reload', 'bench'], { env: { ...process.env, PM2_HOME: path.join(dir, 'pm2') } }),
};

const PEERS: Peer[] = [herd('reuseport'), herd('handoff'), pm2, nodeCluster('rr'), nodeCluster('none')];

function withEnv<T>(vars: Record<string, string>, run: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return run();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function answers(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const r = await fetch(url);
      if (r.status === 200) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

function treeRssBytes(root: number): number {
  let kb = 0;
  for (const pid of processTree(root)) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return kb * 1024;
}

interface Row {
  server: string;
  keepAliveCpu: number;
  keepAliveRps: number;
  closeCpu: number;
  closeRps: number;
  rssMiB: number;
  processes: number;
  reloadFailed: number;
  reloadRequests: number;
}

async function measure(peer: Peer, dir: string): Promise<Row> {
  const port = await freePort(HOST);
  const url = `http://${HOST}:${port}/`;
  const child = peer.start(port, dir);
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  try {
    await answers(url, 30_000).catch((err: Error) => {
      throw new Error(`${peer.id}: ${err.message}\n${output}`);
    });
    const run = async (close: boolean) => {
      await runWrk(url, { seconds: 1, connections: CONNECTIONS, close }); // JIT, connections
      const before = treeCpuMicros(child.pid!);
      const wrk = await runWrk(url, { seconds: SECONDS, connections: CONNECTIONS, close });
      return { cpu: (treeCpuMicros(child.pid!) - before) / wrk.requests, rps: wrk.rps };
    };
    const keepAlive = await run(false);
    const rssMiB = treeRssBytes(child.pid!) / 2 ** 20;
    const processes = processTree(child.pid!).length;
    const close = await run(true);
    // A rolling reload 1.5 s into a connection-per-request run; every failed request counts.
    const reloadRun = runWrk(url, { seconds: SECONDS + 2, connections: CONNECTIONS, close: true });
    setTimeout(() => peer.reload(child, dir), 1500);
    const reload = await reloadRun;
    return {
      server: peer.id, keepAliveCpu: keepAlive.cpu, keepAliveRps: keepAlive.rps, closeCpu: close.cpu, closeRps: close.rps,
      rssMiB, processes, reloadFailed: reload.errors, reloadRequests: reload.requests,
    };
  } finally {
    await stopGroup(child, 5000);
  }
}

const AB_SLICES = Math.max(4, Number(process.env.BENCH_AB_SLICES ?? 12));

/** Both servers running at once; herd bench --vs loads A (the peer) and B (herd) in alternating slices, keep-alive. */
async function keepAliveSideBySide(a: Peer, b: Peer, dir: string): Promise<Pick<ComparisonResult, 'figures'>> {
  const [portA, portB] = [await freePort(HOST), await freePort(HOST)];
  const urlA = `http://${HOST}:${portA}/`;
  const urlB = `http://${HOST}:${portB}/`;
  const childA = a.start(portA, dir);
  const childB = b.start(portB, dir);
  try {
    await Promise.all([answers(urlA, 30_000), answers(urlB, 30_000)]);
    const args = [HERD_DIST, 'bench', '-k', '-2', '-c', String(CONNECTIONS), '--vs', urlB, '--slices', String(AB_SLICES), '--slice-seconds', '3',
      '--server-pid', `A=${childA.pid},B=${childB.pid}`, '--json', urlA];
    const out = await new Promise<string>((resolve, reject) =>
      execFile(NODE, args, { maxBuffer: 64 * 2 ** 20, timeout: (AB_SLICES * 2 * 3 + 60) * 1000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))));
    return JSON.parse(out);
  } finally {
    await Promise.all([stopGroup(childA, 5000), stopGroup(childB, 5000)]);
  }
}

requireWrk();
execFileSync(NODE, [path.join(ROOT, 'scripts/build.ts')], { stdio: 'inherit' });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-bench-peers-'));
try {
  console.log(
    `bench:peers — the same Express app, 2 workers each; wrk -t1 -c${CONNECTIONS} -d${SECONDS}s; median of ${ROUNDS} interleaved round${ROUNDS === 1 ? '' : 's'}; ` +
      `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Linux ${os.release()}, Node ${process.version}`,
  );
  const rounds: Row[][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Each round starts one peer later: a peer's place in the round carries what the one before
    // left behind (hundreds of thousands of TIME_WAIT sockets from its reload run, whose timers
    // later fire in whatever process runs), so no peer keeps the same place.
    const rows: Row[] = new Array(PEERS.length);
    for (let i = 0; i < PEERS.length; i++) {
      const k = (i + r) % PEERS.length;
      const row = await measure(PEERS[k], dir);
      console.log(`  round ${r + 1}: ${row.server}: keep-alive ${row.keepAliveCpu.toFixed(1)} µs, per connection ${row.closeCpu.toFixed(1)} µs, reload failed ${row.reloadFailed}`);
      rows[k] = row;
    }
    rounds.push(rows);
  }
  const rows = PEERS.map((peer, k) => {
    const runs = rounds.map((round) => round[k]);
    const m = (f: (r: Row) => number) => median(runs.map(f));
    return {
      server: peer.id, keepAliveCpu: m((r) => r.keepAliveCpu), keepAliveRps: m((r) => r.keepAliveRps), closeCpu: m((r) => r.closeCpu),
      closeRps: m((r) => r.closeRps), rssMiB: m((r) => r.rssMiB), processes: runs[0].processes,
      reloadFailed: runs.reduce((s, r) => s + r.reloadFailed, 0), reloadRequests: runs.reduce((s, r) => s + r.reloadRequests, 0),
    };
  });
  const of = (id: string) => rows.find((r) => r.server === id)!;
  const cluster = of('node cluster SCHED_RR');
  const pm2Row = of('PM2 cluster mode');
  console.log('\n| server | keep-alive CPU µs/req | vs cluster RR | keep-alive req/s | per-connection CPU µs/req | vs PM2 | per-connection req/s | RSS MiB (processes) | failed across reload |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.server} | ${r.keepAliveCpu.toFixed(1)} | ${(r.keepAliveCpu / cluster.keepAliveCpu).toFixed(2)}x | ${r.keepAliveRps.toFixed(0)} | ${r.closeCpu.toFixed(1)} | ` +
        `${(r.closeCpu / pm2Row.closeCpu).toFixed(2)}x | ${r.closeRps.toFixed(0)} | ${r.rssMiB.toFixed(0)} (${r.processes}) | ${r.reloadFailed} of ${r.reloadRequests} |`,
    );
  }
  // The targets from each round's own ratio (herd bench --vs's statistics): a round's servers ran
  // back to back, so their ratio is steadier than the ratio of two medians.
  const column = (id: string, f: (r: Row) => number) => rounds.map((round) => f(round[PEERS.findIndex((p) => p.id === id)]));
  const target = (figure: (r: Row) => number, peer: string, limit: number) => {
    const c = compareFigure(column(peer, figure), column('herd reuseport', figure));
    return `${c.ratio.toFixed(2)}x ${peer} (rounds ${c.min.toFixed(2)}–${c.max.toFixed(2)}; target ≤ ${limit}x: ${c.ratio <= limit ? 'met' : 'not met'})`;
  };
  console.log('\ntargets, herd reuseport, median of the rounds\' own ratios:');
  console.log(`- keep-alive CPU per request: ${target((r) => r.keepAliveCpu, 'node cluster SCHED_RR', 1.05)}, ${target((r) => r.keepAliveCpu, 'node cluster SCHED_NONE', 1.05)}`);
  // A round measures its servers a minute apart, and this machine drifts by more than 5 % in a
  // minute. herd bench --vs loads two servers running side by side in alternating 3 s slices: the
  // keep-alive target is judged on that.
  for (const policy of ['rr', 'none'] as const) {
    const ab = await keepAliveSideBySide(nodeCluster(policy), herd('reuseport'), dir);
    const c = ab.figures.serverCpuMicrosPerRequest;
    console.log(`- keep-alive CPU per request, side by side (herd bench --vs, ${AB_SLICES} slice pairs of 3 s): herd reuseport ${c.ratio.toFixed(2)}x ${nodeCluster(policy).id} ` +
      `(95 % interval ${c.low.toFixed(2)}–${c.high.toFixed(2)}, pairs ${c.min.toFixed(2)}–${c.max.toFixed(2)}; target ≤ 1.05x: ${c.ratio <= 1.05 ? 'met' : 'not met'})`);
  }
  console.log(`- CPU per new connection: ${target((r) => r.closeCpu, 'PM2 cluster mode', 0.5)}`);
  console.log(`- failed across a reload: herd reuseport ${of('herd reuseport').reloadFailed}, herd handoff ${of('herd handoff').reloadFailed} (target 0)`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
