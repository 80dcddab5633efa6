// A peer for the matrix: node's own cluster module, node:http in each worker, in either of its
// scheduling policies — SCHED_RR (the primary accepts and hands connections round-robin, like herd's
// handoff) or SCHED_NONE (the workers share the listening socket, like herd's shared dispatch).
// Usage: node cluster_peer.ts --port P --workers N --policy rr|none [--host H]
import cluster from 'node:cluster';
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    workers: { type: 'string', default: '2' },
    policy: { type: 'string', default: 'rr' },
  },
});

if (cluster.isPrimary) {
  cluster.schedulingPolicy = values.policy === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR;
  const count = Number(values.workers);
  let listening = 0;
  for (let i = 0; i < count; i++) cluster.fork();
  cluster.on('listening', () => {
    if (++listening === count) {
      console.log(`node cluster (${values.policy}) listening on http://${values.host}:${values.port} with ${count} workers`);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) console.error(`cluster worker ${worker.process.pid} exited (${signal ?? code})`);
  });
  let stopping = false;
  process.on('SIGTERM', () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const body = 'Hello, World!';
  http
    .createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.end(body);
    })
    .listen(Number(values.port), values.host);
  process.on('SIGTERM', () => process.exit(0));
}
